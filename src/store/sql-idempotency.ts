import type { Database } from './db.js';
import {
  DEFAULT_IDEMPOTENCY_TTL_MS,
  DEFAULT_IN_PROGRESS_TTL_MS,
  type IdempotencyBegin,
  type IdempotencyStore,
} from './idempotency.js';
import { json } from './sql.js';

export interface SqlIdempotencyOptions {
  /** How long a key is remembered (default 24 h); an expired key is free again. */
  ttlMs?: number | undefined;
  /**
   * How long a reservation may stay in progress (default 2 min). An older one counts as abandoned
   * (its process died between `begin` and `complete`), and the next `begin` takes the key over.
   */
  inProgressTtlMs?: number | undefined;
}

/** Expired rows are deleted every this many `begin` calls, a bounded batch at a time. */
const PURGE_EVERY = 256;
const PURGE_BATCH = 1000;

/**
 * Idempotency records in SQL. `begin` is one atomic `INSERT … ON CONFLICT DO UPDATE … WHERE`: it
 * reserves a free key, or takes over an expired or abandoned one, and otherwise changes nothing.
 * Times are the callers' (`now`, epoch ms), as in the memory store.
 */
export function createSqlIdempotencyStore<T = unknown>(
  db: Database,
  options: SqlIdempotencyOptions = {},
): IdempotencyStore<T> {
  const ttlMs = options.ttlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS;
  const inProgressTtlMs = options.inProgressTtlMs ?? DEFAULT_IN_PROGRESS_TTL_MS;
  const t = db.table('idempotency_keys');
  let begins = 0;

  const at = (ms: number) => new Date(ms).toISOString();
  /**
   * PostgreSQL: a reservation commits without waiting for the WAL flush (`synchronous_commit = off`
   * for its transaction alone). Kept if the gateway dies; a crash of the database server within
   * ~3 × `wal_writer_delay` can lose it, which leaves the key free, as an abandoned reservation is
   * after `inProgressTtlMs`. The completion (the answer) waits for the flush, and flushes this too.
   */
  const reserveCommit =
    db.engine === 'postgres'
      ? `, set_config('synchronous_commit', 'off', true) AS commit_mode`
      : '';

  async function purge(now: number) {
    await db.query(
      `DELETE FROM ${t} WHERE key IN (
         SELECT key FROM ${t} WHERE expires_at <= $1::timestamptz LIMIT ${PURGE_BATCH}
       )`,
      [at(now)],
    );
  }

  return {
    async begin(key, fingerprint, now): Promise<IdempotencyBegin<T>> {
      begins += 1;
      if (begins % PURGE_EVERY === 0) {
        await purge(now);
      }
      // A reservation made at or before this is abandoned (null: never).
      const abandonedBefore = Number.isFinite(inProgressTtlMs) ? at(now - inProgressTtlMs) : null;
      for (;;) {
        const taken = await db.query(
          `INSERT INTO ${t} AS i (key, fingerprint, completed, result, reserved_at, expires_at)
           VALUES ($1, $2, false, NULL, $3::timestamptz, $4::timestamptz)
           ON CONFLICT (key) DO UPDATE SET
             fingerprint = excluded.fingerprint,
             completed = false,
             result = NULL,
             reserved_at = excluded.reserved_at,
             expires_at = excluded.expires_at
           WHERE i.expires_at <= excluded.reserved_at
              OR (NOT i.completed AND i.reserved_at <= $5::timestamptz)
           RETURNING key${reserveCommit}`,
          [key, fingerprint, at(now), at(now + ttlMs), abandonedBefore],
        );
        if (taken.length > 0) {
          return { state: 'new' };
        }
        const rows = await db.query<{ fingerprint: string; completed: boolean; result: T }>(
          `SELECT fingerprint, completed, result FROM ${t} WHERE key = $1`,
          [key],
        );
        const row = rows[0];
        if (!row) {
          continue; // Abandoned between the two statements: try to reserve it again.
        }
        if (row.fingerprint !== fingerprint) {
          return { state: 'conflict' };
        }
        return row.completed ? { state: 'replay', result: row.result } : { state: 'in_progress' };
      }
    },

    async complete(key, result, now) {
      await db.query(
        `UPDATE ${t} SET completed = true, result = $2::jsonb, expires_at = $3::timestamptz
          WHERE key = $1`,
        [key, json(result), at(now + ttlMs)],
      );
    },

    async abandon(key) {
      await db.query(`DELETE FROM ${t} WHERE key = $1`, [key]);
    },

    async close() {
      // The database belongs to whoever opened it.
    },
  };
}
