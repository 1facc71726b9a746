import type { Secret } from '../../secret.js';

/** Dotdigital tuning that applies whether it runs live or in the sandbox. */
export interface DotdigitalOptions {
  /**
   * Unified field (dotted path such as `firstName`, `address.postalCode`, or `customFields.<key>`)
   * → Dotdigital data field name. Merged over the adapter's defaults (FIRSTNAME, LASTNAME, …).
   */
  dataFieldMap: Readonly<Record<string, string>>;
  /** Contacts per `PUT /contacts/v3/import`. @default 1000 */
  batchSize: number;
  /** Longest the gateway polls an import before reporting its contacts QUEUED. @default 20000 */
  importMaxWaitMs: number;
  /** First poll delay; doubles up to 5 s. @default 200 */
  importPollIntervalMs: number;
  /** Parallel single calls (PATCH updates, GET reads). @default 8 */
  concurrency: number;
  /**
   * Create a data field the account lacks (`POST /v2/data-fields`) before writing it, instead of
   * dropping it (`DOTDIGITAL_CREATE_DATA_FIELDS=1`). @default false
   */
  createDataFields?: boolean;
  /** How long the account's data field list (`GET /v2/data-fields`) is reused. @default 300000 */
  dataFieldsTtlMs?: number;
}

export interface DotdigitalConfig extends DotdigitalOptions {
  url: string;
  username: string;
  password: Secret;
}
