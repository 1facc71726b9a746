import path from 'node:path';
import type { Pool, PoolClient } from 'pg';
import { classifyPgError, StoreUnavailableError } from './errors.js';
import { MIGRATIONS } from './migrations.js';
import { DEFAULT_POOL_SIZE } from './pool-size.js';
import { assertNotPglite, lockDataDir, openSqlite, type SqliteConnection } from './sqlite.js';

/** Something SQL can be sent to: the database itself, or one open transaction. */
export interface Queryable {
  /** One statement with `$1…` parameters; returns its rows. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

/**
 * The durable store's database: embedded SQLite (better-sqlite3, one file per schema under a
 * directory) or a PostgreSQL server. Both run the same SQL (written in PostgreSQL's dialect, made
 * SQLite's by `toSqlite`) and the same list of migrations.
 */
export interface Database extends Queryable {
  readonly engine: 'embedded' | 'postgres';
  /** The schema every table of this handle lives in (embedded: the attached file's name). */
  readonly schema: string;
  /** `"schema"."name"`: statements name their tables through this. */
  table(name: string): string;
  /**
   * Runs `fn` in one transaction (committed when it resolves, rolled back when it throws). Inside
   * `fn` use `tx` only: on the embedded engine the database itself waits for the transaction.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Whether the database answers `SELECT 1` within `timeoutMs` (readiness). Resolves; never
   * throws: `null` when it answered, else why not (without credentials).
   */
  ping(timeoutMs: number): Promise<string | null>;
  /** Releases this handle (the embedded instance closes with its last handle). */
  close(): Promise<void>;
  /** The embedded engine's synchronous access (null on PostgreSQL). */
  readonly embedded: EmbeddedAccess | null;
}

/**
 * The embedded engine as the process's own: this process is the only one that opens its file (the
 * data directory's lock and SQLite's exclusive locking mode), so what it wrote is what is stored.
 */
export interface EmbeddedAccess {
  /**
   * Runs one statement now, synchronously, and answers its rows; null (nothing run) while a
   * transaction is open on the connection (its statements come first: use `query`).
   */
  run<T = Record<string, unknown>>(sql: string, params?: unknown[]): T[] | null;
  /** Runs one statement that answers no rows now, and answers how many rows it changed (null as `run`). */
  change(sql: string, params: unknown[]): number | null;
  /** One object per connection, the same for every handle on it: a key for per-database state. */
  readonly connection: object;
}

export interface OpenDatabaseOptions {
  /** `postgres://…`: use that server. Unset/empty: the embedded engine under `dataDir`. */
  databaseUrl?: string | null | undefined;
  /** Where the embedded engine keeps its files; `memory://` (or `memory://name`) keeps none. */
  dataDir: string;
  /** The schema the tables live in (created when missing); default `public`. */
  schema?: string | undefined;
  /** PostgreSQL: most connections the pool opens (`DATABASE_POOL_SIZE`, default {@link DEFAULT_POOL_SIZE}). */
  poolSize?: number | undefined;
  /**
   * PostgreSQL: connections the pool keeps open however long they sit idle (default
   * {@link POOL_KEEP_OPEN}); those above it close after {@link poolIdleMs}.
   */
  poolKeepOpen?: number | undefined;
  /** PostgreSQL: how long a connection above `poolKeepOpen` may sit idle (default 10 s). */
  poolIdleMs?: number | undefined;
  /**
   * PostgreSQL: longest wait for a connection (opening one, or a free one of the pool) before the
   * store counts as unavailable (`DATABASE_CONNECT_TIMEOUT_MS`). @default 5000
   */
  connectTimeoutMs?: number | undefined;
  /**
   * PostgreSQL: longest one statement may run or wait for its answer (server-side
   * `statement_timeout` and the driver's read timeout, `DATABASE_STATEMENT_TIMEOUT_MS`). @default 10000
   */
  statementTimeoutMs?: number | undefined;
}

/**
 * Connections the PostgreSQL pool never closes for idleness. Without them (pg-pool's default), a
 * gateway idle for 10 s closed its last connection, and its next write paid a new one first: a
 * connect, a fresh server process, and every named statement prepared again (22 ms on a local
 * server here, against 2.6 ms for the same query on a kept connection after the same 10.5 s idle;
 * more over TLS or a network). Two: a write's statements run one at a time, and the outbox and
 * jobs run beside it.
 */
export const POOL_KEEP_OPEN = 2;
/** @see OpenDatabaseOptions.poolIdleMs */
export const DEFAULT_POOL_IDLE_MS = 10_000;
/** @see OpenDatabaseOptions.connectTimeoutMs */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** @see OpenDatabaseOptions.statementTimeoutMs */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 10_000;

/** A transaction that can also run multi-statement SQL without parameters (migrations). */
interface Tx extends Queryable {
  exec(sql: string): Promise<void>;
}

interface Engine {
  engine: Database['engine'];
  embedded?: EmbeddedAccess;
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  release(): Promise<void>;
}

/** `SELECT 1` on `engine` within `timeoutMs`: `null` when it answered, else the reason. */
async function ping(engine: Engine, timeoutMs: number): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs);
  });
  try {
    return await Promise.race([
      engine.query('SELECT 1').then(
        () => null,
        (err: unknown) =>
          err instanceof StoreUnavailableError ? err.message : 'the database refused SELECT 1',
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export async function openDatabase(opts: OpenDatabaseOptions): Promise<Database> {
  const schema = opts.schema ?? 'public';
  if (!SCHEMA_NAME.test(schema)) {
    throw new Error(`invalid database schema name: ${JSON.stringify(schema)}`);
  }
  const poolSize = opts.poolSize ?? DEFAULT_POOL_SIZE;
  const engine =
    typeof opts.databaseUrl === 'string' && opts.databaseUrl !== ''
      ? await openPostgres(opts.databaseUrl, {
          poolSize,
          keepOpen: Math.min(opts.poolKeepOpen ?? POOL_KEEP_OPEN, poolSize),
          idleMs: opts.poolIdleMs ?? DEFAULT_POOL_IDLE_MS,
          connectTimeoutMs: opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
          statementTimeoutMs: opts.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
        })
      : await openEmbedded(opts.dataDir, schema);
  try {
    await migrate(engine, schema);
  } catch (err) {
    await engine.release();
    throw err;
  }
  const qualified = quoteIdent(schema);
  let closed = false;
  return {
    engine: engine.engine,
    schema,
    table: (name) => `${qualified}.${quoteIdent(name)}`,
    query: (sql, params) => engine.query(sql, params),
    transaction: (fn) => engine.transaction(fn),
    ping: (timeoutMs) => ping(engine, timeoutMs),
    embedded: engine.embedded ?? null,
    async close() {
      if (!closed) {
        closed = true;
        await engine.release();
      }
    },
  };
}

/** Applies the migrations this schema lacks, in one transaction. */
async function migrate(engine: Engine, schema: string): Promise<void> {
  const s = quoteIdent(schema);
  const postgres = engine.engine === 'postgres';
  await engine.transaction(async (tx) => {
    if (postgres) {
      // Serialises concurrent starts on one database (the embedded connection is this process's).
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
        `contact-gateway:migrate:${schema}`,
      ]);
      const exists = await tx.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
      if (exists.length === 0) {
        await tx.exec(`CREATE SCHEMA ${s}`);
      }
    }
    await tx.exec(
      `CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (
         version integer PRIMARY KEY,
         applied_at timestamptz NOT NULL DEFAULT ${postgres ? 'now()' : "(strftime('%Y-%m-%dT%H:%M:%fZ'))"}
       )`,
    );
    const rows = await tx.query<{ version: number }>(`SELECT version FROM ${s}.schema_migrations`);
    const applied = new Set(rows.map((r) => Number(r.version)));
    for (const [i, migration] of MIGRATIONS.entries()) {
      const version = i + 1;
      if (!applied.has(version)) {
        await tx.exec((postgres ? migration.postgres : migration.sqlite).replaceAll('{schema}', s));
        await tx.query(`INSERT INTO ${s}.schema_migrations (version) VALUES ($1)`, [version]);
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

interface PostgresOptions {
  poolSize: number;
  keepOpen: number;
  idleMs: number;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
}

/** `host:port/database` of a connection string, without credentials (for messages). */
export function describeServer(url: string): string {
  try {
    const u = new URL(url);
    return `${u.host || 'localhost'}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return '[unparsable DATABASE_URL]';
  }
}

/** Most statements one process names (prepares); past it statements go unnamed. */
const MAX_NAMED_STATEMENTS = 256;
/** A statement with more parameters than this (a long VALUES list of one size) stays unnamed. */
const MAX_NAMED_PARAMS = 64;

/**
 * The stores' statements as named (prepared) statements: `pg` parses and plans a named statement
 * once per connection and then only binds and executes it, where an unnamed one is sent, parsed
 * and planned again every time (a 2–4× longer round trip for the identity statements on a local
 * server). Names are given per process in order of first use, one per distinct text, so one
 * connection never sees one name for two texts. Bounded: texts that vary with their input (VALUES
 * lists of many rows) and any beyond the first {@link MAX_NAMED_STATEMENTS} stay unnamed.
 */
function preparedStatements() {
  const names = new Map<string, string>();
  return (text: string, values?: unknown[]) => {
    if (!values || values.length === 0 || values.length > MAX_NAMED_PARAMS) {
      return { text, ...(values ? { values } : {}) };
    }
    let name = names.get(text);
    if (name === undefined && names.size < MAX_NAMED_STATEMENTS) {
      name = `cg_${names.size + 1}`;
      names.set(text, name);
    }
    return name === undefined ? { text, values } : { name, text, values };
  };
}

/**
 * Every wait on the server is bounded: a connection (new or from the pool) within
 * `connectTimeoutMs`, a statement within `statementTimeoutMs` (the server cancels it, and the
 * driver stops waiting for an answer that never comes, e.g. a paused server or a silent port).
 * Errors that mean the server is unreachable become {@link StoreUnavailableError}.
 */
async function openPostgres(url: string, opts: PostgresOptions): Promise<Engine> {
  const { default: pg } = await import('pg');
  const pool: Pool = new pg.Pool({
    connectionString: url,
    max: opts.poolSize,
    min: opts.keepOpen,
    idleTimeoutMillis: opts.idleMs,
    connectionTimeoutMillis: opts.connectTimeoutMs,
    statement_timeout: opts.statementTimeoutMs,
    query_timeout: opts.statementTimeoutMs,
    keepAlive: true,
  });
  // An idle client losing its connection must not crash the process: the pool drops it and the
  // next query opens a new one (and fails loudly if the server is really gone).
  pool.on('error', () => {});
  const where = {
    server: describeServer(url),
    connectTimeoutMs: opts.connectTimeoutMs,
    statementTimeoutMs: opts.statementTimeoutMs,
  };
  const isSqlError = (err: unknown) => err instanceof pg.DatabaseError;
  /** Runs `op`; an unreachable server becomes a StoreUnavailableError, SQL errors stay as they are. */
  const guard = async <T>(op: () => Promise<T>): Promise<T> => {
    try {
      return await op();
    } catch (err) {
      throw classifyPgError(err, isSqlError, where) ?? err;
    }
  };
  const statement = preparedStatements();
  const txOf = (client: PoolClient): Tx => ({
    async query<T>(sql: string, params?: unknown[]) {
      return (await guard(() => client.query(statement(sql, params)))).rows as T[];
    },
    async exec(sql: string) {
      await guard(() => client.query(sql));
    },
  });
  return {
    engine: 'postgres',
    async query<T>(sql: string, params?: unknown[]) {
      return (await guard(() => pool.query(statement(sql, params)))).rows as T[];
    },
    async transaction<T>(fn: (tx: Tx) => Promise<T>) {
      const client = await guard(() => pool.connect());
      let broken: Error | undefined;
      try {
        await guard(() => client.query('BEGIN'));
        try {
          const out = await fn(txOf(client));
          await guard(() => client.query('COMMIT'));
          return out;
        } catch (err) {
          if (err instanceof StoreUnavailableError) {
            // No ROLLBACK on a connection that does not answer (it would wait as long again):
            // the server rolls back when the connection is destroyed.
            broken = err;
          } else {
            try {
              await client.query('ROLLBACK');
            } catch (rollbackErr) {
              broken = rollbackErr as Error;
            }
          }
          throw err;
        }
      } catch (err) {
        if (err instanceof StoreUnavailableError) {
          broken ??= err;
        }
        throw err;
      } finally {
        // A connection whose ROLLBACK failed is in an unknown state: destroy it, not reuse it.
        client.release(broken ?? false);
      }
    },
    async release() {
      await pool.end();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Embedded (SQLite)

/**
 * One connection per data directory and schema per process, shared by every handle on it and
 * closed with the last; the directory is locked while any of its schemas is open. A connection runs
 * one transaction at a time and holds other statements back while one is open, so statements from
 * several stores never interleave inside a transaction.
 */
interface Shared {
  connection: Promise<SqliteConnection>;
  refs: number;
}
const embedded = new Map<string, Shared>();
const closing = new Map<string, Promise<void>>();
const dirLocks = new Map<string, { refs: number; unlock: Promise<() => Promise<void>> }>();

async function holdDir(dir: string): Promise<() => Promise<void>> {
  let held = dirLocks.get(dir);
  if (!held) {
    const created = { refs: 0, unlock: lockDataDir(dir) };
    dirLocks.set(dir, created);
    created.unlock.catch(() => {
      if (dirLocks.get(dir) === created) {
        dirLocks.delete(dir);
      }
    });
    held = created;
  }
  held.refs += 1;
  const entry = held;
  try {
    await entry.unlock;
  } catch (err) {
    entry.refs -= 1;
    throw err;
  }
  return async () => {
    entry.refs -= 1;
    if (entry.refs === 0 && dirLocks.get(dir) === entry) {
      dirLocks.delete(dir);
      await (await entry.unlock)();
    }
  };
}

async function openEmbedded(dataDir: string, schema: string): Promise<Engine> {
  const memory = dataDir.startsWith('memory://');
  const dir = memory ? null : path.resolve(dataDir);
  const key = `${memory ? dataDir : dir}\u0000${schema}`;
  // Reopening a connection whose last handle is still closing waits for that close.
  await closing.get(key)?.catch(() => {});
  let release: () => Promise<void> = async () => {};
  if (dir !== null) {
    assertNotPglite(dir);
    release = await holdDir(dir);
  }
  let shared = embedded.get(key);
  if (!shared) {
    const created: Shared = { connection: openSqlite(dir, schema, 'normal'), refs: 0 };
    embedded.set(key, created);
    created.connection.catch(() => {
      if (embedded.get(key) === created) {
        embedded.delete(key);
      }
    });
    shared = created;
  }
  shared.refs += 1;
  const entry = shared;
  let conn: SqliteConnection;
  try {
    conn = await entry.connection;
  } catch (err) {
    entry.refs -= 1;
    await release();
    throw err;
  }
  const tx: Tx = {
    query: async (sql, params) => conn.run(sql, params),
    exec: async (sql) => conn.exec(sql),
  };
  return {
    engine: 'embedded',
    embedded: {
      run: (sql, params) => conn.runNow(sql, params),
      change: (sql, params) => conn.changeNow(sql, params),
      connection: conn,
    },
    query: (sql, params) => conn.query(sql, params),
    transaction: (fn) => conn.transaction(() => fn(tx)),
    async release() {
      entry.refs -= 1;
      if (entry.refs > 0 || embedded.get(key) !== entry) {
        await release();
        return;
      }
      embedded.delete(key);
      const done = Promise.resolve()
        .then(() => conn.close())
        .finally(release)
        .finally(() => closing.delete(key));
      closing.set(key, done);
      await done;
    },
  };
}
