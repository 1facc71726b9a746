import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/app.js';
import { upsertOne } from '../helpers/operations.js';
import { gatewayGql, notifuseReplicas } from '../helpers/replicas.js';

/**
 * Two gateway instances (replicas) on one PostgreSQL (`DATABASE_URL`, set by .ci/run) and one
 * provider: they share the identity map, the idempotency records and the outbox.
 */
const UPSERT = upsertOne('contact { id } outcomes { provider status attempts details }');

const cluster = notifuseReplicas('replicas.pg.test.ts', () => ({
  RETRY_MAX_ATTEMPTS: '1',
  // Deliveries are driven by the test, one call per replica.
  OUTBOX_POLL_MS: '0',
  OUTBOX_BASE_DELAY_MS: '1',
}));

type Answer = {
  data?: Record<string, { contact: { id: string }; outcomes: Array<Record<string, unknown>> }>;
  errors?: Array<{ extensions?: { code?: string } }>;
};
const gql = (g: Gateway, query: string, variables: Record<string, unknown>) =>
  gatewayGql<Answer>(g, query, variables);

describe('two replicas on one PostgreSQL', () => {
  it('racing on one idempotency key make one provider write, and both answer it', async () => {
    // A slow provider keeps the first write in progress while the second arrives.
    cluster.notifuse.controls.setLatency(150);
    const input = { email: 'race@example.com', firstName: 'Race' };
    const options = { idempotencyKey: `race-${randomUUID()}` };
    const [a, b] = await Promise.all(
      cluster.replicas.map((g) => gql(g, UPSERT, { input, options })),
    );
    cluster.notifuse.controls.setLatency(0);
    const writes = cluster.notifuse.controls.requestCount({ path: '/api/contacts.upsert' });
    expect(writes).toBe(1);
    const answers = [a!, b!];
    const done = answers.filter((r) => r.data?.['upsertContact']);
    const refused = answers.filter((r) => r.errors);
    // One executed; the other saw the key in progress and was told so (never a second write).
    expect(done).toHaveLength(1);
    expect(refused.map((r) => r.errors![0]!.extensions?.code)).toEqual(['IDEMPOTENCY_IN_PROGRESS']);
    // Asked again, the loser replays the winner's answer.
    const loser = cluster.replicas[answers.indexOf(refused[0]!)]!;
    const replay = await gql(loser, UPSERT, { input, options });
    expect(replay.data!['upsertContact']).toEqual(done[0]!.data!['upsertContact']);
    expect(cluster.notifuse.controls.requestCount({ path: '/api/contacts.upsert' })).toBe(1);
  });

  it('share the identity map: the second replica updates the contact the first created', async () => {
    const first = await gql(cluster.replicas[0]!, UPSERT, {
      input: { email: 'shared@example.com' },
    });
    const second = await gql(cluster.replicas[1]!, UPSERT, {
      input: { email: 'shared@example.com', lastName: 'Two' },
    });
    expect(second.data!['upsertContact']!.contact.id).toBe(
      first.data!['upsertContact']!.contact.id,
    );
  });

  it('deliver an outbox item from exactly one replica', async () => {
    cluster.notifuse.controls.reset();
    cluster.notifuse.controls.inject({
      path: '/api/contacts.upsert',
      faults: [{ kind: 'status', status: 503, body: { error: 'down' } }],
    });
    const queued = await gql(cluster.replicas[0]!, UPSERT, {
      input: { email: 'once@example.com' },
    });
    expect(queued.data!['upsertContact']!.outcomes[0]).toMatchObject({ status: 'QUEUED' });
    await new Promise((r) => setTimeout(r, 20));
    // Both replicas look for due items at the same moment.
    const handled = await Promise.all(cluster.replicas.map((g) => g.service.deliverOutbox()));
    expect(handled.reduce((a, b) => a + b, 0)).toBe(1);
    // The refused attempt plus exactly one delivery.
    expect(cluster.notifuse.controls.requestCount({ path: '/api/contacts.upsert' })).toBe(2);
    expect(cluster.notifuse.store.get('once@example.com')).toBeTruthy();
    expect(await cluster.replicas[1]!.service.pendingWrites(10)).toEqual([]);
  });
});
