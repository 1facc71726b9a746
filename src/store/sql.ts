import type { Queryable } from './db.js';

/** Helpers shared by the SQL stores. */

/** ISO-8601 UTC with milliseconds, as `toISOString` writes it (and the embedded engine stores). */
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * Whether `value` is a valid instant exactly as `toISOString` writes it, so the embedded engine's
 * `strftime('%Y-%m-%dT%H:%M:%fZ', value)` (what `$n::timestamptz` becomes) is `value` itself.
 */
export function isCanonicalIso(value: unknown): value is string {
  return typeof value === 'string' && ISO_UTC.test(value) && toIso(value) === value;
}

function toIso(value: string): string | null {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** A timestamptz column as the ISO string the stores hand out. */
export function iso(value: unknown): string {
  if (typeof value === 'string' && ISO_UTC.test(value)) {
    return value; // already what toISOString would make of it (embedded rows)
  }
  return (value instanceof Date ? value : new Date(String(value))).toISOString();
}

/** A value for a `$n::jsonb` parameter (always stringified here: `pg` would send arrays as SQL arrays). */
export function json(value: unknown): string {
  return JSON.stringify(value) ?? 'null';
}

/** Thrown inside a transaction when a concurrent writer changed what it read: retry it. */
export class Contended extends Error {
  constructor(what: string) {
    super(`concurrent change: ${what}`);
    this.name = 'Contended';
  }
}

/** PostgreSQL errors a transaction may simply be run again for. */
const RETRYABLE_SQLSTATES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '23505', // unique_violation (a concurrent insert of the same key)
]);

export function isRetryable(err: unknown): boolean {
  if (err instanceof Contended) {
    return true;
  }
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && RETRYABLE_SQLSTATES.has(code);
}

/** Runs `fn` again (up to `attempts` times in all) while it fails with a retryable error. */
export async function withRetry<T>(fn: () => Promise<T>, attempts = 8): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= attempts || !isRetryable(err)) {
        throw err;
      }
      // A little jitter so two contenders do not collide again in lockstep.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
    }
  }
}

/** The engine a statement is written for (`Database['engine']`, without importing db.ts). */
interface Dialect {
  readonly engine: 'embedded' | 'postgres';
}

/**
 * Parallel array parameters as rows: a FROM item named `alias` whose columns are the keys of
 * `columns`, each given as its cast parameter (`{ kind: '$1::text[]', value: '$2::text[]' }`).
 * PostgreSQL: `unnest(…) AS alias (…)`; embedded SQLite (arrays bound as JSON text): the arrays'
 * `json_each` zipped by index.
 */
export function unnest(db: Dialect, alias: string, columns: Record<string, string>): string {
  const entries = Object.entries(columns);
  if (db.engine === 'postgres') {
    return `unnest(${entries.map(([, p]) => p).join(', ')}) AS ${alias} (${entries.map(([c]) => c).join(', ')})`;
  }
  const select = entries.map(([c], i) => `j${i}.value AS ${c}`).join(', ');
  const from = entries
    .map(([, p], i) =>
      i === 0 ? `json_each(${p}) AS j0` : `JOIN json_each(${p}) AS j${i} ON j${i}.key = j0.key`,
    )
    .join(' ');
  return `(SELECT ${select} FROM ${from}) AS ${alias}`;
}

/** `= ANY(param)` on PostgreSQL, `IN (the JSON array's values)` on SQLite. */
export function inArray(db: Dialect, param: string): string {
  return db.engine === 'postgres'
    ? `= ANY(${param})`
    : `IN (SELECT value FROM json_each(${param}))`;
}

/**
 * Two JSON objects merged key by key, the second's keys winning (jsonb `||`; SQLite `json_patch`).
 * `json_patch` is a merge patch (RFC 7396): it merges nested objects too and a null member removes
 * the key, so a second object whose values must replace the first's whole sends the members they
 * lack as null (as the identity store's links do).
 */
export function jsonMerge(db: Dialect, a: string, b: string): string {
  return db.engine === 'postgres' ? `${a} || ${b}` : `json_patch(${a}, ${b})`;
}

/**
 * The claim of a lease queue (the outbox, the jobs table), one statement and so one transaction:
 * up to `limit` open rows (`open`) due at `now` and not leased, locked skipping those another
 * instance holds, re-checked against their latest version, leased for `leaseMs` with one more
 * attempt (and `set`, more assignments, whose parameters `more` are `$4…`). Answers them in the
 * order they fell due: next attempt first, then insertion.
 */
export async function claimDue<R extends { next_attempt_at: unknown; seq: unknown }>(
  db: Queryable,
  table: string,
  q: { open: string; set?: string; returning: string },
  lease: { now: string; limit: number; leaseMs: number },
  more: unknown[] = [],
): Promise<R[]> {
  if (lease.limit <= 0) {
    return [];
  }
  const rows = await db.query<R>(claimDueStatement(table, q), [
    lease.now,
    lease.limit,
    new Date(Date.parse(lease.now) + lease.leaseMs).toISOString(),
    ...more,
  ]);
  return rows.sort(
    (a, b) =>
      iso(a.next_attempt_at).localeCompare(iso(b.next_attempt_at)) || Number(a.seq) - Number(b.seq),
  );
}

function claimDueStatement(
  table: string,
  q: { open: string; set?: string; returning: string },
): string {
  return `WITH due AS (
           SELECT id AS due_id FROM ${table}
            WHERE ${q.open}
              AND next_attempt_at <= $1::timestamptz
              AND (leased_until IS NULL OR leased_until <= $1::timestamptz)
            ORDER BY next_attempt_at, seq
            LIMIT $2
            FOR UPDATE SKIP LOCKED
         )
         UPDATE ${table} AS q
            SET leased_until = $3::timestamptz,
                attempts = q.attempts + 1${q.set ? `,\n                ${q.set}` : ''}
           FROM due
          WHERE q.id = due.due_id
         RETURNING ${q.returning}`;
}
