import { z } from 'zod';
import { PROVIDER_IDS, type ProviderId } from '../model/contact.js';
import { DEFAULT_RESILIENCE, type ResilienceSettings } from './resilience.js';

/** A provider's resilience settings plus its per-attempt timeout. */
export interface ProviderResilience extends ResilienceSettings {
  /** Headers and body timeout of one attempt. */
  timeoutMs: number;
}

/** Env prefix per provider (`<PREFIX>_TIMEOUT_MS`, `_MAX_IN_FLIGHT`, `_RATE_PER_SECOND`). */
export const RESILIENCE_PREFIX: Record<ProviderId, string> = {
  DIGITAL_ONBOARDING: 'DIGITAL_ONBOARDING',
  NOTIFUSE: 'NOTIFUSE',
  DOTDIGITAL: 'DOTDIGITAL',
  SALESFORCE_MC: 'SFMC',
};

/**
 * Per-provider defaults. Timeouts: Dotdigital documents that a call may take up to 121 s
 * (Dotdigital documentation, DD-9); the others publish nothing, so 30 s (Notifuse 15 s, a
 * self-hosted service). Rates: none of the four publishes a number for these endpoints (Notifuse has
 * no limiter on API routes at all), so the defaults are guesses that keep a 10 000-contact batch
 * polite; set your account's figures.
 */
const PROVIDER_DEFAULTS: Record<
  ProviderId,
  Pick<ProviderResilience, 'timeoutMs' | 'ratePerSecond' | 'maxInFlight'>
> = {
  NOTIFUSE: { timeoutMs: 15_000, ratePerSecond: 0, maxInFlight: 16 },
  DOTDIGITAL: { timeoutMs: 121_000, ratePerSecond: 10, maxInFlight: 16 },
  SALESFORCE_MC: { timeoutMs: 30_000, ratePerSecond: 50, maxInFlight: 16 },
  DIGITAL_ONBOARDING: { timeoutMs: 30_000, ratePerSecond: 10, maxInFlight: 16 },
};

const int = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

/**
 * Reads `RETRY_MAX_ATTEMPTS`, `RETRY_BASE_DELAY_MS`, `RETRY_MAX_DELAY_MS`, `CALL_DEADLINE_MS`,
 * `BREAKER_THRESHOLD`, `BREAKER_HALF_OPEN_MS` (all providers) and `<PREFIX>_TIMEOUT_MS`,
 * `<PREFIX>_MAX_IN_FLIGHT`, `<PREFIX>_RATE_PER_SECOND` (each provider). Problems are collected.
 */
export function parseResilience(
  env: Record<string, string | undefined>,
  problems: string[],
): Record<ProviderId, ProviderResilience> {
  const read = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') {
      return fallback;
    }
    const parsed = int(min, max).safeParse(raw);
    if (!parsed.success) {
      problems.push(`${name}: ${parsed.error.issues[0]?.message ?? 'invalid'} (${min}–${max})`);
      return fallback;
    }
    return parsed.data;
  };
  const shared = {
    maxAttempts: read('RETRY_MAX_ATTEMPTS', DEFAULT_RESILIENCE.maxAttempts, 1, 10),
    baseDelayMs: read('RETRY_BASE_DELAY_MS', DEFAULT_RESILIENCE.baseDelayMs, 0, 60_000),
    maxDelayMs: read('RETRY_MAX_DELAY_MS', DEFAULT_RESILIENCE.maxDelayMs, 0, 600_000),
    deadlineMs: read('CALL_DEADLINE_MS', DEFAULT_RESILIENCE.deadlineMs, 1, 3_600_000),
    breakerThreshold: read('BREAKER_THRESHOLD', DEFAULT_RESILIENCE.breakerThreshold, 1, 1000),
    breakerHalfOpenMs: read(
      'BREAKER_HALF_OPEN_MS',
      DEFAULT_RESILIENCE.breakerHalfOpenMs,
      1,
      3_600_000,
    ),
  };
  const out = {} as Record<ProviderId, ProviderResilience>;
  for (const id of PROVIDER_IDS) {
    const prefix = RESILIENCE_PREFIX[id];
    const d = PROVIDER_DEFAULTS[id];
    out[id] = {
      ...shared,
      timeoutMs: read(`${prefix}_TIMEOUT_MS`, d.timeoutMs, 1, 600_000),
      maxInFlight: read(`${prefix}_MAX_IN_FLIGHT`, d.maxInFlight, 1, 1000),
      ratePerSecond: read(`${prefix}_RATE_PER_SECOND`, d.ratePerSecond, 0, 100_000),
    };
  }
  return out;
}
