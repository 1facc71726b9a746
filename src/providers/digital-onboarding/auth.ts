/**
 * Digital Onboarding partner tokens (DO-AUTH: "OAuth2 client_credentials, per-team, 1h
 * (refreshable)"; DO-V1: `POST /oauth2/token`, `grant_type=client_credentials`, the client id and
 * secret in the POST body or HTTP Basic, never the query string — that revokes them; an expired
 * token answers 401 `{"error": "invalid_token"}`; fetch a new one lazily, not on a timer).
 *
 * Either a static `DIGITAL_ONBOARDING_TOKEN`, or client credentials with one cached token renewed
 * before its expiry (minus a skew), one refresh in flight, and one refresh + retry of a request
 * that got 401 `invalid_token`.
 */
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import {
  type CallStats,
  createHttpClient,
  type HttpClient,
  type HttpOptions,
  type HttpResponse,
} from '../../http/client.js';
import { redactText } from '../../http/redact.js';
import { clipMessage, retryAfterMs } from '../../http/status.js';
import { answeredError, UpstreamBadResponseError, type UpstreamError } from '../../model/errors.js';
import { createTokenCache, type FetchedToken, type TokenCache } from '../oauth.js';
import { expectStatus } from '../wire.js';
import type { DigitalOnboardingConfig } from './config.js';

/** DO-AUTH gives partner tokens one hour; used when a token answer has no `expires_in`. */
export const DEFAULT_TOKEN_LIFETIME_SECONDS = 3600;

const TokenAnswerSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  expires_in: z.union([z.number(), z.string().regex(/^\d+$/)]).optional(),
});

const OAuthErrorSchema = z.object({
  error: z.string(),
  error_description: z.string().optional(),
});

/** A 401 that says the bearer token expired or was revoked (v1 body, v2 envelope, or the header). */
export function isInvalidToken(res: HttpResponse): boolean {
  if (res.status !== 401) {
    return false;
  }
  const json = res.json as { error?: unknown; errors?: Array<{ code?: unknown }> } | undefined;
  if (json?.error === 'invalid_token' || json?.errors?.[0]?.code === 'invalid_token') {
    return true;
  }
  return /error="?invalid_token"?/i.test(res.headers['www-authenticate'] ?? '');
}

function tokenError(res: HttpResponse): UpstreamError {
  const parsed = OAuthErrorSchema.safeParse(res.json);
  const text = parsed.success
    ? [parsed.data.error, parsed.data.error_description].filter(Boolean).join(': ')
    : `HTTP ${res.status}`;
  // invalid_client / unauthorized_client / invalid_grant: the credentials, not the request.
  const credentials = res.status === 400 || res.status === 401 || res.status === 403;
  const wait = retryAfterMs(res.headers);
  return answeredError('DIGITAL_ONBOARDING', {
    ...(credentials ? { code: 'UNAUTHORIZED' } : {}),
    message: `Digital Onboarding token request answered ${res.status}: ${clipMessage(redactText(text))} (check DIGITAL_ONBOARDING_CLIENT_ID / DIGITAL_ONBOARDING_CLIENT_SECRET)`,
    httpStatus: res.status,
    details: wait === null ? null : { retryAfterMs: wait },
  });
}

export interface DoTokenSource {
  /** The bearer value for the next request. */
  token(stats?: CallStats): Promise<string>;
  /** Whether a 401 `invalid_token` can be cured by fetching another token. */
  readonly renewable: boolean;
  invalidate(token: string): void;
  /** Tokens fetched so far (0 for a static token). */
  readonly fetched: number;
  close(): Promise<void>;
}

/** The configured way to get a partner token. */
export function createDoTokenSource(
  config: DigitalOnboardingConfig,
  deps: { http: HttpOptions; dispatcher?: Dispatcher },
): DoTokenSource {
  const credentials = config.clientCredentials ?? null;
  if (credentials === null) {
    const token = config.token;
    if (token === null) {
      throw new Error(
        'Digital Onboarding needs DIGITAL_ONBOARDING_TOKEN or DIGITAL_ONBOARDING_CLIENT_ID/_CLIENT_SECRET',
      );
    }
    return {
      token: () => Promise.resolve(token.reveal()),
      renewable: false,
      invalidate: () => undefined,
      fetched: 0,
      close: () => Promise.resolve(),
    };
  }
  const auth = createHttpClient({
    provider: 'DIGITAL_ONBOARDING',
    baseUrl: credentials.authUrl,
    http: deps.http,
    ...(deps.dispatcher ? { dispatcher: deps.dispatcher } : {}),
  });
  const cache: TokenCache<FetchedToken> = createTokenCache(
    async (stats) => {
      // Credentials in the form body (DO-V1), never in the query string.
      const res = expectStatus(
        await auth.request(
          {
            method: 'POST',
            path: '',
            form: {
              grant_type: 'client_credentials',
              client_id: credentials.clientId,
              client_secret: credentials.clientSecret.reveal(),
            },
          },
          stats,
        ),
        [200],
        tokenError,
      );
      const parsed = TokenAnswerSchema.safeParse(res.json);
      if (!parsed.success) {
        throw new UpstreamBadResponseError('DIGITAL_ONBOARDING', {
          message: `Digital Onboarding token request answered ${res.status} without a usable access_token`,
          httpStatus: res.status,
        });
      }
      const expiresIn =
        parsed.data.expires_in === undefined
          ? DEFAULT_TOKEN_LIFETIME_SECONDS
          : Number(parsed.data.expires_in);
      return { accessToken: parsed.data.access_token, expiresInSeconds: expiresIn };
    },
    { skewSeconds: config.tokenRefreshSkewSeconds ?? 60 },
  );
  return {
    token: async (stats) => (await cache.get(stats)).accessToken,
    renewable: true,
    invalidate: (token) => cache.invalidate(token),
    get fetched() {
      return cache.fetched;
    },
    close: () => auth.close(),
  };
}

/**
 * `base` with the partner token on every request. A 401 `invalid_token` with a renewable source
 * drops the token, fetches another (one fetch however many requests got the 401) and sends the
 * request once more; a second 401 is the answer.
 */
export function withPartnerToken(base: HttpClient, source: DoTokenSource): HttpClient {
  return {
    provider: base.provider,
    baseUrl: base.baseUrl,
    describe: (req) => base.describe(req),
    async request(req, stats) {
      const send = (token: string) =>
        base.request(
          { ...req, headers: { ...req.headers, authorization: `Bearer ${token}` } },
          stats,
        );
      const token = await source.token(stats);
      const res = await send(token);
      if (!source.renewable || !isInvalidToken(res)) {
        return res;
      }
      source.invalidate(token);
      return send(await source.token(stats));
    },
    async close() {
      await base.close();
      await source.close();
    },
  };
}
