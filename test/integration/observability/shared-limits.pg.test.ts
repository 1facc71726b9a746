/**
 * Issue #17 item 6: two real gateway processes on one PostgreSQL (`DATABASE_URL`) share one API
 * key's rate limit and one provider's rate budget, instead of each allowing its own. The provider
 * (a Notifuse sandbox) lives in this process and records when each request arrived.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { leaseBlock, RATE_LIMIT_TABLE } from '../../../src/rate-limiters.js';
import type { NotifuseSandbox } from '../../../src/sandbox/notifuse/index.js';
import { type RunningSandboxes, startSandboxes } from '../../../src/sandbox-mode.js';
import { type Database, openDatabase } from '../../../src/store/db.js';
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

/** The key limit's default (600 a minute): points are taken 6 at a time (`leaseBlock`). */
const DEFAULT_KEY_LIMIT = 600;
const BIG = {
  name: `big-${run}`,
  key: `big-key-${run}-0123456789abcdef`,
  scopes: ['contacts:read'],
} as const;

let database: Database;
let bigUrls: string[] = [];

async function startGateway(
  env: Record<string, string> = {
    GATEWAY_API_KEYS: JSON.stringify(KEYS),
    GATEWAY_RATE_LIMIT_PER_MINUTE: String(KEY_LIMIT_PER_MINUTE),
    NOTIFUSE_RATE_PER_SECOND: String(PROVIDER_RATE_PER_SECOND),
  },
): Promise<string> {
  const gateway = await startServerProcess({
    providers: sandboxes,
    startTimeoutMs: START_TIMEOUT_MS,
    env: { DATABASE_URL, OUTBOX_POLL_MS: '0', ...env },
  });
  return gateway.url;
}

/** The shared count of key `name`'s current window, as the table holds it. */
async function storedCount(name: string): Promise<number> {
  const rows = await database.query<{ points: number }>(
    `SELECT points FROM ${database.table(RATE_LIMIT_TABLE)} WHERE key = $1`,
    [`key:${name}`],
  );
  return rows[0]?.points ?? 0;
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
  const big = { GATEWAY_API_KEYS: JSON.stringify([BIG]) };
  urls = await Promise.all([startGateway(), startGateway()]);
  bigUrls = await Promise.all([startGateway(big), startGateway(big)]);
  database = await openDatabase({ databaseUrl: DATABASE_URL, dataDir: 'memory://' });
}, START_TIMEOUT_MS);

afterAll(async () => {
  killServerProcesses();
  await sandboxes?.close();
  await database?.close();
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

describe(`the default key limit (${DEFAULT_KEY_LIMIT} a minute) on two processes`, () => {
  const block = leaseBlock(DEFAULT_KEY_LIMIT);

  it(`takes its points from the shared table ${block} at a time, not one statement per request`, async () => {
    expect(block).toBe(6);
    const statuses: number[] = [];
    for (let i = 0; i < 7; i += 1) {
      const res = await gql(bigUrls[0]!, BIG.key, '{ __typename }');
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    expect(statuses).toEqual(Array.from({ length: 7 }, () => 200));
    // 7 requests on one process: two blocks counted (12), not 7 statements of 1.
    expect(await storedCount(BIG.name)).toBe(2 * block);
  }, 60_000);

  it('still allows the limit in total across both, never more, losing at most a block per process', async () => {
    const before = await storedCount(BIG.name);
    // The first test's process holds `2 * block - 7` points of this window still.
    const sent = DEFAULT_KEY_LIMIT + 60;
    const statuses: number[] = [];
    for (let i = 0; i < sent; i += 20) {
      const batch = await Promise.all(
        Array.from({ length: 20 }, (_, j) =>
          gql(bigUrls[(i + j) % 2]!, BIG.key, '{ __typename }').then(async (res) => {
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
    const ok = statuses.filter((s) => s === 200).length + 7;
    const limited = statuses.filter((s) => s === 429).length;
    console.info(
      `[shared-limits] key limit ${DEFAULT_KEY_LIMIT}/min in blocks of ${block}: ${ok} OK (7 before), ${limited} 429, table count ${await storedCount(BIG.name)} (was ${before})`,
    );
    expect(ok + limited).toBe(sent + 7);
    expect(ok).toBeLessThanOrEqual(DEFAULT_KEY_LIMIT);
    expect(ok).toBeGreaterThanOrEqual(DEFAULT_KEY_LIMIT - 2 * (block - 1));
    expect(await storedCount(BIG.name)).toBeGreaterThanOrEqual(DEFAULT_KEY_LIMIT);
  }, 60_000);
});
