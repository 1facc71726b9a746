import type { Secret } from '../../secret.js';

/** Where a unified field goes in Salesforce Marketing Cloud's Contact Builder data model. */
export interface SalesforceMcAttributeTarget {
  /** Attribute set (attribute group) name, e.g. `Email Demographics`. */
  set: string;
  /** Attribute name inside that set, e.g. `First Name`. */
  attribute: string;
}

/** Salesforce Marketing Cloud tuning that applies whether it runs live or in the sandbox. */
export interface SalesforceMcOptions {
  /**
   * What becomes the `contactKey` of a new contact: `externalId` uses the external id and falls
   * back to the email; `email` always uses the email. A linked contact keeps its key (remote id).
   * @default 'externalId'
   */
  contactKey: 'externalId' | 'email';
  /**
   * Unified field (`firstName`, `address.city`, `customFields.<key>` …) → attribute set and
   * attribute. Merged over the adapter's defaults; `null` removes a default. `email`, `phone` and
   * `emailFormat` are channel attributes with fixed places and cannot be remapped.
   */
  attributeMap: Readonly<Record<string, SalesforceMcAttributeTarget | null>>;
  /** Parallel single calls (the Contacts API writes one contact per request). @default 8 */
  concurrency: number;
  /** Emails per `POST /contacts/v1/addresses/email/search`. @default 50 */
  searchBatchSize: number;
  /** MobileConnect `Locale` (country code) when neither the number nor the address gives one. @default 'US' */
  defaultLocale: string;
  /** Seconds before `expires_in` runs out at which a cached token is renewed. @default 60 */
  tokenRefreshSkewSeconds: number;
  /**
   * Look an unlinked contact key up (`POST /contacts/v1/addresses/search/ContactKey`, scope
   * `audiences_read`) before creating it, so that an existing contact is PATCHed and keeps its
   * HTML Enabled and MobileConnect Status (`SFMC_KEY_LOOKUP`). Off: POST at once (one call less;
   * the create defaults then overwrite those values of a contact made elsewhere). @default true
   */
  keyLookup?: boolean;
}

export interface SalesforceMcConfig extends SalesforceMcOptions {
  /** Tenant auth base, e.g. `https://{subdomain}.auth.marketingcloudapis.com`. */
  authUrl: string;
  clientId: string;
  clientSecret: Secret;
  /** MID of the business unit to act in; `null` = the one that owns the installed package. */
  accountId: string | null;
}
