import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';

/**
 * The embedded engine: SQLite through better-sqlite3, one connection per data directory and schema,
 * statements run synchronously on the calling thread (they take microseconds; a worker thread's
 * message round trip would cost more than the statement).
 *
 * The stores write their SQL once, in PostgreSQL's dialect; {@link toSqlite} is the small layer that
 * makes it SQLite's (see docs/architecture.md, "One migration story"):
 * - `$1…` parameters are SQLite named parameters (bound as `{1: …}`);
 * - `$n::timestamptz` becomes `strftime('%Y-%m-%dT%H:%M:%fZ', $n)` (timestamps are ISO-8601 UTC
 *   text with milliseconds, so they compare as text), every other `::type` cast is dropped;
 * - `FOR UPDATE [SKIP LOCKED]` is dropped (one writer at a time: the connection is this process's);
 * - `now()` is a function of the connection (ISO-8601 UTC, as stored).
 * What cannot be written once (PostgreSQL's `unnest`, `= ANY`, jsonb `||`) goes through the
 * helpers in `sql.ts`. Parameters: booleans become 1/0, arrays their JSON text (read back with
 * `json_each`). Result columns declared `jsontext` are parsed, `boolean` ones become booleans, so the
 * stores see the rows `pg` would give them.
 *
 * Durability: WAL with `synchronous=NORMAL`. A transaction is committed when its COMMIT returns:
 * its pages are in the WAL file (written, not fsynced), which survives the process being killed
 * (SIGKILL, OOM, crash) because the operating system holds the write. A power loss or kernel crash
 * can lose the last commits (never corrupt the database); `synchronous=FULL` (an fsync per commit)
 * would cover that, at the cost of a disk flush on every write.
 */

export const SQLITE_PREFIX = 'store-';
export const SQLITE_SUFFIX = '.sqlite';
const LOCK_FILE = 'gateway.lock';

type Db = BetterSqlite3.Database;
type Statement = BetterSqlite3.Statement;

const TIMESTAMP_CAST = /(\$\d+)::timestamptz\b/g;
const CAST = /::[a-z_][a-z0-9_]*(\[\])?/gi;
const ROW_LOCK = /\s+FOR\s+UPDATE(\s+SKIP\s+LOCKED)?/gi;

/** PostgreSQL-dialect SQL of the stores as SQLite runs it (see the module comment). */
export function toSqlite(sql: string): string {
  return sql
    .replace(TIMESTAMP_CAST, "strftime('%Y-%m-%dT%H:%M:%fZ', $1)")
    .replace(CAST, '')
    .replace(ROW_LOCK, '');
}

function bindable(value: unknown): unknown {
  if (value === undefined) {
    return null;
  }
  if (typeof value === 'boolean') {
    return value ? 1 : 0;
  }
  if (Array.isArray(value)) {
    return JSON.stringify(value);
  }
  if (value instanceof Date) {
    return value.toISOString();
  }
  return value;
}

/** Parameters as better-sqlite3 binds `?1`, `?2` … (what `$1`, `$2` … become). */
function bindAll(params: readonly unknown[]): Record<number, unknown> {
  const bound: Record<number, unknown> = {};
  for (let i = 0; i < params.length; i += 1) {
    bound[i + 1] = bindable(params[i]);
  }
  return bound;
}

interface Prepared {
  stmt: Statement;
  reader: boolean;
  json: string[];
  booleans: string[];
}

export type SyncMode = 'normal' | 'full';

/** One open SQLite connection (one schema of one data directory, or one in memory). */
export class SqliteConnection {
  readonly #db: Db;
  readonly #schema: string;
  readonly #cache = new Map<string, Prepared>();
  /** Transactions run one after another; a statement outside one waits while one is open. */
  #tail: Promise<unknown> = Promise.resolve();
  #inTransaction = false;

  constructor(db: Db, schema: string) {
    this.#db = db;
    this.#schema = schema;
  }

