/**
 * The store engines the shared store suite runs against: the memory implementations, embedded
 * SQLite (in memory, a fresh schema per test), and PostgreSQL when
 * `DATABASE_URL` is set (CI sets it; without it that engine is simply not in the list).
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach } from 'vitest';
import { type Database, openDatabase, quoteIdent } from '../../../src/store/db.js';
import {
  createMemoryIdempotencyStore,
  type IdempotencyStore,
} from '../../../src/store/idempotency.js';
import { createMemoryIdentityStore, type IdentityStore } from '../../../src/store/identity.js';
import { createMemoryOutboxStore, type OutboxStore } from '../../../src/store/outbox.js';
import {
  createSqlIdempotencyStore,
  createSqlIdentityStore,
  createSqlOutboxStore,
} from '../../../src/store/sql-stores.js';

export interface IdempotencyOpts {
  ttlMs?: number;
  inProgressTtlMs?: number;
}

export interface StoreSet {
  identity: IdentityStore;
  outbox: OutboxStore;
  /** A store on the same data each call (memory: one store per harness). */
  idempotency(opts?: IdempotencyOpts): IdempotencyStore<unknown>;
}

export interface Harness extends StoreSet {
  /** The database handle (SQL engines). */
  db?: Database;
  close(): Promise<void>;
}

export interface Engine {
  name: string;
  sql: boolean;
  /** Fresh, isolated stores. */
  open(): Promise<Harness>;
  /** A second, independent handle on the data of `h` (SQL engines: another `openDatabase`). */
  twin(h: Harness): Promise<Harness>;
  /** Called once after the file. */
  teardown(): Promise<void>;
}

export const DATABASE_URL = process.env['DATABASE_URL'] || null;

/** Time allowed for a hook that may start the embedded engine (seconds, more on a busy machine). */
export const STARTUP_MS = 60_000;

function memoryEngine(): Engine {
  return {
    name: 'memory',
    sql: false,
    async open() {
      let idem: IdempotencyStore<unknown> | undefined;
      return {
        identity: createMemoryIdentityStore(),
        outbox: createMemoryOutboxStore(),
        idempotency(opts = {}) {
          idem ??= createMemoryIdempotencyStore(opts.ttlMs, {
            inProgressTtlMs: opts.inProgressTtlMs ?? 2 * 60 * 1000,
          });
          return idem;
        },
        async close() {},
      };
    },
    async twin() {
      throw new Error('the memory stores have no second handle');
    },
    async teardown() {},
  };
}

/** A schema name of its own (test files run side by side on one PostgreSQL). */
export function newSchema(): string {
  return `t_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
}

function sqlSet(db: Database, close: () => Promise<void>): Harness {
  return {
    db,
    identity: createSqlIdentityStore(db),
    outbox: createSqlOutboxStore(db),
    idempotency: (opts = {}) => createSqlIdempotencyStore(db, opts),
    close,
  };
}

function sqlEngine(name: string, databaseUrl: string | null): Engine {
  // Keeps the embedded instance open for the whole file (starting one takes seconds).
  let anchor: Promise<Database> | undefined;
  const anchorSchema = newSchema();
  const handles = new Set<Database>();
  const open = async (schema: string) => {
    anchor ??= openDatabase({ databaseUrl, dataDir: 'memory://', schema: anchorSchema });
    await anchor;
    const db = await openDatabase({ databaseUrl, dataDir: 'memory://', schema });
    handles.add(db);
    return db;
  };
  const schemas = new Set<string>();
  return {
    name,
    sql: true,
    async open() {
      const schema = newSchema();
      schemas.add(schema);
      const db = await open(schema);
      return sqlSet(db, async () => {
        handles.delete(db);
        await db.close();
      });
    },
    async twin(h) {
      const db = await open(h.db!.schema);
      return sqlSet(db, async () => {
        handles.delete(db);
        await db.close();
      });
    },
    async teardown() {
      for (const db of handles) {
        await db.close();
      }
      if (anchor) {
        const db = await anchor;
        if (databaseUrl) {
          // Leave the shared test database as it was.
          for (const s of [...schemas, anchorSchema]) {
            await db.query(`DROP SCHEMA IF EXISTS ${quoteIdent(s)} CASCADE`);
          }
        }
        await db.close();
      }
    },
  };
}

/** Every engine available here: memory, embedded, and PostgreSQL when `DATABASE_URL` is set. */
export function allEngines(): Engine[] {
  return [
    memoryEngine(),
    sqlEngine('embedded (SQLite)', null),
    ...(DATABASE_URL ? [sqlEngine('postgres', DATABASE_URL)] : []),
  ];
}

/** A fresh harness on `engine` for every test of the calling `describe` block, closed after it. */
export function freshHarness(engine: Engine): () => Harness {
  let h: Harness | undefined;
  beforeEach(async () => {
    h = await engine.open();
  }, STARTUP_MS);
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });
  return () => {
    if (!h) {
      throw new Error('freshHarness: used outside a test');
    }
    return h;
  };
}

/**
 * `db` with every statement a store sends recorded, by way of `query` or, on the embedded engine,
 * run at once (`embedded.run`/`change`). `afterNext(match, run)` runs `run` right after the next
 * `query` whose text matches, before its rows are handed back (a write in the middle of a read).
 */
export function recordStatements(db: Database) {
  const sent: Array<{ via: 'query' | 'run' | 'change'; sql: string }> = [];
  let after: { match: RegExp; run: () => Promise<void> } | null = null;
  const embedded = db.embedded;
  const counting: Database = {
    ...db,
    async query<T>(sql: string, params?: unknown[]) {
      sent.push({ via: 'query', sql });
      const rows = await db.query<T>(sql, params);
      const hook = after;
      if (hook?.match.test(sql)) {
        after = null;
        await hook.run();
      }
      return rows;
    },
    embedded: embedded && {
      connection: embedded.connection,
      run<T>(sql: string, params?: unknown[]) {
        sent.push({ via: 'run', sql });
        return embedded.run<T>(sql, params);
      },
      change(sql: string, params: unknown[]) {
        sent.push({ via: 'change', sql });
        return embedded.change(sql, params);
      },
    },
  };
  return {
    sent,
    counting,
    /** The statements sent since the last call. */
    take: () => sent.splice(0),
    afterNext(match: RegExp, run: () => Promise<void>) {
      after = { match, run };
    },
  };
}
