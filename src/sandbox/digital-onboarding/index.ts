/**
 * Loopback emulator of the Digital Onboarding partner contacts API v2 (facts: its
 * partner API documentation, cited as DO-x; seeds 000 = DO-1, 001 = DO-2).
 *
 * Endpoints: `POST /v2/partner/contacts` (one contact or `{items}` bulk upsert),
 * `PATCH|GET|DELETE /v2/partner/contacts/{id}`, `GET /v2/partner/contacts?unique_id=&email=`,
 * plus the shared `/__sandbox/*` controls (request log, faults, latency).
 *
 * Documented behaviour followed: paths and scopes (`partner:contacts:read|write|delete`), 401
 * `scope_missing` with `meta.required_scope`, the `{errors:[{code,title,detail,meta}]}` envelope,
 * `X-Operator-Override` grammar and flags (`destructive`, `bulk`, `force`,
 * `bypass_validation=email_format|phone_format`, `dry_run` + `X-Dry-Run: true`), 403
 * `override_required` / `bulk_override_required` (row count in meta), 201 Created, PATCH 200,
 * field formats (UUID ids, `YYYY-MM-DD` birthdate, IANA timezone with offsets refused, RFC 3339
 * timestamps). Every decision taken where the docs are silent is written where it is made
 * (`routes.ts`, `store.ts`, `contact.ts`, `access.ts`).
 */
import type { StartedSandbox } from '../shared/server.js';
import { startSandboxServer } from '../shared/server.js';
import { ALL_CONTACT_SCOPES, TokenRegistry } from './access.js';
import { TokenIssuer } from './oauth.js';
import { createDigitalOnboardingHandler } from './routes.js';
import { DigitalOnboardingStore } from './store.js';

export type { OverrideFlag, Validator } from './access.js';
export { CONTACT_SCOPES, OVERRIDE_FLAGS, VALIDATORS } from './access.js';
export type { DigitalOnboardingContact } from './contact.js';
export type { DoError } from './errors.js';
export { DEFAULT_TOKEN_LIFETIME_SECONDS, TOKEN_PATH } from './oauth.js';
export { CONTACTS_PATH } from './routes.js';
export { DigitalOnboardingStore, IDEMPOTENCY_TTL_MS } from './store.js';

/**
 * Items per bulk upsert. DO publishes no number (DO-1, DO-OVR: the bulk threshold "is not
 * published"); 100 is the sandbox's choice.
 */
export const DIGITAL_ONBOARDING_MAX_BULK_ITEMS = 100;

export interface DigitalOnboardingSandboxOptions {
  /** The partner bearer token accepted, with every contact scope (read, write, delete). */
  token: string;
  /**
   * The OAuth client `POST /oauth2/token` issues partner tokens to (every contact scope, one hour
   * unless `setTokenLifetime` says otherwise). Without it the token endpoint refuses every client.
   */
  client?: { id: string; secret: string };
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 0 (an ephemeral port) */
  port?: number;
  /**
   * Max items per bulk request. DO publishes none, so the sandbox chooses.
   * @default DIGITAL_ONBOARDING_MAX_BULK_ITEMS (100)
   */
  maxBulkItems?: number;
}

export interface DigitalOnboardingSandbox extends StartedSandbox {
  /** The sandbox's data: `get(id)`, `findByUniqueId`, `findByEmail`, `all()`, `size`, `clear()`, `teamId`. */
  readonly store: DigitalOnboardingStore;
  /**
   * Adds (or replaces) a token with these scopes, e.g.
   * `addToken('read-only-token', ['partner:contacts:read'])`. Wildcards as in DO-AUTH
   * (`partner:contacts:*`). A new token may use every override flag until `setAllowedOverrides`.
   */
  addToken(token: string, scopes: string[]): void;
  /**
   * The `X-Operator-Override` flags this token may use; others answer 403 `scope_insufficient`.
   * Entries are flag names, or `bypass_validation=<validator>` for one validator only.
   * Default (never called): every documented flag. Throws for an unknown token or flag.
   */
  setAllowedOverrides(token: string, flags: string[]): void;
  readonly maxBulkItems: number;
  /** Life in seconds of the tokens `POST /oauth2/token` issues from now on. @default 3600 */
  setTokenLifetime(seconds: number): void;
  /** Ends the life of one issued token, or of every issued token: they then answer 401 invalid_token. */
  expireToken(token?: string): void;
  /** Tokens `POST /oauth2/token` has issued so far. */
  readonly tokensIssued: number;
  /** Whether the OAuth client was revoked (its credentials were sent in a query string). */
  readonly clientRevoked: boolean;
}

/** Starts the emulator on a real loopback port with an empty in-memory team. */
export async function startDigitalOnboardingSandbox(
  opts: DigitalOnboardingSandboxOptions,
): Promise<DigitalOnboardingSandbox> {
  if (opts.token === '') {
    throw new TypeError('startDigitalOnboardingSandbox: token must be non-empty');
  }
  const maxBulkItems = opts.maxBulkItems ?? DIGITAL_ONBOARDING_MAX_BULK_ITEMS;
  if (!Number.isInteger(maxBulkItems) || maxBulkItems < 1) {
    throw new RangeError('startDigitalOnboardingSandbox: maxBulkItems must be a positive integer');
  }
  const store = new DigitalOnboardingStore();
  const tokens = new TokenRegistry();
  tokens.add(opts.token, ALL_CONTACT_SCOPES);
  const issuer = new TokenIssuer(opts.client ?? null, tokens);
  const started = await startSandboxServer({
    name: 'digital-onboarding',
    handler: createDigitalOnboardingHandler({ store, tokens, maxBulkItems, issuer }),
    host: opts.host,
    port: opts.port,
  });
  return {
    ...started,
    store,
    maxBulkItems,
    addToken: (token, scopes) => tokens.add(token, scopes),
    setAllowedOverrides: (token, flags) => tokens.setAllowedOverrides(token, flags),
    setTokenLifetime: (seconds) => issuer.setLifetime(seconds),
    expireToken: (token) => issuer.expire(token),
    get tokensIssued() {
      return issuer.issued;
    },
    get clientRevoked() {
      return issuer.clientRevoked;
    },
  };
}
