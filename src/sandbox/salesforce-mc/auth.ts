/**
 * The auth host: `POST /v2/token` with the client-credentials grant of enhanced packages (SF-7),
 * and the bearer-token check the REST host applies (SF-10).
 */

import { randomBytes } from 'node:crypto';
import type { RecordedRequest, SandboxResponse } from '../shared/types.js';

import { ErrorCode, isRecord, json, oauthError, restError } from './wire.js';

export const TOKEN_PATH = '/v2/token';

/** SF-7: `expires_in` is ~1080 s (18 min) although the real lifetime is 20 min. */
export const DEFAULT_TOKEN_TTL_SECONDS = 1080;

export const SCOPE_READ = 'list_and_subscribers_read';
export const SCOPE_WRITE = 'list_and_subscribers_write';

/**
 * The scopes of the sandbox's one installed package. SF-7: omitting `scope` grants them all,
 * `scope: ""` grants none. A requested scope the package lacks is left out of the token (SF-7 is
 * silent; the sandbox does not fail the request), and `scope` in the answer says what was granted.
 */
const PACKAGE_SCOPES: readonly string[] = [
  SCOPE_READ,
  SCOPE_WRITE,
  'audiences_read',
  'audiences_write',
  'data_extensions_read',
  'data_extensions_write',
];

interface IssuedToken {
  readonly expiresAt: number;
  readonly scopes: ReadonlySet<string>;
}

export type TokenCheck =
  | { ok: true; scopes: ReadonlySet<string> }
  | { ok: false; reason: 'missing' | 'invalid' | 'expired' | 'not-in-header' };

export class TokenIssuer {
  private readonly tokens = new Map<string, IssuedToken>();
  private issuedCount = 0;
  private ttl: number;

  constructor(ttlSeconds: number) {
    this.ttl = checkTtl(ttlSeconds);
  }

  get issued(): number {
    return this.issuedCount;
  }

  get ttlSeconds(): number {
    return this.ttl;
  }

  /** Applies to tokens issued from now on; each token keeps the lifetime it was issued with. */
  setTtlSeconds(seconds: number): void {
    this.ttl = checkTtl(seconds);
  }

  /**
   * SF-7 says the real lifetime (20 min) exceeds `expires_in` (~18 min). The sandbox expires a token
   * exactly `expires_in` seconds after issuing it, so a client that ignores `expires_in` is caught.
   */
  issue(
    scopes: ReadonlySet<string>,
    now: number = Date.now(),
  ): { token: string; expiresIn: number } {
    // SF-7: access tokens are opaque strings of at most 512 characters.
    const token = `sfmc-sandbox.${randomBytes(32).toString('base64url')}`;
    this.tokens.set(token, { expiresAt: now + this.ttl * 1000, scopes });
    this.issuedCount++;
    return { token, expiresIn: this.ttl };
  }

  expireAll(): void {
    this.tokens.clear();
  }

  /** SF-10: the token goes in `Authorization: Bearer …` (scheme matched case-insensitively). */
  check(req: RecordedRequest, now: number = Date.now()): TokenCheck {
    const header = req.headers['authorization'];
    if (header === undefined || header.trim() === '') {
      return req.query['access_token'] === undefined
        ? { ok: false, reason: 'missing' }
        : { ok: false, reason: 'not-in-header' };
    }
    const match = /^bearer\s+(\S+)\s*$/i.exec(header);
    const token = match?.[1];
    const issued = token === undefined ? undefined : this.tokens.get(token);
    if (token === undefined || issued === undefined) {
      return { ok: false, reason: 'invalid' };
    }
    if (now >= issued.expiresAt) {
      this.tokens.delete(token);
      return { ok: false, reason: 'expired' };
    }
    return { ok: true, scopes: issued.scopes };
  }
}

function checkTtl(seconds: number): number {
  if (!Number.isSafeInteger(seconds) || seconds < 1) {
    throw new RangeError(`token TTL must be a whole number of seconds ≥ 1, got ${seconds}`);
  }
  return seconds;
}

/**
 * The REST answer to a failed token check. SF-10: 401 with errorcode 0 for a missing, invalid or
 * expired token, 40004 when the token came in the URL. The message is not documented; the sandbox
 * sends "Not Authorized". The `WWW-Authenticate` header follows RFC 6750 and is what
 * FuelSDK-Node-REST tests (`/^Bearer\s.+?invalid_token/`) before refreshing once (SF-REST).
 */
