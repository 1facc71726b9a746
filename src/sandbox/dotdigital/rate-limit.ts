/**
 * Tiered call-rate limiting (DD-6, DD-7): every call belongs to a tier with its own budget, counted
 * per account, i.e. for the whole sandbox. DD-6 publishes per-minute budgets; the sandbox takes any
 * window so tests need not wait a minute. Counting is a fixed window that opens at the first call
 * after the previous one closed; refused calls do not count.
 */

export type RateLimitTier = 'Low' | 'Medium' | 'High';

export interface TierLimit {
  /** Calls allowed per window; 0 refuses every call of the tier. */
  limit: number;
  windowMs: number;
}

export type RateLimits = Partial<Record<RateLimitTier, TierLimit>>;

export interface RateLimitRefusal {
  tier: RateLimitTier;
  limit: number;
  /** Whole seconds until the window closes, at least 1. */
  resetSeconds: number;
}

const TIERS: readonly RateLimitTier[] = ['Low', 'Medium', 'High'];

export class TieredRateLimiter {
  private limits: RateLimits | null = null;
  private readonly windows = new Map<RateLimitTier, { start: number; count: number }>();

  /** Replaces the limits and restarts every window; null switches limiting off. */
  configure(limits: RateLimits | null): void {
    if (limits !== null) {
      for (const [tier, value] of Object.entries(limits)) {
        if (!(TIERS as readonly string[]).includes(tier)) {
          throw new RangeError(`unknown rate-limit tier '${tier}' (expected Low, Medium or High)`);
        }
        if (value === undefined) {
          continue;
        }
        if (!Number.isInteger(value.limit) || value.limit < 0) {
          throw new RangeError(`rate limit for ${tier} must be an integer >= 0`);
        }
        if (!Number.isFinite(value.windowMs) || value.windowMs <= 0) {
          throw new RangeError(`rate-limit window for ${tier} must be a positive number of ms`);
        }
      }
    }
    this.limits = limits === null ? null : structuredClone(limits);
    this.windows.clear();
  }

  /** Counts one call of `tier`, or says why it is refused. */
  take(tier: RateLimitTier, now: number): RateLimitRefusal | undefined {
    const rule = this.limits?.[tier];
    if (rule === undefined) {
      return undefined;
    }
    let window = this.windows.get(tier);
    if (window === undefined || now >= window.start + rule.windowMs) {
      window = { start: now, count: 0 };
      this.windows.set(tier, window);
    }
    if (window.count < rule.limit) {
      window.count++;
      return undefined;
    }
    const resetSeconds = Math.max(1, Math.ceil((window.start + rule.windowMs - now) / 1000));
    return { tier, limit: rule.limit, resetSeconds };
  }
}
