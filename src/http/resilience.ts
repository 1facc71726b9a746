import {
  BrokenCircuitError,
  bulkhead,
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  DelegateBackoff,
  handleWhen,
  retry,
} from 'cockatiel';
import { RateLimiterQueue } from 'rate-limiter-flexible';
import type { ProviderId } from '../model/contact.js';
import {
  asUpstreamError,
  UpstreamCancelledError,
  UpstreamError,
  UpstreamNotSentError,
  UpstreamRateLimitedError,
  UpstreamTimeoutError,
} from '../model/errors.js';
import { memoryRateLimiters, type RateLimiters } from '../rate-limiters.js';
import type { Attempted, CallDescriptor, CallPolicy } from './policy.js';

/** How one provider's calls are retried, broken, limited and bounded. */
export interface ResilienceSettings {
  /** Attempts per call, the first included. @default 3 */
  maxAttempts: number;
  /** Backoff base: the n-th retry waits a random time in [0, min(maxDelayMs, base·2ⁿ⁻¹)]. @default 200 */
  baseDelayMs: number;
  /** @default 5000 */
  maxDelayMs: number;
  /**
   * Budget of one call, attempts and waits together. A retry whose wait (backoff or the provider's
   * Retry-After) would not end before it is not made: the call ends with its last, retryable,
   * error. An attempt still running (or queued) when it ends is given up with UPSTREAM_TIMEOUT.
   * @default 30000
   */
  deadlineMs: number;
  /** Consecutive failed attempts (network, timeout, 5xx) that open the breaker. @default 5 */
  breakerThreshold: number;
  /** How long an open breaker fails fast before it lets one probe through. @default 30000 */
  breakerHalfOpenMs: number;
  /** Most attempts in flight at once for this provider (excess calls queue). @default 16 */
  maxInFlight: number;
  /** Most attempts started per second for this provider; 0 = no limit. */
  ratePerSecond: number;
}

export const DEFAULT_RESILIENCE: ResilienceSettings = {
  maxAttempts: 3,
  baseDelayMs: 200,
  maxDelayMs: 5_000,
  deadlineMs: 30_000,
  breakerThreshold: 5,
  breakerHalfOpenMs: 30_000,
  maxInFlight: 16,
  ratePerSecond: 0,
};

export type CircuitStateName = 'CLOSED' | 'OPEN' | 'HALF_OPEN';

export interface CircuitStatus {
  state: CircuitStateName;
  /** Failed attempts in a row (reset by a success). */
  consecutiveFailures: number;
  /** When the breaker last opened (ISO), while it is open or half-open. */
  openedAt: string | null;
}

export interface ResiliencePolicy extends CallPolicy {
  circuit(provider: ProviderId): CircuitStatus;
}

/**
 * Failures that say the provider (or the way to it) is unwell, not that our request was wrong. Not
 * a cancellation (the caller went away; the provider did nothing wrong), not a 429 (the provider
 * working as documented: it slows us down, it does not open the breaker).
 */
function isOutage(err: unknown): boolean {
  return (
    err instanceof UpstreamError &&
    err.retryable &&
    !(err instanceof UpstreamCancelledError) &&
    !(err instanceof UpstreamRateLimitedError)
  );
}

/** What an attempt cut short by the end of the call's budget (CALL_DEADLINE_MS) fails with. */
function deadlineError(provider: ProviderId, deadlineMs: number): UpstreamError {
  return new UpstreamTimeoutError(provider, {
    message: `${provider} did not answer within the call deadline (${deadlineMs} ms)`,
    details: { cause: 'deadline', deadlineMs },
  });
}

/** The wait a provider asked for (Retry-After, x-ratelimit-reset, a body's `retryAfter`), if any. */
function askedWaitMs(err: unknown): number {
  if (err instanceof UpstreamError) {
    const wait = err.details?.['retryAfterMs'];
    if (typeof wait === 'number' && Number.isFinite(wait) && wait > 0) {
      return wait;
    }
  }
  return 0;
}

const STATE_NAMES: Record<CircuitState, CircuitStateName> = {
  [CircuitState.Closed]: 'CLOSED',
  [CircuitState.Open]: 'OPEN',
  [CircuitState.HalfOpen]: 'HALF_OPEN',
  [CircuitState.Isolated]: 'OPEN',
};

