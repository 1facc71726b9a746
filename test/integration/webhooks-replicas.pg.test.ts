import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { SIGNATURE_HEADER, verifySignature } from '../../src/lifecycle/webhooks.js';
import { createLogger } from '../../src/logger.js';
import type { NotifuseSandbox } from '../../src/sandbox/notifuse/index.js';
import { type RunningSandboxes, startSandboxes } from '../../src/sandbox-mode.js';
import { openStores } from '../../src/store/open.js';
import { upsertOne } from '../helpers/operations.js';

/**
 * Two replicas on one PostgreSQL (`DATABASE_URL`, .ci/run) deliver the outbox and the webhook
 * events together: every write's end is posted once, whichever replica ended it.
 */
const SECRET = 'whsec-replicas-0123456789';
const UPSERT = upsertOne('outcomes { status writeId }', '{ providers: [NOTIFUSE] }');

let sandboxes: RunningSandboxes;
let notifuse: NotifuseSandbox;
let receiver: Server;
const replicas: Gateway[] = [];
const received: Array<{ verified: boolean; id: string; writeId: string }> = [];

async function gql(g: Gateway, query: string, variables: Record<string, unknown>) {
  const res = await g.yoga.fetch('http://gateway/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as {
    data: { upsertContact: { outcomes: Array<{ status: string; writeId: string }> } };
  };
}

beforeAll(async () => {
  const databaseUrl = process.env['DATABASE_URL'];
  if (!databaseUrl) {
    throw new Error('webhooks-replicas.pg.test.ts needs DATABASE_URL (see .ci/run)');
  }
  receiver = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      body += c;
    });
    req.on('end', () => {
      const header = req.headers[SIGNATURE_HEADER];
      const event = JSON.parse(body) as { id: string; data: { write: { id: string } } };
      received.push({
        verified: verifySignature(SECRET, body, typeof header === 'string' ? header : null),
        id: event.id,
        writeId: event.data.write.id,
      });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    DATABASE_URL: databaseUrl,
    RETRY_MAX_ATTEMPTS: '1',
    BREAKER_THRESHOLD: '1000',
    OUTBOX_POLL_MS: '20',
    OUTBOX_BASE_DELAY_MS: '1',
    GATEWAY_JOBS_POLL_MS: '10',
    GATEWAY_WEBHOOK_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
    GATEWAY_WEBHOOK_SECRET: SECRET,
  });
  sandboxes = await startSandboxes(config, { only: ['NOTIFUSE'] });
  notifuse = sandboxes.sandboxes[0]!.sandbox as NotifuseSandbox;
  const schema = `w_${randomUUID().replaceAll('-', '')}`;
  for (let i = 0; i < 2; i += 1) {
    const stores = await openStores(sandboxes.config.storage, { schema });
    replicas.push(
      createGateway(sandboxes.config, {
        logger: createLogger('silent'),
        sandboxed: sandboxes.sandboxed,
        stores,
      }),
    );
  }
}, 60_000);

afterAll(async () => {
  await Promise.all(replicas.map((g) => g.close()));
  await sandboxes?.close();
  await new Promise((resolve) => receiver?.close(resolve));
});

describe('webhooks on two replicas', () => {
  it('post each write’s end once, whichever replica delivers it', async () => {
    // Writes are QUEUED (their one attempt fails), then the replicas race to deliver them.
    notifuse.controls.inject({
      path: '/api/contacts.upsert',
      faults: Array.from({ length: 20 }, () => ({
        kind: 'status' as const,
        status: 503,
        body: {},
      })),
    });
    const ids: string[] = [];
    for (let i = 0; i < 20; i += 1) {
      const res = await gql(replicas[i % 2]!, UPSERT, {
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
    while (new Set(received.map((r) => r.writeId)).size < ids.length) {
      if (Date.now() - start > 30_000) {
        throw new Error(`only ${received.length} of ${ids.length} webhook events arrived`);
      }
      await sleep(25);
    }
    // Time for a duplicate to arrive, if there were one.
    await sleep(500);
    expect(received.every((r) => r.verified)).toBe(true);
    expect(received.map((r) => r.writeId).sort()).toEqual([...ids].sort());
    expect(new Set(received.map((r) => r.id)).size).toBe(received.length);
    expect(received.every((r) => r.id.startsWith('write.delivered:'))).toBe(true);
  });
});
