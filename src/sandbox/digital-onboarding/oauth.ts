/**
 * The partner token endpoint (DO-AUTH: "Partner token — OAuth2 client_credentials, one per team,
 * 1 h, refreshable"; DO-V1 "API Access": `POST /oauth2/token`, body `grant_type=client_credentials`,
 * `client_id` and `client_secret` in HTTP Basic auth or in the POST body; credentials passed in the
 * query string are revoked at once; an expired token answers 401 `{"error": "invalid_token"}`).
 *
 * Sandbox decisions where the docs are silent: the answer is the RFC 6749 §5.1 shape
 * `{access_token, token_type: "Bearer", expires_in, scope}`; errors are RFC 6749 §5.2
 * (`invalid_request`, `invalid_client`, `unsupported_grant_type`); the body may be
 * `application/x-www-form-urlencoded` (RFC 6749) or JSON; the query-string refusal is a 400
 * `invalid_request` and the client stays revoked for the sandbox's life.
 */

import { randomBytes } from 'node:crypto';
import type { RecordedRequest, SandboxResponse } from '../shared/types.js';

import type { TokenRegistry } from './access.js';
import { ALL_CONTACT_SCOPES } from './access.js';

export const TOKEN_PATH = '/oauth2/token';

/** DO-AUTH: partner tokens live one hour. */
export const DEFAULT_TOKEN_LIFETIME_SECONDS = 3600;

function oauthError(status: number, error: string, description: string): SandboxResponse {
  return {
    status,
    headers: {
      'cache-control': 'no-store',
      ...(status === 401 ? { 'www-authenticate': 'Basic realm="digital-onboarding"' } : {}),
    },
    body: { error, error_description: description },
  };
}

function formOrJson(req: RecordedRequest): Record<string, string> {
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (type.includes('json')) {
    const out: Record<string, string> = {};
    if (req.body && typeof req.body === 'object' && !Array.isArray(req.body)) {
      for (const [k, v] of Object.entries(req.body as Record<string, unknown>)) {
        if (typeof v === 'string') {
          out[k] = v;
        }
      }
    }
    return out;
  }
  return Object.fromEntries(new URLSearchParams(req.rawBody));
}

function basicCredentials(header: string | undefined): { id: string; secret: string } | null {
  const m = /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(header ?? '');
  if (!m) {
    return null;
  }
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) {
    return null;
  }
  return {
    id: decodeURIComponent(decoded.slice(0, colon)),
    secret: decodeURIComponent(decoded.slice(colon + 1)),
  };
}

/** Issues partner tokens to one client and remembers when each expires. */
export class TokenIssuer {
  private readonly expiresAt = new Map<string, number>();
  private lifetimeSeconds = DEFAULT_TOKEN_LIFETIME_SECONDS;
  private revoked = false;
  private issuedCount = 0;

  constructor(
    private readonly client: { id: string; secret: string } | null,
    private readonly tokens: TokenRegistry,
  ) {}

  /** Tokens issued so far. */
  get issued(): number {
    return this.issuedCount;
  }

  /** Whether the client was revoked (its credentials went in a query string). */
  get clientRevoked(): boolean {
    return this.revoked;
  }

  setLifetime(seconds: number): void {
    if (!Number.isInteger(seconds) || seconds < 1) {
      throw new RangeError('setTokenLifetime: seconds must be a positive integer');
    }
    this.lifetimeSeconds = seconds;
  }

  /** Expires one issued token, or every issued token when none is named. */
  expire(token?: string): void {
    const now = Date.now();
    for (const t of token === undefined ? [...this.expiresAt.keys()] : [token]) {
      if (this.expiresAt.has(t)) {
        this.expiresAt.set(t, now);
      }
    }
  }

  /** An issued token whose life is over (static tokens never expire). */
  isExpired(token: string): boolean {
    const at = this.expiresAt.get(token);
    return at !== undefined && at <= Date.now();
  }

  handle(req: RecordedRequest): SandboxResponse {
    if (req.method !== 'POST') {
      return { ...oauthError(405, 'invalid_request', 'use POST'), headers: { allow: 'POST' } };
    }
    if (this.client === null) {
      return oauthError(401, 'invalid_client', 'this sandbox has no OAuth client configured');
    }
    if ('client_secret' in req.query || 'client_id' in req.query) {
      // DO-V1: credentials in the query string are revoked immediately.
      if (req.query['client_id'] === this.client.id || 'client_secret' in req.query) {
        this.revoked = true;
      }
      return oauthError(
        400,
        'invalid_request',
        'client credentials must never be sent in the query string; this client is now revoked',
      );
    }
    const body = formOrJson(req);
    const basic = basicCredentials(req.headers['authorization']);
    const id = basic?.id ?? body['client_id'];
    const secret = basic?.secret ?? body['client_secret'];
    if (body['grant_type'] !== 'client_credentials') {
      return oauthError(400, 'unsupported_grant_type', 'grant_type must be client_credentials');
    }
    if (id === undefined || secret === undefined) {
      return oauthError(
        401,
        'invalid_client',
        'send client_id and client_secret in the body or HTTP Basic',
      );
    }
    if (this.revoked || id !== this.client.id || secret !== this.client.secret) {
      return oauthError(
        401,
        'invalid_client',
        this.revoked ? 'this client was revoked' : 'unknown client or wrong secret',
      );
    }
    const token = `do_${randomBytes(24).toString('base64url')}`;
    this.tokens.add(token, ALL_CONTACT_SCOPES);
    this.expiresAt.set(token, Date.now() + this.lifetimeSeconds * 1000);
    this.issuedCount += 1;
    return {
      status: 200,
      headers: { 'cache-control': 'no-store', pragma: 'no-cache' },
      body: {
        access_token: token,
        token_type: 'Bearer',
        expires_in: this.lifetimeSeconds,
        scope: ALL_CONTACT_SCOPES.join(' '),
      },
    };
  }
}