/**
 * The end of one attempt's budget: `gaveUp` rejects with the deadline error when `spendBudget`
 * runs (whichever race settles first handles it; an unobserved copy must not count as unhandled).
 */
class AttemptDeadline {
  spent = false;
  readonly gaveUp: Promise<never>;
  readonly #reject: (err: UpstreamError) => void;

  constructor() {
    let reject: (err: UpstreamError) => void = ignore;
    this.gaveUp = new Promise<never>((_, r) => {
      reject = r;
    });
    this.gaveUp.catch(ignore);
    this.#reject = reject;
  }

  giveUp(err: UpstreamError): void {
    this.spent = true;
    this.#reject(err);
  }
}

function ignore(): void {}

/** The attempt's budget ran out: a queued attempt leaves the queue, a running one is given up. */
function spendBudget(
  out: AttemptDeadline,
  queued: AbortController | null,
  provider: ProviderId,
  deadlineMs: number,
): void {
  out.spent = true;
  queued?.abort();
  out.giveUp(deadlineError(provider, deadlineMs));
}

/**
 * The wait before another attempt after the `failures`-th failure of a call, or null when the
 * failure is not worth one. The wait is full jitter in [0, min(maxDelayMs, base·2ⁿ⁻¹)], but never
 * less than the provider asked for (Retry-After is a floor). A retry whose wait would not end
 * before the deadline is not made: the call ends now with this, retryable, error instead of
 * attempting with no time left. Only idempotent calls are retried, and never a cancelled one (it
 * is retryable later, by the outbox, but nobody waits for it now).
 */
function retryWait(
  call: CallDescriptor,
  settings: ResilienceSettings,
  err: unknown,
  failures: number,
  deadline: number,
  now: () => number,
): number | null {
  if (
    !call.idempotent ||
    !(err instanceof UpstreamError) ||
    !err.retryable ||
    err instanceof UpstreamCancelledError
  ) {
    return null;
  }
  const cap = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** (failures - 1));
  const wait = Math.max(askedWaitMs(err), Math.random() * cap);
  return now() + wait < deadline ? wait : null;
}

interface ProviderGuard {
  settings: ResilienceSettings;
  breaker: CircuitBreakerPolicy;
  consecutive: ConsecutiveBreaker;
  openedAt: string | null;
  limit: ReturnType<typeof bulkhead>;
  rate: RateLimiterQueue | null;
}

/**
 * The gateway's CallPolicy: per provider a retry policy (exponential backoff with full jitter,
 * bounded attempts, a per-call deadline, Retry-After honoured), a circuit breaker, a concurrency
 * limit and a rate limit, all from cockatiel and rate-limiter-flexible. Only calls marked
 * `idempotent` are retried; a non-retryable error ends the call at once.
 */
