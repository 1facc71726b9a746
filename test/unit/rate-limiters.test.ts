/**
 * LeasedLimiter (src/rate-limiters.ts): a shared fixed window taken from in blocks. The shared
 * counter here is a table in memory with a hand-moved clock, as PostgreSQL's counts for every
 * replica: two LeasedLimiters on one table are two replicas.
 */
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { describe, expect, it } from 'vitest';
import {
  LEASE_BLOCK_MAX,
  LeasedLimiter,
  type Limiter,
  leaseBlock,
} from '../../src/rate-limiters.js';

const clock = { now: 1_000_000 };

/** One fixed window per key, counted as rate-limiter-flexible's stores count (over-consumption kept). */
class Table implements Limiter {
  readonly asked: Array<{ key: string; points: number }> = [];
  readonly #windows = new Map<string, { count: number; end: number }>();
  fail: Error | null = null;

  constructor(
    readonly points: number,
    readonly windowMs: number,
  ) {}

  count(key: string): number {
    return this.#windows.get(key)?.count ?? 0;
  }

  async consume(key: string | number, points = 1): Promise<RateLimiterRes> {
    const k = String(key);
    this.asked.push({ key: k, points });
    // A round trip: the answer comes later, as the database's does.
    await new Promise((resolve) => setImmediate(resolve));
    if (this.fail) {
      throw this.fail;
    }
    let w = this.#windows.get(k);
    if (!w || clock.now >= w.end) {
      w = { count: 0, end: clock.now + this.windowMs };
      this.#windows.set(k, w);
    }
    w.count += points;
    const res = new RateLimiterRes(
      Math.max(0, this.points - w.count),
      w.end - clock.now,
      w.count,
      w.count === points,
    );
    if (w.count > this.points) {
      throw res;
    }
    return res;
  }

  async get(): Promise<RateLimiterRes | null> {
    return null;
  }
}

/** Settles every consume: how many were admitted, and the refusals. */
async function outcomes(consumes: Array<Promise<RateLimiterRes>>) {
  const settled = await Promise.allSettled(consumes);
  const refused = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));
  return { admitted: settled.length - refused.length, refused };
}

describe('leaseBlock', () => {
  it('is 1 % of the window, at least 1 (exact below 200 points) and at most LEASE_BLOCK_MAX', () => {
    expect([1, 10, 40, 199, 200, 600, 4_999, 1_000_000].map(leaseBlock)).toEqual([
      1,
      1,
      1,
      1,
      2,
      6,
      49,
      LEASE_BLOCK_MAX,
    ]);
  });
});

