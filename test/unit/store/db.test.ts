/**
 * `openDatabase`: the embedded engine persisted in a directory (write, close, reopen, read back),
 * shared instances, transactions, migrations under concurrent starts; the same checks on
 * PostgreSQL when `DATABASE_URL` is set.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase, quoteIdent } from '../../../src/store/db.js';
import { MIGRATIONS } from '../../../src/store/migrations.js';
import { createSqlStores } from '../../../src/store/sql-stores.js';
import { DATABASE_URL, newSchema, STARTUP_MS } from './engines.js';

const fileOf = (schema: string) => `store-${schema}.sqlite`;

const now = '2026-01-01T00:00:00.000Z';
const T0 = Date.parse(now);

// One persisted directory for the file (one SQLite file per schema in it).
const dir = mkdtempSync(path.join(tmpdir(), 'gateway-store-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('embedded database in a directory', () => {
  it(
    'keeps what was written across close and reopen',
    async () => {
      const first = createSqlStores(await openDatabase({ dataDir: dir, schema: 'app' }));
      expect(first.db.engine).toBe('embedded');
      const { record } = await first.identity.claim({ email: 'kept@x.io' }, now);
      const saved = {
        ...record,
        view: { email: 'kept@x.io', firstName: 'Kept' },
        records: { NOTIFUSE: { provider: 'NOTIFUSE' as const, remoteId: 'r1', syncedAt: now } },
      };
      await first.identity.save(saved);
      expect((await first.idempotency.begin('key-1', 'fp', T0)).state).toBe('new');
      await first.idempotency.complete('key-1', { contact: { id: record.id } }, T0);
      const [item] = await first.outbox.enqueue(
        [
          {
            provider: 'DOTDIGITAL',
            kind: 'update',
            gatewayId: record.id,
            item: {
              ref: 'r',
              gatewayId: record.id,
              patch: { firstName: 'Kept' },
              known: {},
              remoteId: '42',
              options: {},
            },
            lastError: null,
            nextAttemptAt: now,
          },
        ],
        now,
      );
      expect(await first.outbox.claimDue(now, 10, 60_000)).toHaveLength(1);

      // A second handle (another schema) shares the instance: closing the first leaves it open.
      const other = await openDatabase({ dataDir: dir, schema: 'other' });
      expect(readFileSync(path.join(dir, 'gateway.lock'), 'utf8')).toBe(`${process.pid}\n`);
      await first.close();
      expect(await other.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
      await other.close();
      expect(existsSync(path.join(dir, fileOf('app')))).toBe(true);
      expect(existsSync(path.join(dir, fileOf('other')))).toBe(true);

      // The directory was locked while open, and is unlocked after the last close.
      expect(existsSync(path.join(dir, 'gateway.lock'))).toBe(false);
      // A lock left by a process that died (a crash) does not stop the restart.
      writeFileSync(path.join(dir, 'gateway.lock'), `${spawnSync('true').pid}\n`);

      // Restart: everything is read back from the directory.
      const again = createSqlStores(await openDatabase({ dataDir: dir, schema: 'app' }));
      try {
        expect(await again.identity.get(record.id)).toStrictEqual(saved);
        expect((await again.identity.find({ email: 'kept@x.io' }))?.id).toBe(record.id);
        expect(await again.idempotency.begin('key-1', 'fp', T0 + 1)).toStrictEqual({
          state: 'replay',
          result: { contact: { id: record.id } },
        });
        const [kept] = await again.outbox.list(10);
        expect(kept).toStrictEqual({
          ...item,
          attempts: 1,
          status: 'DELIVERING',
          updatedAt: kept!.updatedAt,
        });
        // Still leased until now + 60 s.
        expect(await again.outbox.claimDue(now, 10, 60_000)).toEqual([]);
        const rows = await again.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM ${again.db.table('schema_migrations')}`,
        );
        expect(rows[0]?.n).toBe(MIGRATIONS.length);
      } finally {
        await again.close();
      }
    },
    3 * STARTUP_MS,
  );

  it('refuses a directory another live process holds', async () => {
    const taken = path.join(dir, 'taken');
    mkdirSync(taken);
    writeFileSync(path.join(taken, 'gateway.lock'), `${process.ppid}\n`);
    await expect(openDatabase({ dataDir: taken })).rejects.toThrow(
      `in use by process ${process.ppid}`,
    );
    expect(existsSync(path.join(taken, fileOf('public')))).toBe(false);
  });

  it('refuses a data directory of the earlier embedded engine (PGlite), naming GATEWAY_DATA_DIR', async () => {
    const old = path.join(dir, 'pglite');
    mkdirSync(old);
    writeFileSync(path.join(old, 'PG_VERSION'), '17\n');
    await expect(openDatabase({ dataDir: old })).rejects.toThrow(
      `GATEWAY_DATA_DIR ${old} holds a database of the earlier embedded engine (PGlite)`,
    );
    expect(existsSync(path.join(old, fileOf('public')))).toBe(false);
    expect(existsSync(path.join(old, 'gateway.lock'))).toBe(false);
  });
});

const engines: { name: string; open: (schema: string) => Promise<Database> }[] = [
  { name: 'embedded', open: (schema) => openDatabase({ dataDir: dir, schema }) },
  ...(DATABASE_URL
    ? [
        {
          name: 'postgres',
          open: (schema: string) =>
            openDatabase({ databaseUrl: DATABASE_URL, dataDir: dir, schema }),
        },
      ]
    : []),
];

describe.each(engines)('database on $name', ({ name, open }) => {
  const created: string[] = [];
  const fresh = () => {
    const s = newSchema();
    created.push(s);
    return s;
  };
  // Holds the embedded instance open between the tests (each closes its own handles).
  let anchor: Database;
  beforeAll(async () => {
    anchor = await open(fresh());
  }, STARTUP_MS);
  afterAll(async () => {
    try {
      // The embedded schemas are files in the temporary directory, removed with it.
      for (const s of name === 'postgres' ? created : []) {
        await anchor.query(`DROP SCHEMA IF EXISTS ${quoteIdent(s)} CASCADE`);
      }
    } finally {
      await anchor.close();
    }
  });

  it('reports its engine and qualifies tables with its schema', async () => {
    const schema = fresh();
    const db = await open(schema);
    try {
      expect(db.engine).toBe(name);
      expect(db.schema).toBe(schema);
      expect(db.table('outbox')).toBe(`"${schema}"."outbox"`);
    } finally {
      await db.close();
      await db.close(); // Closing twice is harmless.
    }
  });

  it("stores a known contact's timestamps as UTC instants with milliseconds, however given", async () => {
    const db = await open(fresh());
    try {
      const { identity } = createSqlStores(db);
      const { record } = await identity.claim({ email: 'ts@x.io' }, now);
      const view = { email: 'ts@x.io' };
      await identity.save({ ...record, view, updatedAt: '2026-01-31T23:59:59.999Z' });
      expect(await identity.get(record.id)).toMatchObject({
        createdAt: now,
        updatedAt: '2026-01-31T23:59:59.999Z',
      });
      await identity.save({
        ...record,
        view,
        createdAt: '2026-01-01T02:00:00+02:00',
        updatedAt: '2026-02-01T03:04:05Z',
      });
      expect(await identity.get(record.id)).toMatchObject({
        createdAt: now,
        updatedAt: '2026-02-01T03:04:05.000Z',
      });
      expect((await identity.claim({ email: 'ts@x.io' }, now)).record).toMatchObject({
        createdAt: now,
        updatedAt: '2026-02-01T03:04:05.000Z',
      });
    } finally {
      await db.close();
    }
  });

  it('rejects a schema name that is not a plain identifier', async () => {
    await expect(open('bad"; DROP TABLE x; --')).rejects.toThrow(/invalid database schema/);
  });

  it('migrates a new schema once when two handles open it at the same time', async () => {
    const schema = fresh();
    const [a, b] = await Promise.all([open(schema), open(schema)]);
    try {
      const rows = await a.query<{ version: number }>(
        `SELECT version FROM ${a.table('schema_migrations')}`,
      );
      expect(rows.map((r) => Number(r.version))).toEqual(MIGRATIONS.map((_, i) => i + 1));
      await a.query(
        `INSERT INTO ${a.table('idempotency_keys')} VALUES ('k', 'f', false, NULL, now(), now())`,
      );
      expect(await b.query(`SELECT key FROM ${b.table('idempotency_keys')}`)).toEqual([
        { key: 'k' },
      ]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('rolls a failed transaction back, and keeps other handles’ statements out of it', async () => {
    const schema = fresh();
    const a = await open(schema);
    const b = await open(schema);
    const t = a.table('idempotency_keys');
    const insert = (key: string) =>
      `INSERT INTO ${t} VALUES ('${key}', 'f', false, NULL, now(), now())`;
    try {
      let concurrent: Promise<unknown> | undefined;
      await expect(
        a.transaction(async (tx) => {
          await tx.query(insert('in-tx'));
          // Another store's statement while the transaction is open: on the single-connection
          // embedded engine it waits for the transaction; it is never part of it.
          concurrent = b.query(insert('outside'));
          await new Promise((r) => setTimeout(r, 20));
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      await concurrent;
      const keys = await a.query<{ key: string }>(`SELECT key FROM ${t} ORDER BY key`);
      expect(keys).toEqual([{ key: 'outside' }]);
      const out = await a.transaction(async (tx) => {
        await tx.query(insert('committed'));
        return 7;
      });
      expect(out).toBe(7);
      expect(await b.query(`SELECT key FROM ${t} WHERE key = 'committed'`)).toHaveLength(1);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

// PostgreSQL only (present when DATABASE_URL is set, as the engines above).
const postgresOnly = DATABASE_URL ? [{ name: 'postgres', url: DATABASE_URL }] : [];
describe.each(postgresOnly)('connection pool on $name', ({ url }) => {
  /** Backend pids of `n` statements run at once (each on its own connection). */
  const busyPids = async (db: Database, n: number) =>
    new Set(
      (
        await Promise.all(
          Array.from({ length: n }, () =>
            db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid, pg_sleep(0.05)'),
          ),
        )
      ).map((rows) => rows[0]!.pid),
    );
  /** Which of `pids` still have a server process (an open connection). */
  const stillOpen = async (db: Database, pids: Set<number>) =>
    (
      await db.query<{ pid: number }>(
        'SELECT pid FROM pg_stat_activity WHERE pid = ANY($1::int[]) ORDER BY pid',
        [[...pids]],
      )
    ).map((r) => r.pid);

  /** A fresh schema on `url` with these pool options, dropped and closed after `fn`. */
  const withPool = async (
    pool: { poolIdleMs: number; poolKeepOpen?: number },
    fn: (db: Database) => Promise<void>,
  ) => {
    const schema = newSchema();
    const db = await openDatabase({ databaseUrl: url, dataDir: '', schema, ...pool });
    try {
      await fn(db);
    } finally {
      await db.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
      await db.close();
    }
  };

  it('keeps two connections open however long it sits idle, and closes the rest', async () => {
    await withPool({ poolIdleMs: 150 }, async (db) => {
      const used = await busyPids(db, 4);
      expect(used.size).toBe(4);
      await new Promise((r) => setTimeout(r, 700));
      // Two of the four are still there (the next write needs no new connection), two closed.
      const open = await stillOpen(db, used);
      expect(open).toHaveLength(2);
      // And the next statements run on them.
      const next = await busyPids(db, 2);
      expect([...next].sort((a, b) => a - b)).toEqual(open);
    });
  });

  it('with none kept open, an idle pool closes every connection (the contrast)', async () => {
    await withPool({ poolIdleMs: 150, poolKeepOpen: 0 }, async (db) => {
      const used = await busyPids(db, 2);
      await new Promise((r) => setTimeout(r, 700));
      expect(await stillOpen(db, used)).toEqual([]);
    });
  });
});