export function createResiliencePolicy(
  settingsFor: (provider: ProviderId) => ResilienceSettings,
  now: () => number = Date.now,
  /** Where each provider's rate counts (PostgreSQL: shared by every replica). @default memory */
  limiters: RateLimiters = memoryRateLimiters,
): ResiliencePolicy {
  const guards = new Map<ProviderId, ProviderGuard>();

  function guard(provider: ProviderId): ProviderGuard {
    let g = guards.get(provider);
    if (!g) {
      const settings = settingsFor(provider);
      const consecutive = new ConsecutiveBreaker(Math.max(1, settings.breakerThreshold));
      const breaker = circuitBreaker(handleWhen(isOutage), {
        halfOpenAfter: settings.breakerHalfOpenMs,
        breaker: consecutive,
      });
      const created: ProviderGuard = {
        settings,
        breaker,
        consecutive,
        openedAt: null,
        limit: bulkhead(Math.max(1, settings.maxInFlight), Number.MAX_SAFE_INTEGER),
        rate:
          settings.ratePerSecond > 0
            ? new RateLimiterQueue(
                limiters.create(`provider:${provider}`, settings.ratePerSecond, 1),
                { maxQueueSize: Number.MAX_SAFE_INTEGER },
              )
            : null,
      };
      breaker.onBreak(() => {
        created.openedAt = new Date(now()).toISOString();
      });
      breaker.onReset(() => {
        created.openedAt = null;
      });
      g = created;
      guards.set(provider, g);
    }
    return g;
  }

  /**
   * One attempt: queued behind the provider's concurrency and rate limits, then through its
   * breaker, all within `budgetMs` (what is left of the call's deadline). When the budget runs out
   * the attempt fails with UPSTREAM_TIMEOUT (cause `deadline`): while it was running, that counts
   * for the breaker like any timeout; while it was still queued, no request was sent and it does
   * not. The abandoned request itself is not cancelled (the adapter owns its signal); the
   * provider's own timeout ends it.
   */
  async function attempt<T>(
    provider: ProviderId,
    g: ProviderGuard,
    budgetMs: number,
    run: () => Promise<T>,
  ): Promise<T> {
    if (budgetMs <= 0) {
      throw deadlineError(provider, g.settings.deadlineMs);
    }
    // One settle-once handle per attempt, no named closures (under tsx each costs a
    // defineProperty per call). The deadline error is built only when the budget runs out: an
    // Error captures a stack, and most attempts succeed.
    const out = new AttemptDeadline();
    // The bulkhead's queue takes a signal to drop an attempt whose budget ran out while it
    // waited; an attempt that gets a slot at once (checked just before, on this same turn) needs
    // none, and an AbortController costs ~15 µs of CPU on Node 20.
    const queued = g.limit.executionSlots > 0 ? null : new AbortController();
    const timer = setTimeout(spendBudget, budgetMs, out, queued, provider, g.settings.deadlineMs);
    try {
      return await Promise.race([
        g.limit.execute(async () => {
          if (g.rate) {
            await g.rate.removeTokens(1);
          }
          if (out.spent) {
            throw deadlineError(provider, g.settings.deadlineMs);
          }
          return g.breaker.execute(() => Promise.race([run(), out.gaveUp]));
        }, queued?.signal),
        out.gaveUp,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    async execute<T>(
      call: CallDescriptor,
      fn: (attempt: number) => Promise<T>,
    ): Promise<Attempted<T>> {
      const g = guard(call.provider);
      const { settings } = g;
      const deadline = now() + settings.deadlineMs;
      const maxRetries = Math.max(0, settings.maxAttempts - 1);
      let attempts = 0;
      let failures = 0;
      try {
        // cockatiel's retry, the decision made once per failure by `retryWait` (its wait is
        // handed to the backoff).
        let nextDelayMs = 0;
        const policy = retry(
          handleWhen((err) => {
            failures += 1;
            const wait = retryWait(call, settings, err, failures, deadline, now);
            nextDelayMs = wait ?? 0;
            return wait !== null;
          }),
          { maxAttempts: maxRetries, backoff: new DelegateBackoff(() => nextDelayMs) },
        );
        const value = await policy.execute(() =>
          attempt(call.provider, g, deadline - now(), () => {
            attempts += 1;
            return fn(attempts);
          }),
        );
        return { ok: true, value, attempts };
      } catch (err) {
        if (err instanceof BrokenCircuitError) {
          return {
            ok: false,
            attempts,
            error: new UpstreamNotSentError(call.provider, {
              code: 'CIRCUIT_OPEN',
              message: `${call.provider} is failing; calls are paused until ${retryAtText(g, settings)} (circuit breaker open)`,
              details: { circuit: 'OPEN', openedAt: g.openedAt },
            }),
          };
        }
        return { ok: false, error: asUpstreamError(call.provider, err), attempts };
      }
    },

    circuit(provider) {
      const g = guards.get(provider);
      if (!g) {
        return { state: 'CLOSED', consecutiveFailures: 0, openedAt: null };
      }
      return {
        state: STATE_NAMES[g.breaker.state],
        consecutiveFailures: g.consecutive.state,
        openedAt: g.breaker.state === CircuitState.Closed ? null : g.openedAt,
      };
    },
  };
}

function retryAtText(g: ProviderGuard, settings: ResilienceSettings): string {
  const opened = g.openedAt ? Date.parse(g.openedAt) : Date.now();
  return new Date(opened + settings.breakerHalfOpenMs).toISOString();
}