  #prepare(sql: string): Prepared {
    let p = this.#cache.get(sql);
    if (!p) {
      const stmt = this.#db.prepare(toSqlite(sql));
      const columns = stmt.reader ? stmt.columns() : [];
      const typed = (t: string) =>
        columns.filter((c) => c.type?.toLowerCase() === t).map((c) => c.name);
      p = { stmt, reader: stmt.reader, json: typed('jsontext'), booleans: typed('boolean') };
      if (this.#cache.size > 500) {
        this.#cache.clear();
      }
      this.#cache.set(sql, p);
    }
    return p;
  }

  /** Runs one statement now (the caller holds the turn). */
  run<T>(sql: string, params?: unknown[]): T[] {
    const p = this.#prepare(sql);
    let rows: Record<string, unknown>[];
    if (params && params.length > 0) {
      const bound = bindAll(params);
      if (!p.reader) {
        p.stmt.run(bound);
        return [];
      }
      rows = p.stmt.all(bound) as Record<string, unknown>[];
    } else {
      if (!p.reader) {
        p.stmt.run();
        return [];
      }
      rows = p.stmt.all() as Record<string, unknown>[];
    }
    if (p.json.length > 0 || p.booleans.length > 0) {
      for (const row of rows) {
        for (const c of p.json) {
          const v = row[c];
          if (typeof v === 'string') {
            row[c] = JSON.parse(v);
          }
        }
        for (const c of p.booleans) {
          const v = row[c];
          if (v !== null && v !== undefined) {
            row[c] = Boolean(v);
          }
        }
      }
    }
    return rows as T[];
  }

  exec(sql: string): void {
    this.#db.exec(toSqlite(sql));
  }

  /** One statement at once, synchronously; null (nothing run) while a transaction is open. */
  runNow<T>(sql: string, params?: unknown[]): T[] | null {
    return this.#inTransaction ? null : this.run<T>(sql, params);
  }

  /**
   * A statement that answers no rows (an `UPDATE` without `RETURNING`) at once, synchronously: how
   * many rows it changed; null (nothing run) while a transaction is open. Counting them costs
   * nothing, where `RETURNING` built a result row (~25 µs of a save after 20 ms of idle).
   */
  changeNow(sql: string, params: unknown[]): number | null {
    if (this.#inTransaction) {
      return null;
    }
    return this.#prepare(sql).stmt.run(bindAll(params)).changes;
  }

  /** One statement: at once, or after the open transaction ends. */
  query<T>(sql: string, params?: unknown[]): Promise<T[]> {
    if (!this.#inTransaction) {
      try {
        return Promise.resolve(this.run<T>(sql, params));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return this.#turn(async () => this.run<T>(sql, params));
  }

  #turn<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#tail.then(fn);
    this.#tail = next.catch(() => undefined);
    return next;
  }

  /** `fn` inside BEGIN IMMEDIATE … COMMIT (ROLLBACK when it throws), one transaction at a time. */
  transaction<T>(fn: () => Promise<T>): Promise<T> {
    return this.#turn(async () => {
      this.#inTransaction = true;
      try {
        this.#db.exec('BEGIN IMMEDIATE');
        try {
          const out = await fn();
          this.#db.exec('COMMIT');
          return out;
        } catch (err) {
          if (this.#db.inTransaction) {
            this.#db.exec('ROLLBACK');
          }
          throw err;
        }
      } finally {
        this.#inTransaction = false;
      }
    });
  }

  get schema(): string {
    return this.#schema;
  }

  close(): void {
    this.#cache.clear();
    this.#db.close();
  }
}

/**
 * Opens `schema` of `dir` (`memory://…`: in memory). The connection's main database is an empty
 * in-memory one and the schema's file is attached under the schema's name, so statements name
 * their tables `"schema"."table"` on both engines.
 */
export async function openSqlite(
  dir: string | null,
  schema: string,
  sync: SyncMode,
): Promise<SqliteConnection> {
  const { default: Sqlite } = await import('better-sqlite3');
  const db = new Sqlite(':memory:');
  try {
    const file =
      dir === null ? ':memory:' : path.join(dir, `${SQLITE_PREFIX}${schema}${SQLITE_SUFFIX}`);
    db.prepare(`ATTACH DATABASE ? AS ${quote(schema)}`).run(file);
    db.function('now', () => new Date().toISOString());
    db.pragma('foreign_keys = ON');
    if (dir !== null) {
      // One process per data directory (`lockDataDir`): this connection keeps the file locked
      // from its first statement to its close, so a statement takes no file lock (fcntl) and no
      // shared-memory wal-index (no `-shm` file, kept on the heap: set before WAL is first used).
      // Commits still append to the WAL file as they return: durability is unchanged.
      db.pragma(`${quote(schema)}.locking_mode = EXCLUSIVE`);
      db.pragma(`${quote(schema)}.journal_mode = WAL`);
      db.pragma(`${quote(schema)}.synchronous = ${sync === 'full' ? 'FULL' : 'NORMAL'}`);
    }
    return new SqliteConnection(db, schema);
  } catch (err) {
    db.close();
    throw err;
  }
}

function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * A directory the earlier embedded engine (PGlite, a PostgreSQL data directory) wrote: the gateway
 * refuses to start on it rather than start empty beside the old data.
 */
export function assertNotPglite(dir: string): void {
  if (existsSync(path.join(dir, 'PG_VERSION'))) {
    throw new Error(
      `GATEWAY_DATA_DIR ${dir} holds a database of the earlier embedded engine (PGlite). ` +
        'The embedded store is SQLite now and cannot read it: point GATEWAY_DATA_DIR at a new ' +
        'directory (or move the old files away) to start with an empty store, or keep the old ' +
        'data by running the previous release with DATABASE_URL (see docs/operations.md, "Embedded").',
    );
  }
}

/**
 * Takes the data directory for this process. Two gateways on one directory would each keep their
 * own in-memory rate limits and lease the same outbox on their own clock: a second gateway on one
 * directory fails at start instead. A lock whose process is gone (a crash) is taken over.
 */
export async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      const handle = await open(file, 'wx');
      try {
        await handle.writeFile(`${process.pid}\n`);
      } finally {
        await handle.close();
      }
      return () => rm(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw err;
      }
      const pid = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10);
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
        throw new Error(
          `data directory ${dir} is in use by process ${pid}: one gateway per embedded database ` +
            `(set DATABASE_URL to share a PostgreSQL between instances; delete ${file} if that ` +
            'process is not a gateway)',
        );
      }
      await rm(file, { force: true });
    }
  }
  throw new Error(`could not lock data directory ${dir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
