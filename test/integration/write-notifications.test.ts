import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../../src/lifecycle/webhooks.js';
import { createTestGateway, type TestGateway } from '../helpers/gateway.js';
import { upsertMany } from '../helpers/operations.js';
import {
  type ReceivedEvent,
  startWebhookReceiver,
  type WebhookReceiver,
} from '../helpers/webhooks.js';

/**
 * Told when a write ends (issue 16): a Dotdigital import that outlives the wait is QUEUED, then
 * each contact's end (DELIVERED / FAILED as the import report says) reaches an SSE subscriber on a
 * real port and a webhook receiver that verifies the signature, once each.
 */
const SECRET = 'whsec-test-0123456789abcdef';
const UPSERTS = upsertMany('items { outcomes { status writeId } }');
const SUBSCRIBE = `subscription($ids: [ID!]) { writeUpdated(ids: $ids) {
  id status remoteId lastError { code } } }`;

let t: TestGateway;
let receiver: WebhookReceiver;
let gatewayServer: Server;
let gatewayUrl: string;
let received: ReceivedEvent[] = [];

beforeAll(async () => {
  // The first delivery is refused: the event must come again (retried), and still count once.
  receiver = await startWebhookReceiver(SECRET, { refuse: 1 });
  ({ received } = receiver);
  t = await createTestGateway(
    {
      RETRY_MAX_ATTEMPTS: '1',
      OUTBOX_POLL_MS: '25',
      OUTBOX_BASE_DELAY_MS: '50',
      DOTDIGITAL_IMPORT_MAX_WAIT_MS: '30',
      DOTDIGITAL_IMPORT_POLL_INTERVAL_MS: '10',
      GATEWAY_WEBHOOK_URL: receiver.url('/hooks?token=abc'),
      GATEWAY_WEBHOOK_SECRET: SECRET,
      GATEWAY_WEBHOOK_BASE_DELAY_MS: '20',
      GATEWAY_JOBS_POLL_MS: '25',
      GATEWAY_WRITE_WATCH_MS: '25',
    },
    { only: ['DOTDIGITAL'] },
  );
  gatewayServer = createServer(t.gateway.listener);
  await new Promise<void>((resolve) => gatewayServer.listen(0, '127.0.0.1', resolve));
  gatewayUrl = `http://127.0.0.1:${(gatewayServer.address() as AddressInfo).port}/graphql`;
}, 60_000);

afterAll(async () => {
  gatewayServer?.closeAllConnections();
  await new Promise((resolve) => gatewayServer?.close(resolve));
  await t?.close();
  await receiver?.close();
});

/** A server-sent-events client: POSTs the subscription, collects `next` payloads until aborted. */
function subscribe(ids: string[], controller: AbortController) {
  const events: Array<{
    id: string;
    status: string;
    remoteId: string | null;
    lastError: { code: string } | null;
  }> = [];
  const done = (async () => {
    const res = await fetch(gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: SUBSCRIBE, variables: { ids } }),
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block
            .split('\n')
            .filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5).trim())
            .join('');
          if (data) {
            const parsed = JSON.parse(data) as { data?: { writeUpdated: (typeof events)[number] } };
            if (parsed.data?.writeUpdated) {
              events.push(parsed.data.writeUpdated);
            }
          }
          end = buffer.indexOf('\n\n');
        }
      }
    } catch (err) {
      if (!controller.signal.aborted) {
        throw err;
      }
    }
  })();
  return { events, done };
}

async function until(check: () => boolean, what: string, limitMs = 15_000) {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > limitMs) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await sleep(20);
  }
}

describe('write notifications', () => {
  it('a Dotdigital import outliving the wait: each end reaches the SSE subscriber and the webhook once', async () => {
    t.dotdigital.setImportProcessingMs(600);
    const res = await t.gql<{
      upsertContacts: { items: Array<{ outcomes: Array<{ status: string; writeId: string }> }> };
    }>(UPSERTS, {
      inputs: [
        { email: 'sse-1@example.com' },
        { email: 'sse-2@example.com' },
        { email: 'sse-3@suppressed.example' },
      ],
      options: { providers: ['DOTDIGITAL'] },
    });
    expect(res.errors).toBeUndefined();
    const outcomes = res.data.upsertContacts.items.map((i) => i.outcomes[0]!);
    expect(outcomes.map((o) => o.status)).toEqual(['QUEUED', 'QUEUED', 'QUEUED']);
    const ids = outcomes.map((o) => o.writeId);

    const controller = new AbortController();
    const sse = subscribe(ids, controller);
    const ended = (id: string) =>
      sse.events.some((e) => e.id === id && (e.status === 'DELIVERED' || e.status === 'FAILED'));
    await until(() => ids.every(ended), 'the subscription to see every write end');
    await until(() => received.length >= 3, 'three webhook events');
    // Time for a duplicate to show up, if there were one.
    await sleep(400);
    controller.abort();
    await sse.done;

    const ends = sse.events.filter((e) => e.status === 'DELIVERED' || e.status === 'FAILED');
    expect(ends.map((e) => e.id).sort()).toEqual([...ids].sort());
    const byId = Object.fromEntries(ends.map((e) => [e.id, e]));
    expect(byId[ids[0]!]).toMatchObject({ status: 'DELIVERED', remoteId: expect.any(String) });
    expect(byId[ids[1]!]).toMatchObject({ status: 'DELIVERED' });
    expect(byId[ids[2]!]).toMatchObject({
      status: 'FAILED',
      lastError: { code: 'globallySuppressed' },
    });

    expect(received).toHaveLength(3);
    expect(received.every((r) => r.verified)).toBe(true);
    expect(received.map((r) => r.event.data.write.id).sort()).toEqual([...ids].sort());
    const types = Object.fromEntries(received.map((r) => [r.event.data.write.id, r.event.type]));
    expect(types).toEqual({
      [ids[0]!]: 'write.delivered',
      [ids[1]!]: 'write.delivered',
      [ids[2]!]: 'write.failed',
    });
    // A tampered body or another secret does not verify.
    expect(
      verifySignature('another-secret-0123456789', JSON.stringify(received[0]!.event), 't=1,v1=00'),
    ).toBe(false);
  });
});
