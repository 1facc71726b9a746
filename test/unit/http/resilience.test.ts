/**
 * The resilience policy alone: fake calls that throw `UpstreamError`s, no HTTP. Times are only
 * asserted as "waited at least X", measured around the calls; a deadline that failed to cut a call
 * short would show as a test that never ends (the fake call never settles).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createResiliencePolicy,
  DEFAULT_RESILIENCE,
  type ResilienceSettings,
} from '../../../src/http/resilience.js';
import type { ProviderId } from '../../../src/model/contact.js';
import {
  answeredError,
  UpstreamCancelledError,
  type UpstreamError,
  UpstreamTimeoutError,
} from '../../../src/model/errors.js';

const P: ProviderId = 'DOTDIGITAL';
/** Node timers may fire up to ~1 ms early against performance.now(): "at least X" means X − 3. */
const atLeast = (ms: number) => ms - 3;
const CALL = { provider: P, idempotent: true };

function policy(overrides: Partial<ResilienceSettings> = {}, now?: () => number) {
  const settings: ResilienceSettings = {
    ...DEFAULT_RESILIENCE,
    baseDelayMs: 1,
    maxDelayMs: 5,
    ...overrides,
  };
  return createResiliencePolicy(() => settings, now);
}

function upstream(
  httpStatus: number,
  opts: { code?: string; details?: Record<string, unknown> } = {},
): UpstreamError {
  return answeredError(P, {
    code: opts.code ?? (httpStatus === 429 ? 'RATE_LIMITED' : 'UPSTREAM_HTTP_ERROR'),
    message: `answered ${httpStatus}`,
    httpStatus,
    details: opts.details ?? null,
  });
}
const unavailable = () => upstream(503);
const badRequest = () => upstream(400, { code: 'BAD_REQUEST' });
const tooMany = (retryAfterMs: number) => upstream(429, { details: { retryAfterMs } });
/** What `classifyTransportError` makes of a request whose caller's signal fired. */
const cancelled = () =>
  new UpstreamCancelledError(P, { message: 'cancelled', details: { cause: 'aborted' } });

/** A fake call that fails with the given errors in turn, then succeeds; records its attempts. */
function script(...failures: Array<() => unknown>) {
  const seen: Array<{ attempt: number; at: number }> = [];
  const fn = async (attempt: number) => {
    seen.push({ attempt, at: performance.now() });
    const fail = failures[attempt - 1];
    if (fail) {
      throw fail();
    }
    return `ok after ${attempt}`;
  };
  return { fn, seen };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('retries', () => {
  it('a first success is one attempt', async () => {
    const { fn, seen } = script();
    expect(await policy().execute(CALL, fn)).toEqual({
      ok: true,
      value: 'ok after 1',
      attempts: 1,
    });
    expect(seen.map((s) => s.attempt)).toEqual([1]);
  });

  it('retries retryable failures (503, timeout, 429) and reports the attempts', async () => {
    const timeout = () => new UpstreamTimeoutError(P, { message: 'no answer' });
    const { fn, seen } = script(unavailable, timeout, () => tooMany(0));
    const result = await policy({ maxAttempts: 4 }).execute(CALL, fn);
    expect(result).toEqual({ ok: true, value: 'ok after 4', attempts: 4 });
    expect(seen.map((s) => s.attempt)).toEqual([1, 2, 3, 4]);
  });

  it('gives up after maxAttempts with the last error', async () => {
    const { fn } = script(unavailable, unavailable, () => upstream(502));
    const result = await policy({ maxAttempts: 3 }).execute(CALL, fn);
    expect(result).toMatchObject({ ok: false, attempts: 3 });
    expect(!result.ok && result.error.toInfo()).toMatchObject({ httpStatus: 502, retryable: true });
  });

  it('maxAttempts 1 means no retry', async () => {
    const { fn } = script(unavailable);
    expect(await policy({ maxAttempts: 1 }).execute(CALL, fn)).toMatchObject({
      ok: false,
      attempts: 1,
    });
  });

  it('a non-retryable failure (400) ends the call at once', async () => {
    const { fn } = script(badRequest);
    const result = await policy().execute(CALL, fn);
    expect(result).toMatchObject({ ok: false, attempts: 1 });
    expect(!result.ok && result.error.code).toBe('BAD_REQUEST');
  });

  it('a call not marked idempotent is never retried', async () => {
    const { fn } = script(unavailable);
    expect(await policy().execute({ provider: P, idempotent: false }, fn)).toMatchObject({
      ok: false,
      attempts: 1,
    });
  });

  it('a call its caller cancelled is not retried (nobody waits for it)', async () => {
    const { fn } = script(cancelled);
    const result = await policy().execute(CALL, fn);
    expect(result).toMatchObject({ ok: false, attempts: 1 });
    expect(!result.ok && result.error.details).toEqual({ cause: 'aborted' });
  });

  it('a bug in our own code (not an UpstreamError) is INTERNAL, not retried, message not leaked', async () => {
    const { fn } = script(() => new TypeError('secret-looking detail'));
    const result = await policy().execute(CALL, fn);
    expect(result).toMatchObject({ ok: false, attempts: 1 });
    expect(!result.ok && result.error.toInfo()).toMatchObject({
      code: 'INTERNAL',
      retryable: false,
    });
    expect(!result.ok && result.error.message).not.toContain('secret');
  });
});

describe('backoff', () => {
  it('full jitter grows exponentially: with the random draw at its top, waits ≥ base, then ≥ 2·base', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.999_999);
    const { fn, seen } = script(unavailable, unavailable);
    const result = await policy({ maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1000 }).execute(
      CALL,
      fn,
    );
    expect(result).toMatchObject({ ok: true, attempts: 3 });
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(atLeast(100));
    expect(seen[2]!.at - seen[1]!.at).toBeGreaterThanOrEqual(atLeast(200));
  });

  it("honours the provider's Retry-After as a floor above the jitter", async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const { fn, seen } = script(() => tooMany(300));
    const result = await policy({ baseDelayMs: 0 }).execute(CALL, fn);
    expect(result).toMatchObject({ ok: true, attempts: 2 });
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(atLeast(300));
  });
});

