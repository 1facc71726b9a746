import type { StartedSandbox } from '../shared/server.js';
import { startSandboxServer } from '../shared/server.js';
import { DEFAULT_TOKEN_TTL_SECONDS, TokenIssuer } from './auth.js';
import { createSalesforceMcHandler } from './routes.js';
import { SalesforceMcStore } from './store.js';
import type { ThrottleSettings } from './throttle.js';
import { Throttle } from './throttle.js';

export type { AttributeSets, AttributeValue } from './attribute-sets.js';
export { ATTRIBUTE_SET_NAMES } from './attribute-sets.js';
export { DEFAULT_TOKEN_TTL_SECONDS, TOKEN_PATH } from './auth.js';
export { CONTACTS_PATH, DELETE_PATH, EMAIL_SEARCH_PATH } from './routes.js';
export type { SalesforceMcContact } from './store.js';
export { SalesforceMcStore } from './store.js';
export type { ThrottleSettings } from './throttle.js';

export interface SalesforceMcSandboxOptions {
  /** The only client `POST /v2/token` accepts. */
  clientId: string;
  clientSecret: string;
  /**
   * The MID of the sandbox's business unit. When set, a token request that names another
   * `account_id` (number or numeric string) is refused with 401; omitting `account_id` is fine
   * (SF-7: it then means the package's own BU). @default any account_id is accepted
   */
  accountId?: string | undefined;
  /** @default '127.0.0.1' */
  host?: string | undefined;
  /** @default 0 (an ephemeral port) */
  port?: number | undefined;
  /**
   * `expires_in` of issued tokens; tokens really stop working after this many seconds.
   * @default 1080 (SF-7)
   */
  tokenTtlSeconds?: number | undefined;
}

/**
 * ONE server serves both auth and REST; `url` is the auth base (what SFMC_AUTH_URL points at).
 * `rest_instance_url` in the token answer is `${url}/` (with trailing slash, as real samples show).
 * `controls.reset()` leaves contacts, tokens, the TTL and the throttle as they are.
 */
export interface SalesforceMcSandbox extends StartedSandbox {
  /** The sandbox's contacts, for inspection: `get(contactKey)`, `all()`, `size`, `clear()`. */
  readonly store: SalesforceMcStore;
  /** `expires_in` and lifetime of tokens issued from now on (whole seconds ≥ 1). */
  setTokenTtlSeconds(s: number): void;
  /** Make every token issued so far invalid (next REST call → 401). */
  expireTokens(): void;
  /**
   * Throttling: at most `limit` REST calls per `windowMs` (all endpoints); over → 429 with
   * Retry-After (seconds) and the documented REST error body. null = off (default).
   */
  setThrottle(t: ThrottleSettings | null): void;
  /** How many tokens were issued (tests assert one refresh). */
  readonly tokensIssued: number;
}

/**
 * Starts a loopback emulator of Salesforce Marketing Cloud's auth host (`POST /v2/token`) and
 * Contacts REST API (`/contacts/v1/…`) on one server, with in-memory storage, answering with the
 * status codes and bodies Salesforce documents (cited as SF-x).
 */
export async function startSalesforceMcSandbox(
  opts: SalesforceMcSandboxOptions,
): Promise<SalesforceMcSandbox> {
  if (opts.clientId === '' || opts.clientSecret === '') {
    throw new TypeError('startSalesforceMcSandbox: clientId and clientSecret must be non-empty');
  }
  if (opts.accountId !== undefined && !/^\d+$/.test(opts.accountId)) {
    throw new TypeError('startSalesforceMcSandbox: accountId must be a numeric MID');
  }
  const store = new SalesforceMcStore();
  const issuer = new TokenIssuer(opts.tokenTtlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS);
  const throttle = new Throttle();
  let baseUrl = '';
  const handler = createSalesforceMcHandler({
    clientId: opts.clientId,
    clientSecret: opts.clientSecret,
    accountId: opts.accountId,
    issuer,
    baseUrl: () => baseUrl,
    store,
    throttle,
  });
  const started = await startSandboxServer({
    name: 'salesforce-mc',
    handler,
    host: opts.host,
    port: opts.port,
  });
  baseUrl = started.url;
  return {
    ...started,
    store,
    get tokensIssued() {
      return issuer.issued;
    },
    setTokenTtlSeconds: (s) => issuer.setTtlSeconds(s),
    expireTokens: () => issuer.expireAll(),
    setThrottle: (t) => throttle.set(t),
  };
}