export function tokenFailure(reason: Exclude<TokenCheck, { ok: true }>['reason']): SandboxResponse {
  if (reason === 'not-in-header') {
    return restError(
      401,
      ErrorCode.tokenNotInHeader,
      'Pass the access token in the Authorization header, not in the URL or body.',
      { 'www-authenticate': 'Bearer realm="marketingcloudapis.com", error="invalid_request"' },
    );
  }
  const challenge =
    reason === 'missing'
      ? 'Bearer realm="marketingcloudapis.com"'
      : `Bearer realm="marketingcloudapis.com", error="invalid_token", error_description="${
          reason === 'expired' ? 'The access token expired' : 'The access token is invalid'
        }"`;
  return restError(401, ErrorCode.notAuthorized, 'Not Authorized', {
    'www-authenticate': challenge,
  });
}

export interface TokenEndpointOptions {
  clientId: string;
  clientSecret: string;
  /** The only MID accepted in `account_id`; undefined accepts any. */
  accountId: string | undefined;
  issuer: TokenIssuer;
  /** The server's base URL (known once it listens). */
  baseUrl: () => string;
}

/**
 * `POST /v2/token`. Checks run in this order: body, grant_type, client, account_id, scope.
 * SF-7 documents only the JSON body; the sandbox also takes RFC 6749's form encoding.
 */
export function handleTokenRequest(
  req: RecordedRequest,
  opts: TokenEndpointOptions,
): SandboxResponse {
  const params = tokenParams(req);
  if (params === undefined) {
    return oauthError(400, 'invalid_request', 'The request body must be a JSON object.');
  }
  const grantType = params['grant_type'];
  if (grantType === undefined || grantType === null || grantType === '') {
    return oauthError(400, 'invalid_request', 'The "grant_type" parameter is required.');
  }
  if (grantType !== 'client_credentials') {
    // SF-7 has no example for this case; the error code is RFC 6749 §5.2's.
    return oauthError(
      400,
      'unsupported_grant_type',
      'Use "client_credentials" as the value for the "grant_type" parameter.',
    );
  }
  // SF-7's 401 example: `invalid_client`, "Invalid client ID. …". The secret's wording is the
  // sandbox's.
  if (params['client_id'] !== opts.clientId) {
    return oauthError(
      401,
      'invalid_client',
      'Invalid client ID. Use the client ID in Marketing Cloud Installed Packages.',
    );
  }
  if (params['client_secret'] !== opts.clientSecret) {
    return oauthError(
      401,
      'invalid_client',
      'Invalid client secret. Use the client secret in Marketing Cloud Installed Packages.',
    );
  }
  const accountId = params['account_id'];
  if (accountId !== undefined && accountId !== null) {
    // SF-7: a number, though the doc's own example sends "12345"; both are accepted.
    const mid = parseMid(accountId);
    if (mid === undefined) {
      return oauthError(
        400,
        'invalid_request',
        'The "account_id" parameter must be the MID of a business unit (a number).',
      );
    }
    // SF-7: omitting account_id means the BU that owns the package, which is the sandbox's one
    // account, so only a different MID fails. The error code is the sandbox's choice (RFC 6749
    // `unauthorized_client`) in the documented OAuth body shape.
    if (opts.accountId !== undefined && mid !== BigInt(opts.accountId)) {
      return oauthError(
        401,
        'unauthorized_client',
        `The client is not authorized for account ${mid}. Use the MID of a business unit the installed package has access to.`,
      );
    }
  }
  const scope = params['scope'];
  if (scope !== undefined && scope !== null && typeof scope !== 'string') {
    return oauthError(
      400,
      'invalid_request',
      'The "scope" parameter must be a space-separated string.',
    );
  }
  const granted =
    scope === undefined || scope === null
      ? new Set(PACKAGE_SCOPES)
      : new Set(scope.split(/\s+/).filter((s) => PACKAGE_SCOPES.includes(s)));
  const { token, expiresIn } = opts.issuer.issue(granted);
  const base = `${opts.baseUrl()}/`;
  // SF-7 field order. Real answers carry `https://…/` instance URLs with a trailing slash; the
  // sandbox's REST and SOAP "instances" are this same server.
  return json(
    200,
    {
      access_token: token,
      token_type: 'Bearer',
      expires_in: expiresIn,
      scope: [...granted].join(' '),
      soap_instance_url: base,
      rest_instance_url: base,
    },
    { 'cache-control': 'no-store' },
  );
}

function tokenParams(req: RecordedRequest): Record<string, unknown> | undefined {
  const contentType = (req.headers['content-type'] ?? '').toLowerCase();
  if (contentType.startsWith('application/x-www-form-urlencoded')) {
    return Object.fromEntries(new URLSearchParams(req.rawBody));
  }
  return isRecord(req.body) ? req.body : undefined;
}

function parseMid(value: unknown): bigint | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) {
    return BigInt(value);
  }
  if (typeof value === 'string' && /^\d+$/.test(value.trim())) {
    const mid = BigInt(value.trim());
    return mid > 0n ? mid : undefined;
  }
  return undefined;
}
