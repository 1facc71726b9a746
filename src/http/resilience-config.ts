import { z } from 'zod';
import type { ProviderId } from '../model/contact.js';
import { PROVIDERS } from '../providers/registry.js';
import { DEFAULT_RESILIENCE, type ResilienceSettings } from './resilience.js';

/** A provider's resilience settings plus its per-attempt timeout. */
export interface ProviderResilience extends ResilienceSettings {
  /** Headers and body timeout of one attempt. */
  timeoutMs: number;
}

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
  // Each provider's defaults are in its descriptor (`resilience`), with the reasons for them.
  for (const { id, resilience: d } of PROVIDERS) {
    const { prefix } = d;
    out[id] = {
      ...shared,
      timeoutMs: read(`${prefix}_TIMEOUT_MS`, d.timeoutMs, 1, 600_000),
      maxInFlight: read(`${prefix}_MAX_IN_FLIGHT`, d.maxInFlight, 1, 1000),
      ratePerSecond: read(`${prefix}_RATE_PER_SECOND`, d.ratePerSecond, 0, 100_000),
    };
  }
  return out;
}
