import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { statusFaults } from '../helpers/faults.js';
import { useTestGateway } from '../helpers/gateway.js';
import { readOne, updateOne, upsertOne } from '../helpers/operations.js';

/**
 * The outbox: a write whose retries end on a retryable failure is kept, answered QUEUED, listed by
 * `pendingWrites`, and delivered in the background once the provider recovers.
 */
const UPSERT = upsertOne(
  'contact { id records { provider remoteId } } outcomes { provider status remoteId attempts details error { code httpStatus retryable } }',
);
const UPDATE = updateOne('outcomes { provider status attempts details error { code retryable } }');
const PENDING = `{ pendingWrites { id provider kind contactId attempts nextAttemptAt createdAt
  lastError { code httpStatus retryable } } }`;
const READ = readOne('id firstName records { provider remoteId }');

interface Outcome {
  provider: string;
  status: string;
  remoteId: string | null;
  attempts: number;
  details: Record<string, unknown> | null;
  error: { code: string; httpStatus: number | null; retryable: boolean } | null;
}
interface Pending {
  id: string;
  provider: string;
  kind: string;
  contactId: string;
  attempts: number;
  nextAttemptAt: string;
  lastError: { code: string; httpStatus: number | null; retryable: boolean } | null;
}

const t = useTestGateway(
  {
    RETRY_MAX_ATTEMPTS: '2',
    RETRY_BASE_DELAY_MS: '5',
    OUTBOX_POLL_MS: '25',
    OUTBOX_BASE_DELAY_MS: '50',
    // The breaker has its own test (resilience); here it must not pause deliveries for 30 s.
    BREAKER_THRESHOLD: '100',
  },
  { only: ['NOTIFUSE', 'DOTDIGITAL'] },
);

async function upsert(input: Record<string, unknown>, providers: string[]) {
  const res = await t.gql<{
    upsertContact: { contact: { id: string }; outcomes: Outcome[] };
  }>(UPSERT, { input, options: { providers } });
  expect(res.errors).toBeUndefined();
  return res.data.upsertContact;
}

async function pending(): Promise<Pending[]> {
  const res = await t.gql<{ pendingWrites: Pending[] }>(PENDING);
  expect(res.errors).toBeUndefined();
  return res.data.pendingWrites;
}

/** Waits (bounded) until nothing is pending; returns how long it took. */
async function drained(limitMs = 5_000): Promise<number> {
  const start = Date.now();
  while ((await pending()).length > 0) {
    if (Date.now() - start > limitMs) {
      throw new Error(`outbox not drained after ${limitMs} ms: ${JSON.stringify(await pending())}`);
    }
    await sleep(20);
  }
  return Date.now() - start;
}

