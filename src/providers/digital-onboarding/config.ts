import type { Secret } from '../../secret.js';

/** Digital Onboarding tuning that applies whether it runs live or in the sandbox. */
export interface DigitalOnboardingOptions {
  /**
   * Contacts per bulk `POST /v2/partner/contacts` (`{items}`). The docs publish no maximum; set it
   * to your account's limit. @default 100
   */
  batchSize: number;
  /** Parallel calls (bulk chunks, single PATCHes, reads). @default 8 */
  concurrency: number;
  /** Seconds before a fetched partner token's `expires_in` runs out at which it is renewed. @default 60 */
  tokenRefreshSkewSeconds?: number;
}

/** OAuth2 client credentials: the gateway fetches and renews partner tokens itself. */
export interface DigitalOnboardingClientCredentials {
  clientId: string;
  clientSecret: Secret;
  /** Token endpoint. @default `{DIGITAL_ONBOARDING_URL}/oauth2/token` */
  authUrl: string;
}

export interface DigitalOnboardingConfig extends DigitalOnboardingOptions {
  url: string;
  /**
   * A partner token issued outside the gateway, sent as Bearer (it lasts about an hour; a 401
   * `invalid_token` then fails every write). `null` when `clientCredentials` are set.
   */
  token: Secret | null;
  /** `DIGITAL_ONBOARDING_CLIENT_ID` / `_CLIENT_SECRET` / `_AUTH_URL`; wins over `token`. */
  clientCredentials?: DigitalOnboardingClientCredentials | null;
}
