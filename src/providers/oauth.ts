import type { CallStats } from '../http/client.js';

/** What a token endpoint gave: the bearer value, its life, and anything else the caller keeps. */
export interface FetchedToken {
  accessToken: string;
  /** `expires_in` of the answer, in seconds. */
  expiresInSeconds: number;
}

export interface TokenCache<T extends FetchedToken> {
  /** A valid token: the cached one, or the one being fetched (one fetch at a time). */
  get(stats?: CallStats): Promise<T>;
  /** Drops `accessToken` if it is still the cached one (after a 401); a newer token is kept. */
  invalidate(accessToken: string): void;
  /** Tokens fetched so far (status pages, tests). */
  readonly fetched: number;
}

/**
 * Seconds a token is used: `expires_in` minus the skew, but never less than half of `expires_in`
 * (so a short-lived token is still used at all).
 */
export function tokenLifetimeSeconds(expiresIn: number, skewSeconds: number): number {
  return Math.max(expiresIn / 2, expiresIn - skewSeconds);
}

/**
 * An OAuth2 client-credentials token cache, shared by the providers that fetch their own tokens
 * (client-credentials providers): one token cached until its `expires_in` minus a skew; fetched
 * single-flight (however many calls wait, one token request is in flight); invalidated only if the
 * token that got a 401 is still the cached one, so fifty 401s cause one refresh, not fifty.
 *
 * The fetch is not tied to any caller's abort signal (others may be waiting on it); the HTTP
 * client's timeouts bound it. It is counted in the stats of the call that started it.
 */
export function createTokenCache<T extends FetchedToken>(
  fetchToken: (stats?: CallStats) => Promise<T>,
  opts: { skewSeconds: number; now?: () => number },
): TokenCache<T> {
  const now = opts.now ?? (() => performance.now());
  let cached: { token: T; renewAt: number } | null = null;
  let inflight: Promise<T> | null = null;
  let fetched = 0;

  return {
    get(stats) {
      if (cached !== null && now() < cached.renewAt) {
        return Promise.resolve(cached.token);
      }
      if (inflight === null) {
        inflight = fetchToken(stats)
          .then((token) => {
            fetched += 1;
            const life = tokenLifetimeSeconds(token.expiresInSeconds, opts.skewSeconds);
            cached = { token, renewAt: now() + life * 1000 };
            return token;
          })
          .finally(() => {
            inflight = null;
          });
      }
      return inflight;
    },
    invalidate(accessToken) {
      if (cached?.token.accessToken === accessToken) {
        cached = null;
      }
    },
    get fetched() {
      return fetched;
    },
  };
}
