import { afterAll, describe, expect, it } from 'vitest';
import { createTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { readOne, upsertMany, upsertOne } from '../../helpers/operations.js';
import { killServerProcesses, startServerProcess } from '../../helpers/server-process.js';
import { startTcpProxy, type TcpProxy } from '../../helpers/tcp-proxy.js';

/**
 * `DATABASE_POOL_SIZE` on a real PostgreSQL (`DATABASE_URL`, set by .ci/run), counted where the
 * server sees it: the gateway reaches the server through a proxy that records the most
 * connections open at once. 24 new contacts written at once need more connections than the pool
 * has (a claim and a save each); the pool holds them to its size and every write still succeeds.
 */
const UPSERT = `mutation($email: String!) {
  upsertContact(input: { email: $email, firstName: "Pool" }, options: { providers: [NOTIFUSE] }) {
    contact { id } outcomes { provider status } errors { code } } }`;

const opened: Array<{ proxy: TcpProxy; t: TestGateway }> = [];

async function gatewayVia(env: Record<string, string>) {
  const databaseUrl = process.env['DATABASE_URL'];
  if (!databaseUrl) {
    throw new Error('pool-size.pg.test.ts needs DATABASE_URL (see .ci/run)');
  }
  const target = new URL(databaseUrl);
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || '5432') });
  const viaProxy = new URL(databaseUrl);
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String(proxy.port);
  const t = await createTestGateway(
    { DATABASE_URL: viaProxy.toString(), ...env },
    { only: ['NOTIFUSE'] },
  );
  opened.push({ proxy, t });
  return { proxy, t };
}

async function writeMany(t: TestGateway, tag: string, n: number) {
  const results = await Promise.all(
    Array.from({ length: n }, (_, i) => t.gql(UPSERT, { email: `pool-${tag}-${i}@example.com` })),
  );
  for (const r of results) {
    expect(r.errors).toBeUndefined();
    expect(r.data).toMatchObject({
      upsertContact: { outcomes: [{ provider: 'NOTIFUSE', status: 'CREATED' }], errors: [] },
    });
  }
  return new Set(
    results.map(
      (r) => (r.data as { upsertContact: { contact: { id: string } } }).upsertContact.contact.id,
    ),
  );
}

afterAll(async () => {
  killServerProcesses();
  for (const { proxy, t } of opened) {
    await t.close();
    await proxy.close();
  }
});

describe('DATABASE_POOL_SIZE', () => {
  it('holds the connections to the server to the pool size; every write of a burst succeeds', async () => {
    const { proxy, t } = await gatewayVia({ DATABASE_POOL_SIZE: '3' });
    const ids = await writeMany(t, 'three', 24);
    expect(ids.size).toBe(24);
    // The burst needs more than 3 at once (16 opens more than 4, below): the pool fills to its size.
    expect(proxy.peakConnections).toBe(3);
  }, 60_000);

  it('the default is 4', async () => {
    const { proxy, t } = await gatewayVia({});
    await writeMany(t, 'default', 24);
    expect(proxy.peakConnections).toBe(4);
  }, 60_000);

  it('a larger pool opens more (the same burst, so the count above is the pool’s doing)', async () => {
    const { proxy, t } = await gatewayVia({ DATABASE_POOL_SIZE: '16' });
    await writeMany(t, 'sixteen', 24);
    expect(proxy.peakConnections).toBeGreaterThan(4);
  }, 60_000);

  it('a pool of one serves singles, keyed writes, a batch and reads at once: nothing waits for a second connection while holding the first', async () => {
    const { proxy, t } = await gatewayVia({ DATABASE_POOL_SIZE: '1' });
    const one = upsertOne('contact { id } outcomes { status } errors { code }', '$options');
    const many = upsertMany(
      'items { contact { id } outcomes { status } } summary { total succeeded }',
    );
    const read = readOne('id email');
    // A known contact to read and write again while the rest runs.
    const known = await t.gql(one, { input: { email: 'pool-one-known@example.com' } });
    expect(known.errors).toBeUndefined();
    const work = [
      ...Array.from({ length: 8 }, (_, i) =>
        t.gql(one, { input: { email: `pool-one-${i}@example.com`, firstName: 'One' } }),
      ),
      ...Array.from({ length: 4 }, (_, i) =>
        t.gql(one, {
          input: { email: `pool-one-keyed-${i}@example.com` },
          options: { idempotencyKey: `pool-one-${i}` },
        }),
      ),
      t.gql(many, {
        inputs: Array.from({ length: 30 }, (_, i) => ({
          email: `pool-one-batch-${i}@example.com`,
        })),
      }),
      t.gql(one, { input: { email: 'pool-one-known@example.com', lastName: 'Again' } }),
      t.gql(read, { email: 'pool-one-known@example.com' }),
    ];
    const results = await Promise.all(work);
    for (const r of results) {
      expect(r.errors).toBeUndefined();
    }
    const batch = results[12]!.data as {
      upsertContacts: { summary: { total: number; succeeded: number } };
    };
    expect(batch.upsertContacts.summary).toEqual({ total: 30, succeeded: 30 });
    const again = results[13]!.data as {
      upsertContact: { contact: { id: string }; outcomes: Array<{ status: string }> };
    };
    expect(again.upsertContact.contact.id).toBe(
      (known.data as { upsertContact: { contact: { id: string } } }).upsertContact.contact.id,
    );
    expect(again.upsertContact.outcomes).toEqual([{ status: 'UPDATED' }]);
    expect(results[14]!.data).toMatchObject({ contact: { email: 'pool-one-known@example.com' } });
    expect(proxy.peakConnections).toBe(1);
  }, 60_000);

  it('the server says at start how many connections it may open (in sandbox mode too), with no password', async () => {
    const url = new URL(process.env['DATABASE_URL'] as string);
    url.password = 'pool-size-secret';
    // CI's server trusts local connections, so the password is not checked; it must not be logged.
    const server = await startServerProcess({
      env: { DATABASE_URL: url.toString(), DATABASE_POOL_SIZE: '3' },
      startTimeoutMs: 60_000,
    });
    const line = server.logs.find(
      (l) => typeof l['msg'] === 'string' && String(l['msg']).startsWith('state ('),
    );
    expect(line).toMatchObject({ store: 'postgres', poolSize: 3 });
    expect(String(line?.['msg'])).toContain('at most 3 connections, DATABASE_POOL_SIZE');
    expect(server.lines.join('\n')).not.toContain('pool-size-secret');
    await server.stop();
  }, 90_000);
});