describe('LeasedLimiter', () => {
  it('asks the shared counter once per block: 20 consumes with a block of 6 are 4 requests of 6', async () => {
    const table = new Table(600, 60_000);
    const limiter = new LeasedLimiter(table, 6, () => clock.now);
    for (let i = 0; i < 20; i += 1) {
      await limiter.consume('key-a');
    }
    expect(table.asked).toEqual(Array.from({ length: 4 }, () => ({ key: 'key-a', points: 6 })));
    // Counted in the shared table before they were admitted: 24, not 20 (4 held here).
    expect(table.count('key-a')).toBe(24);
  });

  it('keeps each key apart', async () => {
    const table = new Table(600, 60_000);
    const limiter = new LeasedLimiter(table, 6, () => clock.now);
    await limiter.consume('key-a');
    await limiter.consume('key-b');
    await limiter.consume('key-a');
    expect(table.asked.map((a) => a.key)).toEqual(['key-a', 'key-b']);
  });

  it('two replicas on one table never admit more than the limit, and at least limit − 2 × (block − 1)', async () => {
    const table = new Table(100, 60_000);
    const replicas = [
      new LeasedLimiter(table, 6, () => clock.now),
      new LeasedLimiter(table, 6, () => clock.now),
    ];
    const consumes: Array<Promise<RateLimiterRes>> = [];
    // Bursts of 7 at a time, alternating replicas, 210 in all.
    for (let burst = 0; burst < 30; burst += 1) {
      const r = replicas[burst % 2]!;
      const wave = Array.from({ length: 7 }, () => r.consume('shared'));
      consumes.push(...wave);
      await Promise.allSettled(wave);
    }
    const { admitted, refused } = await outcomes(consumes);
    expect(admitted).toBeLessThanOrEqual(100);
    expect(admitted).toBeGreaterThanOrEqual(100 - 2 * 5);
    for (const r of refused) {
      expect(r).toBeInstanceOf(RateLimiterRes);
      expect((r as RateLimiterRes).msBeforeNext).toBeGreaterThan(0);
      expect((r as RateLimiterRes).msBeforeNext).toBeLessThanOrEqual(60_000);
    }
    // Once the table said "full", each replica refuses by itself until the window ends.
    const asks = table.asked.length;
    await expect(replicas[0]!.consume('shared')).rejects.toBeInstanceOf(RateLimiterRes);
    await expect(replicas[1]!.consume('shared')).rejects.toBeInstanceOf(RateLimiterRes);
    expect(table.asked.length).toBe(asks);
  });

  it('admits exactly the points under the limit of a refused request, then refuses locally', async () => {
    const table = new Table(10, 1_000);
    const limiter = new LeasedLimiter(table, 4, () => clock.now);
    const results: string[] = [];
    for (let i = 0; i < 14; i += 1) {
      results.push(
        await limiter.consume('k').then(
          () => 'ok',
          (r: unknown) => (r instanceof RateLimiterRes ? 'refused' : 'error'),
        ),
      );
    }
    expect(results.filter((r) => r === 'ok')).toHaveLength(10);
    expect(results.slice(10)).toEqual(['refused', 'refused', 'refused', 'refused']);
    // 4 + 4 + 4 (the third over by 2: 2 of it admitted), then nothing more asked.
    expect(table.asked.map((a) => a.points)).toEqual([4, 4, 4]);
  });

  it('lets what it holds go when the window ends, and asks again', async () => {
    const table = new Table(600, 1_000);
    const limiter = new LeasedLimiter(table, 6, () => clock.now);
    await limiter.consume('k');
    await limiter.consume('k');
    expect(table.asked).toHaveLength(1);
    clock.now += 1_000;
    await limiter.consume('k');
    expect(table.asked).toHaveLength(2);
    // A new window in the table: its count starts over at this block.
    expect(table.count('k')).toBe(6);
  });

  it('starts over after a full window: refused until it ends, admitted after', async () => {
    const table = new Table(3, 1_000);
    const limiter = new LeasedLimiter(table, 1, () => clock.now);
    const first = await outcomes(Array.from({ length: 5 }, () => limiter.consume('k')));
    expect(first.admitted).toBe(3);
    clock.now += 999;
    await expect(limiter.consume('k')).rejects.toBeInstanceOf(RateLimiterRes);
    clock.now += 1;
    await expect(limiter.consume('k')).resolves.toBeInstanceOf(RateLimiterRes);
  });

  it('serves 32 concurrent consumes with at most two requests, sized to the demand', async () => {
    const table = new Table(1_000, 60_000);
    const limiter = new LeasedLimiter(table, 6, () => clock.now);
    const first = limiter.consume('k');
    const rest = Array.from({ length: 31 }, () => limiter.consume('k'));
    const { admitted } = await outcomes([first, ...rest]);
    expect(admitted).toBe(32);
    expect(table.asked.length).toBeLessThanOrEqual(2);
    expect(table.asked[0]!.points).toBe(6);
    const total = table.asked.reduce((sum, a) => sum + a.points, 0);
    expect(total).toBeGreaterThanOrEqual(32);
    // The second request asked for what was still waiting, not one block per consume.
    expect(total).toBeLessThan(32 + 6);
  });

  it('fails the consumes waiting on a failed request with its error, and asks again next time', async () => {
    const table = new Table(600, 60_000);
    const limiter = new LeasedLimiter(table, 6, () => clock.now);
    table.fail = new Error('connection refused');
    const failed = await Promise.allSettled([limiter.consume('k'), limiter.consume('k')]);
    expect(failed.map((f) => f.status)).toEqual(['rejected', 'rejected']);
    expect((failed[0] as PromiseRejectedResult).reason).toBe(table.fail);
    table.fail = null;
    await expect(limiter.consume('k')).resolves.toBeInstanceOf(RateLimiterRes);
    expect(table.asked).toHaveLength(2);
  });

  it("works over rate-limiter-flexible's own counter (its memory limiter, the PostgreSQL limiter's fallback)", async () => {
    const shared = new RateLimiterMemory({ keyPrefix: 'test', points: 250, duration: 60 });
    const replicas = [new LeasedLimiter(shared, 2), new LeasedLimiter(shared, 2)];
    const consumes = Array.from({ length: 300 }, (_, i) => replicas[i % 2]!.consume('k'));
    const { admitted } = await outcomes(consumes);
    expect(admitted).toBeLessThanOrEqual(250);
    expect(admitted).toBeGreaterThanOrEqual(250 - 2 * 1);
    const stored = await shared.get('k');
    expect(stored?.consumedPoints).toBeGreaterThanOrEqual(250);
  });
});
