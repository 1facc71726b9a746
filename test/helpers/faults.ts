import type { Fault } from '../../src/sandbox/shared/types.js';

/**
 * Dotdigital's 429 with its tiered rate-limit headers (scope Medium, limit 100, reset in 30 s)
 * and `Retry-After: retryAfterSeconds`.
 */
export function dotdigitalThrottled(retryAfterSeconds: number): Fault {
  return {
    kind: 'status',
    status: 429,
    headers: {
      'x-ratelimit-scope': 'Medium',
      'x-ratelimit-limit': '100',
      'x-ratelimit-reset': '30',
      'retry-after': String(retryAfterSeconds),
    },
    body: { errorCode: 'throttled', description: 'Too many requests' },
  };
}

/** `count` answers of HTTP `status` with `body`, one per request, for a sandbox's fault rule. */
export function statusFaults(count: number, status: number, body?: unknown): Fault[] {
  const fault: Fault =
    body === undefined ? { kind: 'status', status } : { kind: 'status', status, body };
  return Array.from({ length: count }, () => ({ ...fault }));
}
