import type { Secret } from '../../secret.js';

/** Notifuse tuning that applies whether it runs live or in the sandbox. */
export interface NotifuseOptions {
  /** Contacts per `contacts.import` request (Notifuse writes 500 per statement). @default 500 */
  batchSize: number;
  /** unified custom field key → Notifuse column (`custom_string_1` …). Column names pass through as they are. */
  customFieldMap: Readonly<Record<string, string>>;
  /** Parallel `contacts.getByEmail` calls per read batch. @default 8 */
  readConcurrency: number;
}

export interface NotifuseConfig extends NotifuseOptions {
  url: string;
  apiKey: Secret;
  workspaceId: string;
}
