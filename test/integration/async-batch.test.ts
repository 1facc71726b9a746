import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openStores } from '../../src/store/open.js';
import { createTestGateway, type TestGateway } from '../helpers/gateway.js';
import { upsertMany } from '../helpers/operations.js';

/**
 * Async batches (issue 16): `options.async` answers at once with a batchId and every item's
 * contact id, the batch is written in the background, `batch(id)` follows it, and a batch a
 * gateway accepted but did not write is written by the next gateway on the same store (restart).
 */
const UPSERTS = upsertMany('batchId items { contact { id } } summary { total succeeded failed }');
const BATCH = `query($id: ID!, $after: String) { batch(id: $id) {
  id status completedAt summary { total processed succeeded failed }
  items(first: 100, after: $after) { hasNextPage endCursor
    nodes { index contactId result { outcomes { provider status } errors { code } } } } } }`;

interface Accepted {
  batchId: string;
  items: Array<{
    contact: { id: string } | null;
    errors: Array<{ code: string }>;
    outcomes: unknown[];
  }>;
  summary: { total: number; succeeded: number; failed: number };
}
interface BatchView {
  id: string;
  status: string;
  completedAt: string | null;
  summary: { total: number; processed: number; succeeded: number; failed: number };
  items: {
    hasNextPage: boolean;
    endCursor: string | null;
    nodes: Array<{
      index: number;
      contactId: string | null;
      result: { outcomes: Array<{ provider: string; status: string }>; errors: unknown[] } | null;
    }>;
  };
}

const opened: TestGateway[] = [];
afterAll(async () => {
  for (const g of opened) {
    await g.close();
  }
}, 60_000);

async function completed(t: TestGateway, id: string, limitMs = 200_000): Promise<BatchView> {
  const start = Date.now();
  for (;;) {
    const res = await t.gql<{ batch: BatchView }>(BATCH, { id });
    expect(res.errors).toBeUndefined();
    if (res.data.batch.status === 'COMPLETED') {
      return res.data.batch;
    }
    if (Date.now() - start > limitMs) {
      throw new Error(`batch not completed: ${JSON.stringify(res.data.batch.summary)}`);
    }
    await sleep(100);
  }
}

/**
 * Items of the large batch: several Notifuse imports (500 each) and several pages of `batch.items`
 * (100 each), which is all the properties below need. A 5,000-item batch (MAX_BATCH_INPUTS) takes
 * minutes of CPU here; how long it takes belongs in bench/.
 */
const N = 1_200;

describe('async batches', () => {
  it(`${N.toLocaleString('en')} contacts: answered at once with every contact id, then written in the background`, async () => {
    const t = await createTestGateway(
      { GATEWAY_JOBS_POLL_MS: '50', MAX_BATCH_INPUTS: '5000', GATEWAY_MAX_COST: '1000000' },
      { only: ['NOTIFUSE', 'DOTDIGITAL'] },
    );
    opened.push(t);
    const inputs = Array.from({ length: N }, (_, i) => ({
      email: `async-${i}@example.com`,
      firstName: `N${i}`,
    }));
    inputs[7] = { email: 'not an email', firstName: 'Bad' };
    // The same contact twice: one contact id for both.
    inputs[9] = { email: 'async-8@example.com', firstName: 'Again' };
    const start = performance.now();
    const res = await t.gql<{ upsertContacts: Accepted }>(UPSERTS, {
      inputs,
      options: { async: true, providers: ['NOTIFUSE', 'DOTDIGITAL'] },
    });
    const answeredMs = performance.now() - start;
    console.log(`async batch of ${N}: answered in ${Math.round(answeredMs)} ms`);
    expect(res.errors).toBeUndefined();
    const accepted = res.data.upsertContacts;
    expect(accepted.batchId).toEqual(expect.any(String));
    expect(accepted.items).toHaveLength(N);
    expect(accepted.items[7]).toEqual({ contact: null });
    expect(accepted.summary).toEqual({ total: N, succeeded: 0, failed: 1 });
    expect(accepted.items.filter((i) => i.contact).length).toBe(N - 1);
    expect(accepted.items[9]!.contact!.id).toBe(accepted.items[8]!.contact!.id);

    const done = await completed(t, accepted.batchId);
    console.log(
      `async batch of ${N}: completed in ${Math.round(performance.now() - start)} ms (${JSON.stringify(done.summary)})`,
    );
    expect(done.summary).toMatchObject({ total: N, processed: N, failed: 1 });
    expect(done.summary.succeeded).toBe(N - 1);
    expect(t.notifuse.store.get(`async-${N - 1}@example.com`)).toBeTruthy();
    expect(t.dotdigital.store.getByEmail(`async-${N - 1}@example.com`)).toBeTruthy();

    // Paged answers, in input order, the same contact ids as the first answer.
    const seen: BatchView['items']['nodes'] = [];
    let after: string | null = null;
    for (let page = 0; page < 100; page += 1) {
      const r: { data: { batch: BatchView } } = await t.gql(BATCH, { id: accepted.batchId, after });
      seen.push(...r.data.batch.items.nodes);
      if (!r.data.batch.items.hasNextPage) {
        break;
      }
      after = r.data.batch.items.endCursor;
    }
    expect(seen.map((n) => n.index)).toEqual(inputs.map((_, i) => i));
    expect(seen.map((n) => n.contactId)).toEqual(accepted.items.map((i) => i.contact?.id ?? null));
    expect(seen[0]!.result!.outcomes.map((o) => o.status).sort()).toEqual(['CREATED', 'CREATED']);
  }, 240_000);

  it('a batch accepted before a restart is written by the gateway that comes after', async () => {
    const storeSchema = `b_${randomUUID().replaceAll('-', '')}`;
    // The first gateway never looks for jobs: it stops right after answering.
    const first = await createTestGateway(
      { GATEWAY_JOBS_POLL_MS: '0', GATEWAY_MAX_COST: '1000000' },
      { only: ['NOTIFUSE'], storeSchema },
    );
    const res = await first.gql<{ upsertContacts: Accepted }>(UPSERTS, {
      inputs: [1, 2, 3].map((n) => ({ email: `restart-${n}@example.com` })),
      options: { async: true },
    });
    const { batchId } = res.data.upsertContacts;
    const running = await first.gql<{ batch: BatchView }>(BATCH, { id: batchId });
    expect(running.errors).toBeUndefined();
    expect(running.data.batch).toMatchObject({ status: 'RUNNING', summary: { processed: 0 } });
    // The in-memory embedded database lives while a handle is open: keep one across the restart.
    const keep = await openStores(loadConfig({ GATEWAY_DATA_DIR: 'memory://' }).storage, {
      schema: storeSchema,
    });
    await first.close();

    const second = await createTestGateway(
      { GATEWAY_JOBS_POLL_MS: '25', GATEWAY_MAX_COST: '1000000' },
      { only: ['NOTIFUSE'], storeSchema },
    );
    opened.push(second);
    const done = await completed(second, batchId);
    expect(done.summary).toMatchObject({ total: 3, processed: 3, succeeded: 3, failed: 0 });
    expect(second.notifuse.store.get('restart-3@example.com')).toBeTruthy();
    await keep.close();
  }, 120_000);
});