describe('outbox', () => {
  it('queues a write whose retries end on a 503, lists it, and delivers it once the provider is back', async () => {
    // Both attempts of the request fail, and the first background delivery too.
    t.notifuse.controls.inject({
      path: '/api/contacts.upsert',
      faults: statusFaults(3, 503, { error: 'maintenance' }),
    });
    const res = await upsert({ email: 'queued@example.com', firstName: 'Q' }, ['NOTIFUSE']);
    const [outcome] = res.outcomes;
    expect(outcome).toMatchObject({
      provider: 'NOTIFUSE',
      status: 'QUEUED',
      attempts: 2,
      error: { httpStatus: 503, retryable: true },
    });
    const outboxId = outcome!.details!['outboxId'];
    expect(outboxId).toEqual(expect.any(String));
    expect(t.notifuse.store.get('queued@example.com')).toBeUndefined();

    const [waiting] = await pending();
    expect(waiting).toMatchObject({
      id: outboxId,
      provider: 'NOTIFUSE',
      kind: 'UPSERT',
      contactId: res.contact.id,
      lastError: { httpStatus: 503, retryable: true },
    });

    await drained();
    expect(t.notifuse.store.get('queued@example.com')).toMatchObject({ first_name: 'Q' });
    // 2 request attempts + 1 failed background delivery + the one that went through.
    expect(t.notifuse.controls.requestCount({ path: '/api/contacts.upsert' })).toBe(4);
    const read = await t.gql<{ contact: { id: string; records: unknown[] } }>(READ, {
      email: 'queued@example.com',
    });
    expect(read.data.contact).toMatchObject({
      id: res.contact.id,
      records: [{ provider: 'NOTIFUSE', remoteId: 'queued@example.com' }],
    });
  });

  it('keeps only the failing provider’s write; the other provider is written at once', async () => {
    t.dotdigital.controls.inject({
      // The contact write (not the account's data field list the adapter may read first).
      method: 'PATCH',
      faults: [{ kind: 'reset' }, { kind: 'reset' }],
    });
    const res = await upsert({ email: 'split@example.com', firstName: 'S' }, [
      'NOTIFUSE',
      'DOTDIGITAL',
    ]);
    const by = Object.fromEntries(res.outcomes.map((o) => [o.provider, o]));
    expect(by['NOTIFUSE']).toMatchObject({ status: 'CREATED' });
    expect(by['DOTDIGITAL']).toMatchObject({
      status: 'QUEUED',
      error: { code: 'UPSTREAM_UNAVAILABLE', retryable: true },
    });
    expect((await pending()).map((p) => p.provider)).toEqual(['DOTDIGITAL']);
    await drained();
    expect(t.dotdigital.store.getByEmail('split@example.com')).toBeTruthy();
    expect(t.notifuse.controls.requestCount({ path: '/api/contacts.upsert' })).toBe(1);
  });

  it('does not queue a failure a retry cannot fix', async () => {
    t.notifuse.controls.inject({
      path: '/api/contacts.upsert',
      faults: [{ kind: 'status', status: 400, body: { error: 'invalid contact' } }],
    });
    const res = await upsert({ email: 'refused@example.com' }, ['NOTIFUSE']);
    expect(res.outcomes[0]).toMatchObject({
      status: 'FAILED',
      attempts: 1,
      error: { httpStatus: 400, retryable: false },
    });
    expect(await pending()).toEqual([]);
  });

  it('backs off while the provider stays down, then delivers an update to the same remote id', async () => {
    const created = await upsert({ email: 'later@example.com', firstName: 'A' }, ['DOTDIGITAL']);
    const contactId = created.outcomes[0]!.remoteId!;
    t.dotdigital.controls.reset();
    t.dotdigital.controls.inject({
      method: 'PATCH',
      // 2 attempts while answering, then 2 failed background deliveries of 2 attempts each.
      faults: statusFaults(6, 502, { errorCode: 'gateway', description: 'bad gateway' }),
    });
    const res = await t.gql<{ updateContact: { outcomes: Outcome[] } }>(UPDATE, {
      id: created.contact.id,
      patch: { lastName: 'Later' },
    });
    expect(res.data.updateContact.outcomes[0]).toMatchObject({ status: 'QUEUED' });
    // Background attempts fail a few times: the item stays, with a growing attempt count.
    let seen: Pending | undefined;
    for (let i = 0; i < 100 && !(seen && seen.attempts >= 2); i += 1) {
      [seen] = await pending();
      await sleep(20);
    }
    expect(seen).toMatchObject({ kind: 'UPDATE', lastError: { httpStatus: 502 } });
    expect(seen!.attempts).toBeGreaterThanOrEqual(2);
    await drained();
    const patches = t.dotdigital.controls.requests.filter((r) => r.method === 'PATCH');
    expect(new Set(patches.map((r) => r.path))).toEqual(
      new Set([`/contacts/v3/contactId/${contactId}`]),
    );
    // Backoff: the background attempts are spread out, not fired back to back.
    const background = patches.slice(2).map((r) => r.at);
    const gaps = background.slice(1).map((at, i) => at - background[i]!);
    expect(Math.max(...gaps)).toBeGreaterThanOrEqual(25);
    expect(t.dotdigital.store.getByEmail('later@example.com')).toMatchObject({
      dataFields: expect.objectContaining({ LASTNAME: 'Later' }),
    });
  });
});