describe('the call deadline', () => {
  it('does not retry when Retry-After is longer than what is left; the wait stays in details', async () => {
    const { fn } = script(() => tooMany(5_000));
    const result = await policy({ deadlineMs: 1_000 }).execute(CALL, fn);
    expect(result).toMatchObject({ ok: false, attempts: 1 });
    expect(!result.ok && result.error.toInfo()).toMatchObject({
      code: 'RATE_LIMITED',
      httpStatus: 429,
      retryable: true,
      details: { retryAfterMs: 5_000 },
    });
  });

  it('does not retry when the jittered wait would end after the deadline', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.999_999);
    const { fn } = script(unavailable);
    const result = await policy({
      deadlineMs: 1_000,
      baseDelayMs: 2_000,
      maxDelayMs: 2_000,
    }).execute(CALL, fn);
    expect(result).toMatchObject({ ok: false, attempts: 1 });
  });

  it('stops retrying once the budget is spent (clock injected: each attempt takes 400 ms)', async () => {
    let clock = 0;
    const fn = async () => {
      clock += 400;
      throw unavailable();
    };
    const result = await policy(
      { deadlineMs: 1_000, maxAttempts: 10, baseDelayMs: 0 },
      () => clock,
    ).execute(CALL, fn);
    // 0 → 400 (retry) → 800 (retry) → 1200: past the deadline, no fourth attempt.
    expect(result).toMatchObject({ ok: false, attempts: 3 });
  });

  it('gives up an attempt still running when the deadline ends: UPSTREAM_TIMEOUT (cause deadline)', async () => {
    const start = performance.now();
    const result = await policy({ deadlineMs: 200 }).execute(
      CALL,
      () => new Promise<never>(() => {}),
    );
    expect(performance.now() - start).toBeGreaterThanOrEqual(atLeast(200));
    expect(result).toMatchObject({ ok: false, attempts: 1 });
    expect(!result.ok && result.error.toInfo()).toMatchObject({
      code: 'UPSTREAM_TIMEOUT',
      httpStatus: null,
      retryable: true,
      details: { cause: 'deadline', deadlineMs: 200 },
    });
  });

  it('an attempt still waiting for the rate limit when the deadline ends is never started', async () => {
    const p = policy({ ratePerSecond: 1, deadlineMs: 100, breakerThreshold: 1 });
    expect(await p.execute(CALL, script().fn)).toMatchObject({ ok: true, attempts: 1 });
    // The second call needs the next second's slot, ~1 s away; its budget is 100 ms.
    let ran = false;
    const queued = await p.execute(CALL, async () => {
      ran = true;
      return 'late';
    });
    expect(queued).toMatchObject({ ok: false, attempts: 0 });
    expect(!queued.ok && queued.error.toInfo()).toMatchObject({
      code: 'UPSTREAM_TIMEOUT',
      retryable: true,
      details: { cause: 'deadline' },
    });
    // Nothing was sent, so nothing is held against the provider (threshold 1).
    expect(p.circuit(P)).toEqual({ state: 'CLOSED', consecutiveFailures: 0, openedAt: null });
    // Not even once the slot comes free.
    await sleep(1_050);
    expect(ran).toBe(false);
  });
});

