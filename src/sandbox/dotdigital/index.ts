import type { StartedSandbox } from '../shared/server.js';
import { startSandboxServer } from '../shared/server.js';
import { ImportQueue } from './imports.js';
import type { RateLimits } from './rate-limit.js';
import { TieredRateLimiter } from './rate-limit.js';
import { createDotdigitalHandler } from './routes.js';
import { DotdigitalStore } from './store.js';

export type {
  ContactStatus,
  DotdigitalContact,
  EmailStatus,
  EmailType,
  OptInType,
} from './contact.js';
export type { DataField, DataFieldType } from './data-fields.js';
export { DataFieldRegistry, DEFAULT_DATA_FIELDS } from './data-fields.js';
export type { IdentifierName } from './identifiers.js';
export type { FinishedImport, ImportFailure, ImportReference, ImportStatus } from './imports.js';
export { GLOBALLY_SUPPRESSED_DOMAIN, MAX_ACTIVE_IMPORTS } from './imports.js';
export type { RateLimits, RateLimitTier, TierLimit } from './rate-limit.js';
export type { DotdigitalStoreOptions } from './store.js';
export { DotdigitalStore } from './store.js';

export interface DotdigitalSandboxOptions {
  /** The only Basic-auth user accepted (a real API user looks like `apiuser-…@apiconnector.com`). */
  username: string;
  password: string;
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 0 (an ephemeral port) */
  port?: number;
  /**
   * How long an import stays `NotFinished` before it becomes `Finished`.
   * @default 50
   */
  importProcessingMs?: number;
}

export interface DotdigitalSandbox extends StartedSandbox {
  /**
   * The account's contacts, for inspection: `get(identifier, value)`, `getByEmail`,
   * `getByMobileNumber`, `getByContactId` (binned contacts too, with status `binned`), `all()`,
   * `size`, `delete(identifier, value)` (to the recycle bin), `clear()`.
   */
  readonly store: DotdigitalStore;
  /** Applies to imports accepted from now on. */
  setImportProcessingMs(ms: number): void;
  /** Tiered rate limiting, off by default. null switches it off. Keys are tiers. */
  setRateLimits(
    limits: Partial<Record<'Low' | 'Medium' | 'High', { limit: number; windowMs: number }>> | null,
  ): void;
}

/** DD-3: an import body may be up to 50 MB (read as MiB). */
const MAX_BODY_BYTES = 50 * 1024 * 1024;

/**
 * Starts a loopback emulator of Dotdigital's API v3 contacts service (DD-OAS 3.4.3; see
 * `routes.ts` for the endpoints) with in-memory storage.
 *
 * Sandbox conventions a real account does not have:
 * - every list and preference id exists; no custom identifiers exist; the data fields are
 *   `DEFAULT_DATA_FIELDS` (FIRSTNAME, LASTNAME, FULLNAME, GENDER, POSTCODE, LASTSUBSCRIBED) plus
 *   those created through `POST /v2/data-fields` or `store.dataFields.add`;
 * - contactIds are sequential from 1001;
 * - in a bulk import, an email at `suppressed.example` (`GLOBALLY_SUPPRESSED_DOMAIN`) is
 *   globally suppressed: that contact fails with `globallySuppressed`, so tests can produce a
 *   rejected contact with a syntactically valid address;
 * - rate limiting is off until `setRateLimits` sets budgets.
 */
export async function startDotdigitalSandbox(
  opts: DotdigitalSandboxOptions,
): Promise<DotdigitalSandbox> {
  if (opts.username === '' || opts.password === '') {
    throw new TypeError('startDotdigitalSandbox: username and password must be non-empty');
  }
  let importProcessingMs = checkProcessingMs(opts.importProcessingMs ?? 50);
  const store = new DotdigitalStore();
  const imports = new ImportQueue(store);
  const limiter = new TieredRateLimiter();
  const handler = createDotdigitalHandler({
    username: opts.username,
    password: opts.password,
    store,
    imports,
    limiter,
    importProcessingMs: () => importProcessingMs,
  });
  const started = await startSandboxServer({
    name: 'dotdigital',
    handler,
    maxBodyBytes: MAX_BODY_BYTES,
    host: opts.host,
    port: opts.port,
  });
  return {
    ...started,
    store,
    setImportProcessingMs(ms) {
      importProcessingMs = checkProcessingMs(ms);
    },
    setRateLimits(limits: RateLimits | null) {
      limiter.configure(limits);
    },
    async close() {
      imports.close();
      await started.close();
    },
  };
}

function checkProcessingMs(ms: number): number {
  if (!Number.isFinite(ms) || ms < 0) {
    throw new RangeError(`importProcessingMs must be a finite number >= 0, got ${ms}`);
  }
  return ms;
}
