import type { Plugin } from 'graphql-yoga';
import { RateLimiterRes } from 'rate-limiter-flexible';
import { memoryRateLimiters, type RateLimiters } from '../rate-limiters.js';
import { requestState } from './request-context.js';
import { graphqlErrorResponse } from './responses.js';
import { routeOf } from './routes.js';

/** Options of {@link useKeyRateLimit}. */
export interface KeyRateLimitOptions {
  /** Requests per minute per API key; 0 turns the limit off. @default 600 */
  perMinute: number;
  /** Where the counts live (PostgreSQL: one limit across every replica). @default memory */
  limiters?: RateLimiters;
}

/**
 * A fixed window of `perMinute` requests per API key (rate-limiter-flexible; in PostgreSQL with
 * `DATABASE_URL`, so shared by every replica, else in memory, per process), counting every request with a key except the public paths (fail closed, like the key
 * check). Runs after authentication and before the GraphQL document is parsed: a refused
 * request costs nothing but its (bounded) body, which the fast lane has read by then. The anonymous loopback caller (no keys configured) is not limited. A refusal is a 429
 * with `Retry-After` and a GraphQL error body whose code is `RATE_LIMITED`.
 */
export function useKeyRateLimit(options: KeyRateLimitOptions): Plugin {
  if (options.perMinute <= 0) {
    return {};
  }
  const limiter = (options.limiters ?? memoryRateLimiters).create('key', options.perMinute, 60);
  return {
    // Not async: an anonymous or public request returns synchronously, so Yoga's request
    // pipeline stays on its synchronous path.
    onRequest({ request, endResponse, fetchAPI }) {
      const { keyName } = requestState(request).caller;
      if (!keyName || routeOf(request) === 'public') {
        return;
      }
      return limit(keyName, request, endResponse, fetchAPI);
    },
  };

  async function limit(
    keyName: string,
    request: Request,
    endResponse: (response: Response) => void,
    fetchAPI: Parameters<NonNullable<Plugin['onRequest']>>[0]['fetchAPI'],
  ): Promise<void> {
    try {
      await limiter.consume(keyName, 1);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) {
        throw rejection;
      }
      const retryAfter = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      endResponse(
        graphqlErrorResponse(
          fetchAPI,
          request,
          429,
          {
            message: `Rate limit of ${options.perMinute} requests per minute exceeded for key "${keyName}"; retry in ${retryAfter} s.`,
            extensions: { code: 'RATE_LIMITED', retryAfterSeconds: retryAfter },
          },
          {
            'retry-after': String(retryAfter),
            'ratelimit-limit': String(options.perMinute),
            'ratelimit-remaining': '0',
            'ratelimit-reset': String(retryAfter),
          },
        ),
      );
    }
  }
}
