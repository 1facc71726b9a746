import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/app.js';
import { statusFaults } from '../helpers/faults.js';
import { upsertOne } from '../helpers/operations.js';
import { gatewayGql, notifuseReplicas } from '../helpers/replicas.js';
import {
  type ReceivedEvent,
  startWebhookReceiver,
  type WebhookReceiver,
} from '../helpers/webhooks.js';

/**
 * Two replicas on one PostgreSQL (`DATABASE_URL`, .ci/run) deliver the outbox and the webhook
 * events together: every write's end is posted once, whichever replica ended it.
 */
const SECRET = 'whsec-replicas-0123456789';
const UPSERT = upsertOne('outcomes { status writeId }', '{ providers: [NOTIFUSE] }');

let receiver: WebhookReceiver;
let received: ReceivedEvent[] = [];

const gql = (g: Gateway, query: string, variables: Record<string, unknown>) =>
  gatewayGql<{ data: { upsertContact: { outcomes: Array<{ status: string; writeId: string }> } } }>(
    g,
    query,
    variables,
  );

beforeAll(async () => {
  receiver = await startWebhookReceiver(SECRET, { status: 200 });
  ({ received } = receiver);
});

afterAll(async () => {
  await receiver?.close();
});

// Started after the receiver (its URL), stopped before it.
const cluster = notifuseReplicas('webhooks-replicas.pg.test.ts', () => ({
  RETRY_MAX_ATTEMPTS: '1',
  BREAKER_THRESHOLD: '1000',
  OUTBOX_POLL_MS: '20',
  OUTBOX_BASE_DELAY_MS: '1',
  GATEWAY_JOBS_POLL_MS: '10',
  GATEWAY_WEBHOOK_URL: receiver.url('/hook'),
  GATEWAY_WEBHOOK_SECRET: SECRET,
}));

describe('webhooks on two replicas', () => {
  it('post each write’s end once, whichever replica delivers it', async () => {
    // Writes are QUEUED (their one attempt fails), then the replicas race to deliver them.
    cluster.notifuse.controls.inject({
      path: '/api/contacts.upsert',
      faults: statusFaults(20, 503, {}),
    });
    const ids: string[] = [];
    for (let i = 0; i < 20; i += 1) {
      const res = await gql(cluster.replicas[i % 2]!, UPSERT, {
        input: { email: `hook-${i}@example.com` },
      });
      const [outcome] = res.data.upsertContact.outcomes;
      // Background deliveries take faults too: a later write may already go through.
      if (outcome!.status === 'QUEUED') {
        ids.push(outcome!.writeId);
      }
    }
    expect(ids.length).toBeGreaterThan(1);
    const start = Date.now();
    while (new Set(received.map((r) => r.event.data.write.id)).size < ids.length) {
      if (Date.now() - start > 30_000) {
        throw new Error(`only ${received.length} of ${ids.length} webhook events arrived`);
      }
      await sleep(25);
    }
    // Time for a duplicate to arrive, if there were one.
    await sleep(500);
    expect(received.every((r) => r.verified)).toBe(true);
    expect(received.map((r) => r.event.data.write.id).sort()).toEqual([...ids].sort());
    expect(new Set(received.map((r) => r.event.id)).size).toBe(received.length);
    expect(received.every((r) => r.event.id.startsWith('write.delivered:'))).toBe(true);
  });
});
