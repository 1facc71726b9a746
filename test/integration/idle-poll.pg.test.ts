import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/app.js';
import { statusFaults } from '../helpers/faults.js';
import { upsertOne } from '../helpers/operations.js';
import { gatewayGql, notifuseReplicas } from '../helpers/replicas.js';

/**
 * Idle replicas on one PostgreSQL (`DATABASE_URL`, .ci/run): their pollers sleep while nothing is
 * queued (src/store/due-gate.ts) and trust a look for `GATEWAY_REPLICA_POLL_MS` at most, so a write
 * another replica queued and did not deliver (it stopped) is still delivered, by the one left.
 */
const UPSERT = upsertOne('outcomes { status writeId }', '{ providers: [NOTIFUSE] }');
const WRITE = `query ($id: ID!) { write(id: $id) { status attempts endedAt } }`;
const HORIZON_MS = 400;

const cluster = notifuseReplicas('idle-poll.pg.test.ts', () => ({
  RETRY_MAX_ATTEMPTS: '1',
  BREAKER_THRESHOLD: '1000',
  OUTBOX_POLL_MS: '20',
  OUTBOX_BASE_DELAY_MS: '1',
  GATEWAY_JOBS_POLL_MS: '10',
  GATEWAY_REPLICA_POLL_MS: String(HORIZON_MS),
}));

type Upserted = {
  data: { upsertContact: { outcomes: Array<{ status: string; writeId: string }> } };
};
type WriteAnswer = {
  data: { write: { status: string; attempts: number; endedAt: string | null } | null };
};

describe('idle replicas on one PostgreSQL', () => {
  it('a write one replica queued and left is delivered by the other, within its horizon', async () => {
    const { replicas } = cluster;
    const [survivor, leaving] = replicas as [Gateway, Gateway];
    // Both idle long enough for their pollers to have looked, found nothing and gone to sleep.
    await sleep(HORIZON_MS / 2);
    // The request's attempt and the leaving replica's background attempts fail; then it stops.
    cluster.notifuse.controls.inject({
      path: '/api/contacts.upsert',
      faults: statusFaults(1000, 503, {}),
    });
    const res = await gatewayGql<Upserted>(leaving, UPSERT, {
      input: { email: 'left-behind@example.com', firstName: 'Left' },
    });
    const [outcome] = res.data.upsertContact.outcomes;
    expect(outcome!.status).toBe('QUEUED');
    // Stopped as a replica stops (its leases released), with the write still queued.
    await leaving.close();
    replicas.splice(replicas.indexOf(leaving), 1);
    cluster.notifuse.controls.clearFaults();
    const before = cluster.notifuse.controls.requestCount({ path: '/api/contacts.upsert' });
    const stopped = Date.now();

    // Nothing of this process wrote the outbox: only the horizon wakes the survivor's poller.
    let write: WriteAnswer['data']['write'] = null;
    while (Date.now() - stopped < 10_000) {
      write = (await gatewayGql<WriteAnswer>(survivor, WRITE, { id: outcome!.writeId })).data.write;
      if (write?.status === 'DELIVERED') {
        break;
      }
      await sleep(20);
    }
    const tookMs = Date.now() - stopped;
    expect(write?.status).toBe('DELIVERED');
    // One delivery, by the survivor: the sandbox saw one more write, with the contact's email.
    expect(cluster.notifuse.controls.requestCount({ path: '/api/contacts.upsert' })).toBe(
      before + 1,
    );
    // Within about one horizon (plus the polls around it), not at the survivor's next own write.
    expect(tookMs).toBeLessThan(HORIZON_MS * 2 + 1000);
  });
});