describe('circuit breaker', () => {
  it('opens after breakerThreshold failed attempts in a row, across calls, then fails fast', async () => {
    const p = policy({ breakerThreshold: 4, maxAttempts: 2, breakerHalfOpenMs: 60_000 });
    const down = async () => {
      throw unavailable();
    };
    expect(await p.execute(CALL, down)).toMatchObject({ ok: false, attempts: 2 });
    expect(p.circuit(P)).toEqual({ state: 'CLOSED', consecutiveFailures: 2, openedAt: null });
    expect(await p.execute(CALL, down)).toMatchObject({ ok: false, attempts: 2 });
    const open = p.circuit(P);
    expect(open).toMatchObject({ state: 'OPEN', consecutiveFailures: 4 });
    expect(Date.parse(open.openedAt!)).not.toBeNaN();

    let called = false;
    const fast = await p.execute(CALL, async () => {
      called = true;
      return 'x';
    });
    expect(called).toBe(false);
    expect(fast).toMatchObject({ ok: false, attempts: 0 });
    expect(!fast.ok && fast.error.toInfo()).toMatchObject({
      code: 'CIRCUIT_OPEN',
      httpStatus: null,
      retryable: true,
      details: { circuit: 'OPEN', openedAt: open.openedAt },
    });
    // Per provider: the others are untouched.
    expect(p.circuit('NOTIFUSE')).toEqual({
      state: 'CLOSED',
      consecutiveFailures: 0,
      openedAt: null,
    });
    expect(await p.execute({ provider: 'NOTIFUSE', idempotent: true }, async () => 'fine')).toEqual(
      {
        ok: true,
        value: 'fine',
        attempts: 1,
      },
    );
  });

  it('429s, 400s and cancelled calls do not count; a success resets the count', async () => {
    const p = policy({ breakerThreshold: 2, maxAttempts: 1 });
    await p.execute(CALL, script(unavailable).fn);
    expect(p.circuit(P).consecutiveFailures).toBe(1);
    for (const error of [() => tooMany(0), badRequest, cancelled]) {
      await p.execute(CALL, script(error).fn);
      expect(p.circuit(P)).toMatchObject({ state: 'CLOSED', consecutiveFailures: 1 });
    }
    await p.execute(CALL, script().fn);
    expect(p.circuit(P).consecutiveFailures).toBe(0);
    await p.execute(CALL, script(unavailable).fn);
    expect(p.circuit(P)).toMatchObject({ state: 'CLOSED', consecutiveFailures: 1 });
  });

  it('after breakerHalfOpenMs one probe goes through; its success closes the breaker', async () => {
    const p = policy({ breakerThreshold: 1, maxAttempts: 1, breakerHalfOpenMs: 150 });
    await p.execute(CALL, script(unavailable).fn);
    const openedAt = Date.parse(p.circuit(P).openedAt!);
    expect(p.circuit(P).state).toBe('OPEN');
    expect(await p.execute(CALL, script().fn)).toMatchObject({ ok: false, attempts: 0 });

    await sleep(Math.max(0, openedAt + 160 - Date.now()));
    const probe = await p.execute(CALL, script().fn);
    expect(Date.now() - openedAt).toBeGreaterThanOrEqual(150);
    expect(probe).toEqual({ ok: true, value: 'ok after 1', attempts: 1 });
    expect(p.circuit(P)).toEqual({ state: 'CLOSED', consecutiveFailures: 0, openedAt: null });
  });

  it('a probe that fails re-opens it, and the retry of that call is refused (attempts 1, CIRCUIT_OPEN)', async () => {
    const p = policy({ breakerThreshold: 1, maxAttempts: 3, breakerHalfOpenMs: 100 });
    await p.execute(CALL, script(unavailable).fn);
    const firstOpen = p.circuit(P).openedAt!;
    await sleep(Math.max(0, Date.parse(firstOpen) + 110 - Date.now()));
    const probe = await p.execute(CALL, script(unavailable, unavailable).fn);
    expect(probe).toMatchObject({ ok: false, attempts: 1 });
    expect(!probe.ok && probe.error.code).toBe('CIRCUIT_OPEN');
    expect(p.circuit(P).state).toBe('OPEN');
    expect(Date.parse(p.circuit(P).openedAt!)).toBeGreaterThan(Date.parse(firstOpen));
  });
});

describe('limits', () => {
  it('maxInFlight bounds concurrent attempts of one provider', async () => {
    const p = policy({ maxInFlight: 2 });
    let inFlight = 0;
    let most = 0;
    const fn = async () => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await sleep(30);
      inFlight -= 1;
      return 'ok';
    };
    const results = await Promise.all(Array.from({ length: 6 }, () => p.execute(CALL, fn)));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(most).toBe(2);
  });

  it('ratePerSecond: the third of 3 calls at 2 per second waits for the next second', async () => {
    const p = policy({ ratePerSecond: 2 });
    const started: number[] = [];
    const fn = async () => {
      started.push(performance.now());
      return 'ok';
    };
    await Promise.all(Array.from({ length: 3 }, () => p.execute(CALL, fn)));
    started.sort((a, b) => a - b);
    expect(started[2]! - started[0]!).toBeGreaterThanOrEqual(atLeast(900));
  });
});
