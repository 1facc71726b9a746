import type { CallStats, HttpClient, HttpResponse } from '../../http/client.js';
import { clipMessage, retryAfterMs } from '../../http/status.js';
import { answeredError, UpstreamBadResponseError, type UpstreamError } from '../../model/errors.js';
import { createTokenCache, type FetchedToken, tokenLifetimeSeconds } from '../oauth.js';
import { expectStatus } from '../wire.js';
import type { SalesforceMcConfig } from './config.js';
import { OAuthErrorSchema, type TokenRequestBody, TokenResponseSchema } from './wire.js';

export const SFMC_TOKEN_PATH = '/v2/token';

export interface SfmcToken extends FetchedToken {
  accessToken: string;
  /** REST base from `rest_instance_url`, normalised: scheme, no trailing slash. */
  restUrl: string;
  /** `performance.now()` after which the token is renewed. */
  renewAt: number;
}

export interface TokenSource {
  /** A valid token: the cached one, or the one being fetched (one fetch at a time). */
  get(stats?: CallStats): Promise<SfmcToken>;
  /** Drops `accessToken` if it is still the cached one (after a 401); a newer token is kept. */
  invalidate(accessToken: string): void;
  /** The REST base of the last token, `null` before the first one. */
  readonly restUrl: string | null;
  /** Tokens fetched so far (status pages, tests). */
  readonly fetched: number;
}

/**
 * `rest_instance_url` as a base URL. Live answers carry `https://…/`, the doc sample a bare host
 * (SF-7): a missing scheme becomes https, trailing slashes go.
 */
export function normaliseRestUrl(raw: string): string {
  let value = raw.trim();
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    value = `https://${value}`;
  }
  const url = new URL(value);
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password) {
    throw new TypeError('rest_instance_url is not a plain http(s) URL');
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

export { tokenLifetimeSeconds } from '../oauth.js';

/** The token request body. `account_id` goes as a number when it is one (SF-7 types it so). */
export function tokenRequestBody(config: SalesforceMcConfig): TokenRequestBody {
  const body: TokenRequestBody = {
    grant_type: 'client_credentials',
    client_id: config.clientId,
    client_secret: config.clientSecret.reveal(),
  };
  if (config.accountId !== null) {
    body.account_id = /^\d{1,15}$/.test(config.accountId)
      ? Number(config.accountId)
      : config.accountId;
  }
  return body;
}

/** SF-7 errors are OAuth-style (`invalid_client`…); REST-style bodies are read too. */
function tokenError(res: HttpResponse): UpstreamError {
  const parsed = OAuthErrorSchema.safeParse(res.json);
  const rest = res.json as { message?: unknown } | undefined;
  const text = parsed.success
    ? [parsed.data.error, parsed.data.error_description].filter(Boolean).join(': ')
    : typeof rest?.message === 'string'
      ? rest.message
      : `HTTP ${res.status}`;
  // invalid_client / unauthorized_client / invalid_grant: the credentials, not the request.
  const credentials =
    res.status === 400 && parsed.success && /client|grant|scope|account/i.test(parsed.data.error);
  const wait = retryAfterMs(res.headers);
  return answeredError('SALESFORCE_MC', {
    ...(credentials ? { code: 'UNAUTHORIZED' } : {}),
    message: `Salesforce MC token request answered ${res.status}: ${clipMessage(text)}`,
    httpStatus: res.status,
    details: wait === null ? null : { retryAfterMs: wait },
  });
}

/**
 * Client-credentials tokens for one (client id, account id), following SF-7/SF-8, kept by the
 * shared cache of `../oauth.ts` (cached until `expires_in` minus a skew, one fetch in flight, a 401
 * drops the token only if it is still the cached one).
 */
export function createTokenSource(
  config: SalesforceMcConfig,
  http: HttpClient,
  now: () => number = () => performance.now(),
): TokenSource {
  let lastRestUrl: string | null = null;

  async function fetchToken(stats?: CallStats): Promise<SfmcToken> {
    const res = expectStatus(
      await http.request(
        { method: 'POST', path: SFMC_TOKEN_PATH, body: tokenRequestBody(config) },
        stats,
      ),
      [200],
      tokenError,
    );
    const parsed = TokenResponseSchema.safeParse(res.json);
    let restUrl: string | null = null;
    if (parsed.success) {
      try {
        restUrl = normaliseRestUrl(parsed.data.rest_instance_url);
      } catch {
        restUrl = null;
      }
    }
    if (!parsed.success || restUrl === null) {
      throw new UpstreamBadResponseError('SALESFORCE_MC', {
        message: `Salesforce MC token request answered ${res.status} without a usable access_token, expires_in and rest_instance_url`,
        httpStatus: res.status,
      });
    }
    const lifetime = tokenLifetimeSeconds(parsed.data.expires_in, config.tokenRefreshSkewSeconds);
    return {
      accessToken: parsed.data.access_token,
      restUrl,
      renewAt: now() + lifetime * 1000,
      expiresInSeconds: parsed.data.expires_in,
    };
  }

  const cache = createTokenCache(fetchToken, { skewSeconds: config.tokenRefreshSkewSeconds, now });
  return {
    async get(stats) {
      const token = await cache.get(stats);
      lastRestUrl = token.restUrl;
      return token;
    },
    invalidate: (accessToken) => cache.invalidate(accessToken),
    get restUrl() {
      return lastRestUrl;
    },
    get fetched() {
      return cache.fetched;
    },
  };
}
