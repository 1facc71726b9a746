import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { DotdigitalSandbox } from '../../src/sandbox/dotdigital/index.js';
import type { NotifuseSandbox } from '../../src/sandbox/notifuse/index.js';
import { type RunningSandboxes, startSandboxes } from '../../src/sandbox-mode.js';
import { statusFaults } from '../helpers/faults.js';
import { readOne, updateOne, upsertOne } from '../helpers/operations.js';
import {
  killServerProcesses,
  postGraphql,
  type ServerProcess,
  startServerProcess,
} from '../helpers/server-process.js';

/**
 * The real gateway process on the embedded store, killed with SIGKILL in the middle of traffic and
 * started again on the same data directory. The providers (sandboxes) live in this process, so they
 * outlive the gateway, as real providers do.
 */
const UPSERT = upsertOne('contact { id } outcomes { provider status remoteId }');
const UPDATE = updateOne('outcomes { provider status }');
const PENDING = '{ pendingWrites { provider attempts lastError { code } } }';
const READ = readOne('id records { provider remoteId }');

let sandboxes: RunningSandboxes;
let notifuse: NotifuseSandbox;
let dotdigital: DotdigitalSandbox;
const dataDir = mkdtempSync(path.join(tmpdir(), 'gateway-restart-'));

function startGateway(extra: Record<string, string> = {}): Promise<ServerProcess> {
  return startServerProcess({
    dataDir,
    providers: sandboxes,
    env: {
      RETRY_MAX_ATTEMPTS: '2',
      RETRY_BASE_DELAY_MS: '10',
      OUTBOX_POLL_MS: '50',
      OUTBOX_BASE_DELAY_MS: '50',
      OUTBOX_LEASE_MS: '1000',
      BREAKER_THRESHOLD: '1000',
      DOTDIGITAL_RATE_PER_SECOND: '0',
      DOTDIGITAL_IMPORT_POLL_INTERVAL_MS: '10',
      // A request cut off by the kill left its key "in progress"; after this it may run again.
      IDEMPOTENCY_IN_PROGRESS_TTL_MS: '500',
      ...extra,
    },
  });
}

const gql = (url: string, query: string, variables: Record<string, unknown> = {}) =>
  postGraphql<Record<string, unknown>>(url, query, variables);

beforeAll(async () => {
  sandboxes = await startSandboxes(loadConfig({}), { only: ['NOTIFUSE', 'DOTDIGITAL'] });
  notifuse = sandboxes.sandboxes.find((s) => s.provider === 'NOTIFUSE')!.sandbox as NotifuseSandbox;
  dotdigital = sandboxes.sandboxes.find((s) => s.provider === 'DOTDIGITAL')!
    .sandbox as DotdigitalSandbox;
});

afterAll(async () => {
  killServerProcesses();
  await sandboxes?.close();
});

describe('SIGKILL mid-traffic, then a restart on the same embedded store', () => {
  it('loses no accepted write, writes nothing twice, and keeps identity and the outbox', async () => {
    // The first process never delivers from its outbox (poll 0): the queued write must outlive it.
    let gateway = await startGateway({ OUTBOX_POLL_MS: '0' });

    // A contact at both providers, and one write to Dotdigital that can only be QUEUED.
    const a = await gql(gateway.url, UPSERT, {
      input: { email: 'alpha@example.com', firstName: 'Alpha' },
    });
    const alpha = a.data!['upsertContact'] as { contact: { id: string } };
    dotdigital.controls.inject({
      faults: statusFaults(10_000, 503, { errorCode: 'down', description: 'maintenance' }),
    });
    const b = await gql(gateway.url, UPSERT, {
      input: { email: 'beta@example.com', firstName: 'Beta' },
      options: { providers: ['DOTDIGITAL'] },
    });
    expect(b.data!['upsertContact']).toMatchObject({ outcomes: [{ status: 'QUEUED' }] });

    // Traffic: 30 writes with idempotency keys to Notifuse (slow), killed part-way through.
    notifuse.controls.setLatency(40);
    const sent = Array.from({ length: 30 }, (_, i) => ({
      input: { email: `t${i}@example.com`, firstName: `T${i}` },
      options: { providers: ['NOTIFUSE'], idempotencyKey: `traffic-${i}` },
    }));
    const answered = new Map<number, Awaited<ReturnType<typeof gql>>>();
    const inFlight = sent.map((v, i) =>
      gql(gateway.url, UPSERT, v)
        .then((r) => {
          answered.set(i, r);
        })
        .catch(() => undefined),
    );
    while (answered.size < 5) {
      await sleep(5);
    }
    await gateway.kill();
    await Promise.all(inFlight);
    notifuse.controls.setLatency(0);
    const answeredBeforeKill = new Map(answered);
    expect(answeredBeforeKill.size).toBeGreaterThanOrEqual(5);
    expect(answeredBeforeKill.size).toBeLessThan(30);

    // Restart on the same data directory; the provider recovers.
    dotdigital.controls.clearFaults();
    gateway = await startGateway();

    // The queued write survives the kill and is delivered.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const p = await gql(gateway.url, PENDING);
      if ((p.data!['pendingWrites'] as unknown[]).length === 0) {
        break;
      }
      expect(Date.now()).toBeLessThan(deadline);
      await sleep(50);
    }
    expect(dotdigital.store.getByEmail('beta@example.com')).toBeTruthy();

    // Every client retries with its key: answered writes replay without a second provider write;
    // cut-off ones run (once their abandoned reservation has expired).
    await sleep(600);
    const before = new Map(
      sent.map((v) => [
        v.input.email,
        notifuse.controls.requests.filter(
          (r) => (r.body as { contact?: { email?: string } })?.contact?.email === v.input.email,
        ).length,
      ]),
    );
    const retried = await Promise.all(sent.map((v) => gql(gateway.url, UPSERT, v)));
    for (const [i, r] of retried.entries()) {
      expect(r.errors, `traffic-${i}`).toBeUndefined();
      const email = sent[i]!.input.email;
      const writes = notifuse.controls.requests.filter(
        (q) => (q.body as { contact?: { email?: string } })?.contact?.email === email,
      ).length;
      if (answeredBeforeKill.has(i)) {
        expect(r.data).toEqual(answeredBeforeKill.get(i)!.data);
        expect(writes, `${email} written again`).toBe(before.get(email));
      }
      expect(notifuse.store.get(email), email).toMatchObject({ first_name: `T${i}` });
    }
    // One contact per email at the provider, whatever was cut off.
    expect(notifuse.store.all().filter((c) => c.email.startsWith('t')).length).toBe(30);

    // Identity survived: the same gateway id, and updateContact reaches both providers.
    const read = await gql(gateway.url, READ, { email: 'alpha@example.com' });
    expect((read.data!['contact'] as { id: string }).id).toBe(alpha.contact.id);
    const updated = await gql(gateway.url, UPDATE, {
      id: alpha.contact.id,
      patch: { lastName: 'After' },
    });
    const statuses = (
      updated.data!['updateContact'] as { outcomes: Array<{ provider: string; status: string }> }
    ).outcomes
      .map((o) => [o.provider, o.status])
      .sort();
    expect(statuses).toEqual([
      ['DOTDIGITAL', 'UPDATED'],
      ['NOTIFUSE', 'UPDATED'],
    ]);
    await gateway.kill();
  }, 120_000);
});
