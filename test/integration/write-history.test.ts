import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { statusFaults } from '../helpers/faults.js';
import { createTestGateway, type TestGateway } from '../helpers/gateway.js';
import { upsertMany, upsertOne } from '../helpers/operations.js';

/**
 * The write history (issue 16): every QUEUED outcome carries a `writeId` that `write` and `writes`
 * follow to its end, including a Dotdigital import that outlives DOTDIGITAL_IMPORT_MAX_WAIT_MS
 * (re-polled by the outbox, each contact's end state read from the import report), and the
 * outbox waits at least the provider's Retry-After.
 */
const UPSERTS = upsertMany('items { contact { id } outcomes { provider status writeId details } }');
const UPSERT = upsertOne(
  'contact { id } outcomes { provider status writeId details error { code } }',
);
const WRITE = `query($id: ID!) { write(id: $id) {
  id provider kind contactId status attempts remoteId importId nextAttemptAt createdAt updatedAt endedAt
  lastError { code message retryable } } }`;
const WRITES = `query($status: WriteStatus, $provider: Provider, $first: Int, $after: String) {
  writes(status: $status, provider: $provider, first: $first, after: $after) {
    edges { cursor node { id status } } pageInfo { hasNextPage endCursor } } }`;

interface Write {
  id: string;
  provider: string;
  kind: string;
  contactId: string;
  status: string;
  attempts: number;
  remoteId: string | null;
  importId: string | null;
  nextAttemptAt: string | null;
  createdAt: string;
  updatedAt: string;
  endedAt: string | null;
  lastError: { code: string; message: string; retryable: boolean } | null;
}

let t: TestGateway;

beforeAll(async () => {
  t = await createTestGateway(
    {
      RETRY_MAX_ATTEMPTS: '1',
      OUTBOX_POLL_MS: '25',
      OUTBOX_BASE_DELAY_MS: '50',
      BREAKER_THRESHOLD: '100',
      DOTDIGITAL_IMPORT_MAX_WAIT_MS: '30',
      DOTDIGITAL_IMPORT_POLL_INTERVAL_MS: '10',
    },
    { only: ['NOTIFUSE', 'DOTDIGITAL'] },
  );
}, 60_000);
afterAll(async () => {
  await t.close();
});
beforeEach(() => {
  t.notifuse.controls.reset();
  t.dotdigital.controls.reset();
  t.dotdigital.setImportProcessingMs(50);
});

async function write(id: string): Promise<Write | null> {
  const res = await t.gql<{ write: Write | null }>(WRITE, { id });
  expect(res.errors).toBeUndefined();
  return res.data.write;
}

/** Polls `write(id)` (bounded) until it ended. */
async function ended(id: string, limitMs = 10_000): Promise<Write> {
  const start = Date.now();
  for (;;) {
    const w = await write(id);
    if (w?.endedAt) {
      return w;
    }
    if (Date.now() - start > limitMs) {
      throw new Error(`write ${id} did not end: ${JSON.stringify(w)}`);
    }
    await sleep(20);
  }
}

