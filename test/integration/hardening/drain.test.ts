import { get } from 'node:http';
import { performance } from 'node:perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestGateway } from '../../helpers/gateway.js';
import { killServerProcesses, startServerProcess } from '../../helpers/server-process.js';

/**
 * #17 item 1: `/health` (alive), `/ready` (store answers, not draining) and the graceful stop.
 * SIGTERM used to drop a 1,000-item batch in flight (empty reply, nothing logged). The store
 * unreachable → 503 → 200 case runs on PostgreSQL in store-faults.pg.test.ts.
 */
interface BatchAnswer {
  errors?: unknown;
  data: {
    upsertContacts: {
      items: Array<{ outcomes: Array<{ status: string }> }>;
      summary: { total: number; succeeded: number; failed: number };
    };
  };
}

afterAll(killServerProcesses);

describe('/health and /ready', () => {
  it('/health 200 and /ready 200 with JSON; /ready 503 "draining" once draining, /health still 200', async () => {
    const t = await createTestGateway({}, { only: ['NOTIFUSE'] });
    try {
      const get = (p: string) => t.gateway.yoga.fetch(`http://gateway${p}`);
      expect((await get('/health')).status).toBe(200);
      const ready = await get('/ready');
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ready' });
      expect((await get('/ready/')).status).toBe(404);

      t.gateway.drain();
      const draining = await get('/ready?probe=1');
      expect(draining.status).toBe(503);
      expect(await draining.json()).toEqual({
        status: 'unavailable',
        reason: 'draining',
        message: 'shutting down: finishing the requests in flight',
      });
      expect((await get('/health')).status).toBe(200);
    } finally {
      await t.close();
    }
  }, 60_000);

  it('/ready is 503 "store" when the store does not answer (a closed database)', async () => {
    const t = await createTestGateway({ GATEWAY_READY_TIMEOUT_MS: '500' }, { only: ['NOTIFUSE'] });
    await t.gateway.close();
    try {
      const res = await t.gateway.yoga.fetch('http://gateway/ready');
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ status: 'unavailable' });
    } finally {
      await t.sandboxes.close();
    }
  }, 60_000);
});

describe('SIGTERM during a 1,000-item upsertContacts', () => {
  it('the client gets the whole answer, each step is logged, the process exits 0', async () => {
    const server = await startServerProcess({
      // Far above the batch's duration on a busy machine: this test is about finishing it.
      env: { GATEWAY_SHUTDOWN_TIMEOUT_MS: '120000' },
    });
    const { logs, url } = server;
    const notifuseControls = String(
      logs.find((l) => l['provider'] === 'NOTIFUSE')?.['sandboxControls'] ?? '',
    ).replace(/\/requests$/, '');
    expect(notifuseControls).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/__sandbox$/);
    // Each Notifuse import call (500 contacts) takes a second: the batch is surely in flight.
    await fetch(`${notifuseControls}/latency`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ms: 1000 }),
    });

    const inputs = Array.from({ length: 1000 }, (_, i) => ({
      email: `drain-${i}@example.com`,
      firstName: `Drain${i}`,
    }));
    const started = performance.now();
    const answer = fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: `mutation($inputs: [ContactInput!]!) {
          upsertContacts(inputs: $inputs, options: { providers: [NOTIFUSE] }) {
            items { outcomes { status } } summary { total succeeded failed } } }`,
        variables: { inputs },
      }),
    }).then(async (res) => ({ status: res.status, body: (await res.json()) as BatchAnswer }));

    // SIGTERM once the gateway has called Notifuse, i.e. the batch is being executed.
    // (A fresh connection per poll: the sandbox closes idle ones, which a reused one would meet.)
    for (;;) {
      const seen = await new Promise<string>((resolve, reject) => {
        get(`${notifuseControls}/requests`, { agent: false }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            text += c;
          });
          res.on('end', () => resolve(text));
        }).on('error', reject);
      });
      if (seen.includes('import')) {
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    server.child.kill('SIGTERM');

    const { status, body } = await answer;
    console.info(
      `SIGTERM during the batch: full answer after ${Math.round(performance.now() - started)} ms`,
    );
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data.upsertContacts.summary).toEqual({ total: 1000, succeeded: 1000, failed: 0 });
    const statuses = new Set(
      body.data.upsertContacts.items.flatMap((i) => i.outcomes.map((o) => o.status)),
    );
    expect([...statuses]).toEqual(['CREATED']);
    expect(await server.exited).toBe(0);

    const messages = logs.map((l) => String(l['msg']));
    const step = (re: RegExp) => messages.findIndex((m) => re.test(m));
    const order = [
      step(/^SIGTERM: draining, \/ready answers 503$/),
      step(/^no new connections; waiting for 1 request\(s\) in flight/),
      step(/^requests in flight finished$/),
      step(/^outbox stopped, stores closed: exiting$/),
    ];
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  }, 120_000);
});
