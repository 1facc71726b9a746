/**
 * The jobs poller of an idle gateway (src/lifecycle/index.ts): on the embedded engine it stops
 * looking while no job is open and is woken by the next job written; jobs due later (a retry) are
 * still taken at their time. On the memory store (no gate) it looks every `jobsPollMs` as before.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { startOutboxDelivery } from '../../../src/app.js';
import { loadConfig } from '../../../src/config.js';
import { loadLifecycleConfig } from '../../../src/lifecycle/config.js';
import { Lifecycle } from '../../../src/lifecycle/index.js';
import {
  createMemoryJobStore,
  createSqlJobStore,
  type Job,
  type JobStore,
} from '../../../src/lifecycle/jobs.js';
import { createLogger } from '../../../src/logger.js';
import { type Database, openDatabase } from '../../../src/store/db.js';
import { createSqlOutboxStore } from '../../../src/store/sql-stores.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) {
    await close();
  }
});

/** `store` with its `claimDue` calls counted (a look, whether or not it sends a statement). */
function counted(store: JobStore) {
  const looks = { n: 0 };
  return {
    looks,
    store: {
      ...store,
      claimDue: (...args: Parameters<JobStore['claimDue']>) => {
        looks.n += 1;
        return store.claimDue(...args);
      },
    } satisfies JobStore,
  };
}

async function lifecycleOn(jobs: JobStore) {
  const problems: string[] = [];
  const config = loadLifecycleConfig(
    { GATEWAY_JOBS_POLL_MS: '10', GATEWAY_WEBHOOK_BASE_DELAY_MS: '40' },
    problems,
  );
  expect(problems).toEqual([]);
  const lifecycle = new Lifecycle({
    config,
    outbox: null,
    jobs,
    logger: createLogger('silent'),
    leaseMs: 60_000,
  });
  const runs: Array<{ id: string; attempts: number; at: number }> = [];
  let failFirst = true;
  lifecycle.handle({
    type: 'test',
    limit: 10,
    async run(job: Job) {
      runs.push({ id: job.id, attempts: job.attempts, at: Date.now() });
      if (failFirst) {
        failFirst = false;
        throw new Error('first attempt fails');
      }
    },
  });
  closers.push(() => lifecycle.stop());
  return { lifecycle, runs };
}

/** An embedded database in memory, a fresh schema, closed after the test. */
async function embeddedDb(): Promise<Database> {
  const db = await openDatabase({
    databaseUrl: null,
    dataDir: 'memory://',
    schema: `t_${randomUUID().replaceAll('-', '').slice(0, 16)}`,
  });
  closers.push(() => db.close());
  return db;
}

const until = async (check: () => boolean, ms = 2000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) {
      throw new Error('timed out');
    }
    await sleep(5);
  }
};

describe('the jobs poller', () => {
  it('embedded: stops looking while no job is open, wakes for a job written, and takes its retry at its time', async () => {
    const db = await embeddedDb();
    const { store, looks } = counted(createSqlJobStore(db));
    const { lifecycle, runs } = await lifecycleOn(store);
    lifecycle.start();
    await sleep(100);
    const settled = looks.n;
    expect(settled).toBeGreaterThan(0);
    await sleep(200);
    // Asleep: every 10 ms would have been ~20 more looks.
    expect(looks.n - settled).toBeLessThanOrEqual(1);

    // Written straight to the store, as another part of the process would (no kick).
    await store.add(
      [{ id: 'j1', type: 'test', payload: {}, nextAttemptAt: new Date().toISOString() }],
      new Date().toISOString(),
    );
    await until(() => runs.length >= 1, 1000);
    const first = runs[0]!;
    // The first attempt failed: retried 20–40 ms later, not before, while the poller stays awake.
    await until(() => runs.length >= 2, 1000);
    expect(runs.map((r) => [r.id, r.attempts])).toEqual([
      ['j1', 1],
      ['j1', 2],
    ]);
    expect(runs[1]!.at - first.at).toBeGreaterThanOrEqual(19);

    // Done: asleep again.
    await sleep(100);
    const after = looks.n;
    await sleep(200);
    expect(looks.n - after).toBeLessThanOrEqual(1);
  });

  it('memory store (no gate): looks every jobsPollMs', async () => {
    const { store, looks } = counted(createMemoryJobStore());
    const { lifecycle } = await lifecycleOn(store);
    lifecycle.start();
    await sleep(100);
    const before = looks.n;
    await sleep(200);
    expect(looks.n - before).toBeGreaterThanOrEqual(5);
  });
});

describe('the outbox delivery poller', () => {
  it('embedded: stops while no write waits, and a write enqueued later is delivered when due', async () => {
    const db = await embeddedDb();
    const outbox = createSqlOutboxStore(db);
    const delivered: string[] = [];
    let runs = 0;
    // The delivery's own poll (ContactsService.deliverOutbox takes due writes the same way).
    const service = {
      async deliverOutbox(opts: { limit?: number; leaseMs?: number } = {}) {
        runs += 1;
        const due = await outbox.claimDue(new Date().toISOString(), opts.limit ?? 100, 60_000);
        for (const w of due) {
          delivered.push(w.gatewayId);
          await outbox.finish(w.id, { status: 'DELIVERED', remoteId: 'r', error: null });
        }
        return due.length;
      },
    };
    const config = loadConfig({ OUTBOX_POLL_MS: '10', GATEWAY_DATA_DIR: 'memory://' });
    const delivery = startOutboxDelivery(service, outbox, config, createLogger('silent'));
    closers.push(() => delivery.stop());
    await sleep(100);
    const settled = runs;
    await sleep(200);
    expect(runs - settled).toBe(0);

    await outbox.enqueue(
      [
        {
          provider: 'NOTIFUSE',
          kind: 'upsert',
          gatewayId: 'g-1',
          item: {
            ref: 'r',
            gatewayId: 'g-1',
            patch: { email: 'q@x.io' },
            known: {},
            remoteId: null,
            options: {},
            idempotencyKey: null,
          },
          lastError: null,
          nextAttemptAt: new Date(Date.now() + 50).toISOString(),
        },
      ],
      new Date().toISOString(),
    );
    await until(() => delivered.length === 1, 1000);
    expect(delivered).toEqual(['g-1']);
    await sleep(100);
    const after = runs;
    await sleep(200);
    expect(runs - after).toBe(0);
  });
});
