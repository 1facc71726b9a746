/**
 * Polling the queue tables (the outbox, the jobs) with nothing due: on the embedded engine a poll
 * sends no statement until something can be taken (src/store/due-gate.ts); on PostgreSQL, shared
 * with other replicas, a poll trusts its last reading for `GATEWAY_REPLICA_POLL_MS` at most and a
 * direct call always asks. Each case also checks that what becomes due is found.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createSqlJobStore } from '../../../src/lifecycle/jobs.js';
import type { NewOutboxItem } from '../../../src/store/outbox.js';
import { createSqlOutboxStore } from '../../../src/store/sql-stores.js';
import { allEngines, freshHarness, recordStatements } from './engines.js';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();

const item = (email: string, nextAttemptAt: string): NewOutboxItem => ({
  provider: 'NOTIFUSE',
  kind: 'upsert',
  gatewayId: `g-${email}`,
  item: {
    ref: 'r',
    gatewayId: `g-${email}`,
    patch: { email },
    known: {},
    remoteId: null,
    options: {},
    idempotencyKey: null,
  },
  lastError: null,
  nextAttemptAt,
});
const failed = { code: 'UPSTREAM_UNAVAILABLE', message: 'HTTP 503', retryable: true };

const engines = allEngines().filter((e) => e.sql);
afterAll(async () => {
  for (const e of engines) {
    await e.teardown();
  }
});

describe.each(engines.filter((e) => e.name.startsWith('embedded')))('polls on $name', (engine) => {
  const harness = freshHarness(engine);

  it('an empty outbox is asked once; later polls send nothing until a write is enqueued, which the next poll takes', async () => {
    const { counting, take } = recordStatements(harness().db!);
    const outbox = createSqlOutboxStore(counting);
    expect(await outbox.claimDue(at(0), 10, 60_000)).toEqual([]);
    expect(take()).toHaveLength(2); // the claim, and when the next row is due
    for (let ms = 250; ms <= 60_000; ms += 250) {
      expect(await outbox.claimDue(at(ms), 10, 60_000)).toEqual([]);
    }
    expect(take()).toEqual([]);

    const [queued] = await outbox.enqueue([item('a@x.io', at(60_000))], at(60_000));
    take();
    const taken = await outbox.claimDue(at(60_001), 10, 60_000);
    expect(taken.map((i) => [i.id, i.status, i.attempts])).toEqual([[queued!.id, 'DELIVERING', 1]]);
    expect(take()).toHaveLength(2);
  });

  it('a write due later is taken at its time, not before, and nothing is sent while it waits', async () => {
    const { counting, take } = recordStatements(harness().db!);
    const outbox = createSqlOutboxStore(counting);
    const [queued] = await outbox.enqueue([item('later@x.io', at(5000))], at(0));
    expect(await outbox.claimDue(at(0), 10, 60_000)).toEqual([]);
    take();
    for (let ms = 1000; ms < 5000; ms += 1000) {
      expect(await outbox.claimDue(at(ms), 10, 60_000)).toEqual([]);
    }
    expect(take()).toEqual([]);
    expect((await outbox.claimDue(at(5000), 10, 60_000)).map((i) => i.id)).toEqual([queued!.id]);
    expect(take()).toHaveLength(2);
  });

  it('a leased write is taken again when its lease ends (its taker never finished it)', async () => {
    const { counting, take } = recordStatements(harness().db!);
    const outbox = createSqlOutboxStore(counting);
    const [queued] = await outbox.enqueue([item('lease@x.io', at(0))], at(0));
    expect((await outbox.claimDue(at(0), 10, 30_000)).map((i) => i.id)).toEqual([queued!.id]);
    take();
    expect(await outbox.claimDue(at(29_999), 10, 30_000)).toEqual([]);
    expect(take()).toEqual([]);
    const again = await outbox.claimDue(at(30_000), 10, 30_000);
    expect(again.map((i) => [i.id, i.attempts])).toEqual([[queued!.id, 2]]);
  });

  it('a reschedule or a finish makes the next poll ask again', async () => {
    const { counting, take } = recordStatements(harness().db!);
    const outbox = createSqlOutboxStore(counting);
    const [a, b] = await outbox.enqueue([item('r1@x.io', at(0)), item('r2@x.io', at(0))], at(0));
    await outbox.claimDue(at(0), 10, 60_000);
    await outbox.reschedule(a!.id, at(1000), failed);
    take();
    expect((await outbox.claimDue(at(1000), 10, 60_000)).map((i) => i.id)).toEqual([a!.id]);
    await outbox.finish(b!.id, { status: 'DELIVERED', remoteId: 'n-1', error: null });
    await outbox.finish(a!.id, { status: 'DELIVERED', remoteId: 'n-2', error: null });
    take();
    expect(await outbox.claimDue(at(2000), 10, 60_000)).toEqual([]);
    expect(take()).toHaveLength(2);
    expect(await outbox.claimDue(at(3000), 10, 60_000)).toEqual([]);
    expect(take()).toEqual([]);
  });

  it('a write enqueued while a poll is reading when the next row is due is found by the next poll', async () => {
    const { counting, afterNext } = recordStatements(harness().db!);
    const outbox = createSqlOutboxStore(counting);
    let added = '';
    // Right after the poll's look at the next due row (which saw none), before it keeps that.
    afterNext(/SELECT min\(/, async () => {
      const [queued] = await outbox.enqueue([item('meanwhile@x.io', at(0))], at(0));
      added = queued!.id;
    });
    expect(await outbox.claimDue(at(0), 10, 60_000)).toEqual([]);
    expect(added).not.toBe('');
    expect((await outbox.claimDue(at(1), 10, 60_000)).map((i) => i.id)).toEqual([added]);
  });

  it('every handle on the connection shares what it knows: a write through another is found', async () => {
    const twin = await engine.twin(harness());
    try {
      const { counting, take } = recordStatements(harness().db!);
      const outbox = createSqlOutboxStore(counting);
      expect(await outbox.claimDue(at(0), 10, 60_000)).toEqual([]);
      const [queued] = await twin.outbox.enqueue([item('twin@x.io', at(0))], at(0));
      take();
      expect((await outbox.claimDue(at(1), 10, 60_000)).map((i) => i.id)).toEqual([queued!.id]);
    } finally {
      await twin.close();
    }
  });

  it('jobs: each type is asked once while none is due; a retry is taken at its time', async () => {
    const { counting, take } = recordStatements(harness().db!);
    const jobs = createSqlJobStore(counting);
    await jobs.add([{ id: 'w1', type: 'webhook', payload: { n: 1 }, nextAttemptAt: at(0) }], at(0));
    expect((await jobs.claimDue('webhook', at(0), 10, 60_000)).map((j) => j.id)).toEqual(['w1']);
    expect(await jobs.claimDue('batch', at(0), 10, 60_000)).toEqual([]);
    await jobs.retry('w1', at(10_000), 'HTTP 500');
    take();
    expect(await jobs.claimDue('webhook', at(1), 10, 60_000)).toEqual([]);
    expect(await jobs.claimDue('batch', at(1), 10, 60_000)).toEqual([]);
    expect(take()).toHaveLength(4);
    for (let ms = 250; ms < 10_000; ms += 250) {
      expect(await jobs.claimDue('webhook', at(ms), 10, 60_000)).toEqual([]);
      expect(await jobs.claimDue('batch', at(ms), 10, 60_000)).toEqual([]);
    }
    expect(take()).toEqual([]);
    const [again] = await jobs.claimDue('webhook', at(10_000), 10, 60_000);
    expect([again?.id, again?.attempts, again?.lastError]).toEqual(['w1', 2, 'HTTP 500']);
    await jobs.done('w1', at(10_001));
    take();
    expect(await jobs.claimDue('webhook', at(10_002), 10, 60_000)).toEqual([]);
    expect(await jobs.claimDue('webhook', at(10_003), 10, 60_000)).toEqual([]);
    expect(take()).toHaveLength(2);
  });

  it('may sleep only once a poll found the outbox empty, and is woken once by the next enqueue, not by a purge', async () => {
    const outbox = createSqlOutboxStore(harness().db!);
    let woken = 0;
    const wake = () => {
      woken += 1;
    };
    expect(outbox.sleep?.(wake)).toBe(false);
    await outbox.claimDue(at(0), 10, 60_000);
    expect(outbox.sleep?.(wake)).toBe(true);
    await outbox.purge(at(0));
    expect(woken).toBe(0);
    await outbox.enqueue([item('wake@x.io', at(0))], at(0));
    expect(woken).toBe(1);
    expect(outbox.sleep?.(wake)).toBe(false);
    await outbox.claimDue(at(1), 10, 60_000);
    // Taken and leased: open until it ends.
    expect(outbox.sleep?.(wake)).toBe(false);
    expect(woken).toBe(1);
  });

  it('jobs: sleeps only when every type was polled and none is open; a pending retry keeps it awake', async () => {
    const jobs = createSqlJobStore(harness().db!);
    const wake = () => {};
    await jobs.claimDue('webhook', at(0), 10, 60_000);
    expect(jobs.sleep?.(['webhook', 'batch'], wake)).toBe(false);
    await jobs.claimDue('batch', at(0), 10, 60_000);
    expect(jobs.sleep?.(['webhook', 'batch'], wake)).toBe(true);
    await jobs.add([{ id: 'r', type: 'batch', payload: {}, nextAttemptAt: at(0) }], at(0));
    await jobs.claimDue('batch', at(1), 10, 60_000);
    await jobs.retry('r', at(5000), 'later');
    await jobs.claimDue('webhook', at(2), 10, 60_000);
    await jobs.claimDue('batch', at(2), 10, 60_000);
    expect(jobs.sleep?.(['webhook', 'batch'], wake)).toBe(false);
  });
});

describe.each(engines.filter((e) => e.name === 'postgres'))('polls on $name', (engine) => {
  const harness = freshHarness(engine);

  it('a direct call always asks; a poll with nothing due asks once, then sends nothing until the horizon', async () => {
    const { counting, take } = recordStatements(harness().db!);
    // A reading trusted for 1,000 ms (GATEWAY_REPLICA_POLL_MS), by the stores' clock.
    const outbox = createSqlOutboxStore(counting, 1000);
    const jobs = createSqlJobStore(counting, 1000);
    for (let ms = 0; ms < 1000; ms += 250) {
      expect(await outbox.claimDue(at(ms), 10, 60_000)).toEqual([]);
      expect(await jobs.claimDue('webhook', at(ms), 10, 60_000)).toEqual([]);
    }
    // Tests and operators call the delivery directly: every call is a claim, nothing kept.
    expect(take()).toHaveLength(8);
    expect(await outbox.claimDue(at(0), 10, 60_000, true)).toEqual([]);
    expect(await jobs.claimDue('webhook', at(0), 10, 60_000, true)).toEqual([]);
    // The claim and the next due instant (none).
    expect(take()).toHaveLength(4);
    for (const ms of [250, 500, 999]) {
      expect(await outbox.claimDue(at(ms), 10, 60_000, true)).toEqual([]);
      expect(await jobs.claimDue('webhook', at(ms), 10, 60_000, true)).toEqual([]);
    }
    expect(take()).toEqual([]);
    expect(await outbox.claimDue(at(1000), 10, 60_000, true)).toEqual([]);
    expect(await jobs.claimDue('webhook', at(1000), 10, 60_000, true)).toEqual([]);
    expect(take()).toHaveLength(4);
  });

  it("another replica's write: a direct call finds it at once, a poll within the horizon; this process's own, the next poll", async () => {
    // A handle of its own (the harness's stores made the gate of its handle, with the default).
    const { counting: db } = recordStatements(harness().db!);
    const outbox = createSqlOutboxStore(db, 1000);
    expect(await outbox.claimDue(at(0), 10, 60_000, true)).toEqual([]);
    const twin = await engine.twin(harness());
    try {
      const [x] = await twin.outbox.enqueue([item('x@x.io', at(0))], at(0));
      // This process cannot know of it yet: its poll trusts its last reading.
      expect(await outbox.claimDue(at(500), 10, 60_000, true)).toEqual([]);
      expect((await outbox.claimDue(at(500), 10, 60_000)).map((i) => i.id)).toEqual([x!.id]);
      const [y] = await twin.outbox.enqueue([item('y@x.io', at(0))], at(0));
      expect((await outbox.claimDue(at(1000), 10, 60_000, true)).map((i) => i.id)).toEqual([y!.id]);
      // Both leased for a minute: nothing due before then, and nothing asked.
      expect(await outbox.claimDue(at(1001), 10, 60_000, true)).toEqual([]);
      const [z] = await outbox.enqueue([item('z@x.io', at(1001))], at(1001));
      expect((await outbox.claimDue(at(1002), 10, 60_000, true)).map((i) => i.id)).toEqual([z!.id]);
      // The jobs: another replica's job is found after the horizon.
      const jobs = createSqlJobStore(db, 1000);
      expect(await jobs.claimDue('webhook', at(0), 10, 60_000, true)).toEqual([]);
      await createSqlJobStore(twin.db!).add(
        [{ id: 'j', type: 'webhook', payload: {}, nextAttemptAt: at(0) }],
        at(0),
      );
      expect(await jobs.claimDue('webhook', at(999), 10, 60_000, true)).toEqual([]);
      expect((await jobs.claimDue('webhook', at(1000), 10, 60_000, true)).map((j) => j.id)).toEqual(
        ['j'],
      );
    } finally {
      await twin.close();
    }
  });

  it('a poller sleeps while nothing is open: woken by its own write at once, else at the horizon', async () => {
    // The horizon's wake-up runs on the real clock: 100 ms here.
    const outbox = createSqlOutboxStore(recordStatements(harness().db!).counting, 100);
    let woken = 0;
    const wake = () => {
      woken += 1;
    };
    expect(await outbox.claimDue(at(0), 10, 60_000, true)).toEqual([]);
    expect(outbox.sleep?.(wake)).toBe(true);
    const slept = Date.now();
    while (woken === 0 && Date.now() - slept < 2000) {
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(woken).toBe(1);
    expect(Date.now() - slept).toBeGreaterThanOrEqual(90);
    // Woken: the next poll asks again, then sleeps again; a write of this process wakes it at once.
    expect(await outbox.claimDue(at(1), 10, 60_000, true)).toEqual([]);
    expect(outbox.sleep?.(wake)).toBe(true);
    await outbox.enqueue([item('wake@x.io', at(1))], at(1));
    expect(woken).toBe(2);
  });
});
