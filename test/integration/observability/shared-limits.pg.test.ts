/**
 * Issue #17 item 6: two real gateway processes on one PostgreSQL (`DATABASE_URL`) share one API
 * key's rate limit and one provider's rate budget, instead of each allowing its own. The provider
 * (a Notifuse sandbox) lives in this process and records when each request arrived.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import type { NotifuseSandbox } from '../../../src/sandbox/notifuse/index.js';
import { type RunningSandboxes, startSandboxes } from '../../../src/sandbox-mode.js';
import { killServerProcesses, startServerProcess } from '../../helpers/server-process.js';

const DATABASE_URL = process.env['DATABASE_URL'] ?? '';
const KEY_LIMIT_PER_MINUTE = 40;
const PROVIDER_RATE_PER_SECOND = 5;
/** Starting a process (tsx, migrations) takes seconds, more on a busy machine. */
const START_TIMEOUT_MS = 120_000;

// Fresh key names: the counters of an earlier run (same database, same minute) stay apart.
const run = randomUUID().slice(0, 8);
const KEYS = [
  { name: `limits-${run}`, key: `limits-key-${run}-0123456789abcdef`, scopes: ['contacts:read'] },
  {
    name: `writes-${run}`,
    key: `writes-key-${run}-0123456789abcdef`,
    scopes: ['contacts:read', 'contacts:write'],
  },
] as const;

let sandboxes: RunningSandboxes;
let notifuse: NotifuseSandbox;
let urls: string[] = [];

async function startGateway(): Promise<string> {
  const gateway = await startServerProcess({
    providers: sandboxes,
    startTimeoutMs: START_TIMEOUT_MS,
    env: {
      DATABASE_URL,
      GATEWAY_API_KEYS: JSON.stringify(KEYS),
      GATEWAY_RATE_LIMIT_PER_MINUTE: String(KEY_LIMIT_PER_MINUTE),
      NOTIFUSE_RATE_PER_SECOND: String(PROVIDER_RATE_PER_SECOND),
      OUTBOX_POLL_MS: '0',
    },
  });
  return gateway.url;
}

function gql(url: string, key: string, query: string, variables: Record<string, unknown> = {}) {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      authorization: `Bearer ${key}`,
    },
    body: JSON.stringify({ query, variables }),
  });
}

beforeAll(async () => {
  sandboxes = await startSandboxes(loadConfig({}), { only: ['NOTIFUSE'] });
  notifuse = sandboxes.sandboxes[0]!.sandbox as NotifuseSandbox;
  urls = await Promise.all([startGateway(), startGateway()]);
}, START_TIMEOUT_MS);

afterAll(async () => {
  killServerProcesses();
  await sandboxes?.close();
});

describe('two gateway processes on one PostgreSQL', () => {
  it(`allow one key ${KEY_LIMIT_PER_MINUTE} requests per minute in total, not each`, async () => {
    const sent = 100;
    const statuses: number[] = [];
    // Ten at a time, alternating between the two processes.
    for (let i = 0; i < sent; i += 10) {
      const batch = await Promise.all(
        Array.from({ length: 10 }, (_, j) =>
          gql(urls[(i + j) % 2]!, KEYS[0].key, '{ __typename }').then(async (res) => {
            await res.arrayBuffer();
            if (res.status === 429) {
              expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
            }
            return res.status;
          }),
        ),
      );
      statuses.push(...batch);
    }
    const ok = statuses.filter((s) => s === 200).length;
    const limited = statuses.filter((s) => s === 429).length;
    console.info(`[shared-limits] key limit ${KEY_LIMIT_PER_MINUTE}/min: ${ok} OK, ${limited} 429`);
    expect(ok).toBe(KEY_LIMIT_PER_MINUTE);
    expect(limited).toBe(sent - KEY_LIMIT_PER_MINUTE);
  }, 60_000);

  it(`keep the provider at ${PROVIDER_RATE_PER_SECOND} requests per second together`, async () => {
    notifuse.controls.clearRequests();
    const writes = 30;
    const upsert = `mutation($input: ContactInput!) {
      upsertContact(input: $input, options: { providers: [NOTIFUSE] }) { outcomes { status } } }`;
    const results = await Promise.all(
      Array.from({ length: writes }, (_, i) =>
        gql(urls[i % 2]!, KEYS[1].key, upsert, {
          input: { email: `shared-rate-${run}-${i}@example.com` },
        }).then((res) => res.json() as Promise<{ data: { upsertContact: { outcomes: unknown } } }>),
      ),
    );
    for (const r of results) {
      expect(r.data.upsertContact.outcomes).toEqual([{ status: 'CREATED' }]);
    }
    const arrivals = notifuse.controls.requests
      .filter((r) => r.method === 'POST' && r.path === '/api/contacts.upsert')
      .map((r) => r.at)
      .sort((a, b) => a - b);
    expect(arrivals).toHaveLength(writes);
    // Fixed one-second windows, counted in PostgreSQL: any second of arrivals holds at most two
    // windows' worth (the end of one, the start of the next), never the four of two replicas
    // counting alone.
    let busiest = 0;
    for (let i = 0; i < arrivals.length; i += 1) {
      const inSecond = arrivals.filter((t) => t >= arrivals[i]! && t < arrivals[i]! + 1000).length;
      busiest = Math.max(busiest, inSecond);
    }
    // 30 requests at 5 per window need 6 windows: at least 5 s from the first to the last (two
    // replicas counting alone would need 3 windows each, about 2 s). A second is allowed for the
    // time a request takes from the limiter to the sandbox on a busy machine.
    const span = arrivals.at(-1)! - arrivals[0]!;
    console.info(
      `[shared-limits] provider rate ${PROVIDER_RATE_PER_SECOND}/s over 2 replicas: ${writes} requests in ${span} ms, busiest second ${busiest}`,
    );
    expect(busiest).toBeLessThanOrEqual(2 * PROVIDER_RATE_PER_SECOND);
    expect(span).toBeGreaterThanOrEqual((writes / PROVIDER_RATE_PER_SECOND - 2) * 1000);
  }, 60_000);
});