describe('write history', () => {
  it('follows a Dotdigital import that outlives the wait to each contact’s end state', async () => {
    t.dotdigital.setImportProcessingMs(400);
    const res = await t.gql<{
      upsertContacts: {
        items: Array<{
          contact: { id: string };
          outcomes: Array<{
            status: string;
            writeId: string | null;
            details: Record<string, unknown>;
          }>;
        }>;
      };
    }>(UPSERTS, {
      inputs: [
        { email: 'kept-1@example.com', firstName: 'One' },
        { email: 'kept-2@example.com', firstName: 'Two' },
        { email: 'refused@suppressed.example', firstName: 'Three' },
      ],
      options: { providers: ['DOTDIGITAL'] },
    });
    expect(res.errors).toBeUndefined();
    const items = res.data.upsertContacts.items;
    const outcomes = items.map((i) => i.outcomes[0]!);
    expect(outcomes.map((o) => o.status)).toEqual(['QUEUED', 'QUEUED', 'QUEUED']);
    const importId = outcomes[0]!.details['importId'];
    expect(importId).toEqual(expect.any(String));
    const ids = outcomes.map((o) => o.writeId!);
    expect(new Set(ids).size).toBe(3);

    const first = await write(ids[0]!);
    expect(first).toMatchObject({
      id: ids[0],
      provider: 'DOTDIGITAL',
      kind: 'IMPORT_POLL',
      contactId: items[0]!.contact.id,
      importId,
      endedAt: null,
      remoteId: null,
    });
    expect(['QUEUED', 'DELIVERING']).toContain(first!.status);
    expect(first!.nextAttemptAt).not.toBeNull();

    const [a, b, c] = await Promise.all(ids.map((id) => ended(id)));
    const contactId = (email: string) =>
      String(t.dotdigital.store.getByEmail(email)?.contactId ?? 'missing');
    expect(a).toMatchObject({ status: 'DELIVERED', remoteId: contactId('kept-1@example.com') });
    expect(b).toMatchObject({ status: 'DELIVERED', remoteId: contactId('kept-2@example.com') });
    expect(c).toMatchObject({
      status: 'FAILED',
      remoteId: null,
      nextAttemptAt: null,
      lastError: { code: 'globallySuppressed', retryable: false },
    });
    expect(a!.attempts).toBeGreaterThanOrEqual(1);
    // One import only: the outbox re-polled its status, it never sent the contacts again.
    expect(t.dotdigital.controls.requestCount({ method: 'PUT' })).toBe(1);
    // The delivered link reached the identity map.
    const read = await t.gql<{
      contact: { records: Array<{ provider: string; remoteId: string }> };
    }>('query($id: ID) { contact(id: $id) { records { provider remoteId } } }', {
      id: items[0]!.contact.id,
    });
    expect(read.data.contact.records).toEqual([
      expect.objectContaining({
        provider: 'DOTDIGITAL',
        remoteId: contactId('kept-1@example.com'),
      }),
    ]);

    const failed = await t.gql<{
      writes: { edges: Array<{ node: { id: string; status: string } }> };
    }>(WRITES, { status: 'FAILED', provider: 'DOTDIGITAL', first: 50 });
    expect(failed.data.writes.edges.map((e) => e.node.id)).toContain(ids[2]);
    expect(failed.data.writes.edges.every((e) => e.node.status === 'FAILED')).toBe(true);
  });

  it('pages the history newest first with cursors', async () => {
    t.notifuse.controls.inject({
      path: '/api/contacts.upsert',
      faults: statusFaults(30, 503, {}),
    });
    const queued: string[] = [];
    for (const n of [1, 2, 3]) {
      const res = await t.gql<{ upsertContact: { outcomes: Array<{ writeId: string }> } }>(UPSERT, {
        input: { email: `page-${n}@example.com` },
        options: { providers: ['NOTIFUSE'] },
      });
      queued.push(res.data.upsertContact.outcomes[0]!.writeId);
    }
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 100; page += 1) {
      const res: {
        data: {
          writes: {
            edges: Array<{ node: { id: string } }>;
            pageInfo: { hasNextPage: boolean; endCursor: string | null };
          };
        };
      } = await t.gql(WRITES, { provider: 'NOTIFUSE', first: 2, after });
      seen.push(...res.data.writes.edges.map((e) => e.node.id));
      if (!res.data.writes.pageInfo.hasNextPage) {
        break;
      }
      after = res.data.writes.pageInfo.endCursor;
    }
    const order = queued.map((id) => seen.indexOf(id));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect(order).toEqual([...order].sort((x, y) => y - x));
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('waits at least the provider’s Retry-After before the next attempt', async () => {
    // Dotdigital: the Notifuse writes queued above are still being retried in the background.
    t.dotdigital.controls.inject({
      method: 'PATCH',
      faults: [
        {
          kind: 'status',
          status: 429,
          body: { error: 'slow down' },
          headers: { 'retry-after': '3' },
        },
      ],
    });
    const res = await t.gql<{
      upsertContact: { outcomes: Array<{ status: string; writeId: string }> };
    }>(UPSERT, {
      input: { email: 'patience@example.com' },
      options: { providers: ['DOTDIGITAL'] },
    });
    const [outcome] = res.data.upsertContact.outcomes;
    expect(outcome!.status).toBe('QUEUED');
    const w = await write(outcome!.writeId);
    // OUTBOX_BASE_DELAY_MS is 50 ms: without Retry-After it would be tried within 50 ms.
    expect(Date.parse(w!.nextAttemptAt!) - Date.parse(w!.createdAt)).toBeGreaterThanOrEqual(2_900);
    await sleep(300);
    expect(t.dotdigital.store.getByEmail('patience@example.com')).toBeUndefined();
    expect(await write(outcome!.writeId)).toMatchObject({ status: 'QUEUED', attempts: 0 });
  });

  it('the deprecated pendingWrites still lists what waits, as the history has it', async () => {
    const pending = await t.gql<{ pendingWrites: Array<{ id: string }> }>(
      '{ pendingWrites { id } }',
    );
    expect(pending.errors).toBeUndefined();
    for (const p of pending.data.pendingWrites) {
      expect((await write(p.id))?.endedAt).toBeNull();
    }
  });
});
