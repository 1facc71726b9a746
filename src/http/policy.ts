import type { ProviderId } from '../model/contact.js';
import { asUpstreamError, type UpstreamError } from '../model/errors.js';

export type Attempted<T> =
  | { ok: true; value: T; attempts: number }
  | { ok: false; error: UpstreamError; attempts: number };

export interface CallDescriptor {
  provider: ProviderId;
  /** Safe to repeat by contract (GET, PUT import, upsert keyed by email…). */
  idempotent: boolean;
}

/**
 * The seam for resilience (retries with jitter + Retry-After, circuit breakers, rate limits).
 * Adapters run every upstream call through a policy and report `attempts` from it; swapping the
 * policy changes behaviour for all four providers at once.
 */
export interface CallPolicy {
  execute<T>(call: CallDescriptor, fn: (attempt: number) => Promise<T>): Promise<Attempted<T>>;
}

/**
 * One attempt, failures returned as data: for adapter tests that pin one exchange. The gateway
 * itself runs `createResiliencePolicy` (src/http/resilience.ts).
 */
export const singleAttemptPolicy: CallPolicy = {
  async execute(call, fn) {
    try {
      return { ok: true, value: await fn(1), attempts: 1 };
    } catch (err) {
      const error = asUpstreamError(call.provider, err);
      return { ok: false, error, attempts: 1 };
    }
  },
};
