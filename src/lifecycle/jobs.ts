import { randomUUID } from 'node:crypto';
import type { Database } from '../store/db.js';
import { DueGate, gatedClaim, gatedStore, nextDueAt } from '../store/due-gate.js';
import { claimDue, iso, json } from '../store/sql.js';

/** A kind of background job: how many to take per look, and what doing one means. */
export interface JobHandler {
  type: string;
  limit: number;
  run(job: Job, lease: { extend(): Promise<void> }): Promise<void>;
}

/**
 * Background work the gateway must do exactly once across replicas, with the outbox's machinery:
 * leased (PostgreSQL `FOR UPDATE SKIP LOCKED`; the embedded engine has one writer), retried with backoff, due again when its taker
 * dies. Webhook events and async batches are jobs.
 */
export interface Job<P = unknown> {
  id: string;
  type: string;
  payload: P;
  attempts: number;
  nextAttemptAt: string;
  lastError: string | null;
  createdAt: string;
}

export interface NewJob {
  /** A stable id makes adding idempotent (the same event added twice is one job). */
  id?: string;
  type: string;
  payload: unknown;
  nextAttemptAt: string;
}

export interface JobStore {
  /** Adds jobs; one whose id exists already is left as it is. */
  add(jobs: readonly NewJob[], now: string): Promise<void>;
  /** Leases up to `limit` due jobs of this type until `now + leaseMs` (attempts + 1). */
  /**
   * `poll`: the poller's timer asks (src/store/due-gate.ts: on PostgreSQL only a poll may be
   * answered by the gate).
   */
  claimDue(
    type: string,
    now: string,
    limit: number,
    leaseMs: number,
    poll?: boolean,
  ): Promise<Job[]>;
  /** Keeps the lease of a long job (an async batch) until `until`. */
  extend(id: string, until: string): Promise<void>;
  /** Done: never taken again (kept until `purge`). */
  done(id: string, now: string): Promise<void>;
  /** Failed: due again at `nextAttemptAt`, lease released. */
  retry(id: string, nextAttemptAt: string, error: string): Promise<void>;
  /** Forgets jobs done before `before`. */
  purge(before: string): Promise<number>;
  /**
   * True when no job of any of `types` is open (each type polled since the last change,
   * src/store/due-gate.ts); the poller may stop until `wake` is called, once: at this process's
   * next write, and on PostgreSQL (other replicas add jobs) at the latest after
   * `GATEWAY_REPLICA_POLL_MS` (10 s). Absent (memory) or false: keep polling.
   */
  sleep?(types: readonly string[], wake: () => void): boolean;
}

interface MemoryJob extends Job {
  seq: number;
  leasedUntil: number;
  doneAt: string | null;
}

export function createMemoryJobStore(): JobStore {
  const jobs = new Map<string, MemoryJob>();
  let seq = 0;
  const copy = ({ seq: _s, leasedUntil: _l, doneAt: _d, ...job }: MemoryJob): Job =>
    structuredClone(job);
  return {
    async add(list, now) {
      for (const n of list) {
        const id = n.id ?? randomUUID();
        if (!jobs.has(id)) {
          seq += 1;
          jobs.set(id, {
            id,
            type: n.type,
            payload: structuredClone(n.payload),
            attempts: 0,
            nextAttemptAt: iso(n.nextAttemptAt),
            lastError: null,
            createdAt: iso(now),
            seq,
            leasedUntil: 0,
            doneAt: null,
          });
        }
      }
    },
    async claimDue(type, now, limit, leaseMs) {
      const at = Date.parse(now);
      const due = [...jobs.values()]
        .filter(
          (j) =>
            j.type === type &&
            j.doneAt === null &&
            Date.parse(j.nextAttemptAt) <= at &&
            j.leasedUntil <= at,
        )
        .sort((a, b) => a.nextAttemptAt.localeCompare(b.nextAttemptAt) || a.seq - b.seq)
        .slice(0, limit);
      for (const j of due) {
        j.leasedUntil = at + leaseMs;
        j.attempts += 1;
      }
      return due.map(copy);
    },
    async extend(id, until) {
      const j = jobs.get(id);
      if (j) {
        j.leasedUntil = Date.parse(until);
      }
    },
    async done(id, now) {
      const j = jobs.get(id);
      if (j) {
        j.doneAt = iso(now);
        j.leasedUntil = 0;
      }
    },
    async retry(id, nextAttemptAt, error) {
      const j = jobs.get(id);
      if (j && j.doneAt === null) {
        j.nextAttemptAt = iso(nextAttemptAt);
        j.lastError = error;
        j.leasedUntil = 0;
      }
    },
    async purge(before) {
      let n = 0;
      for (const [id, j] of jobs) {
        if (j.doneAt !== null && j.doneAt < before) {
          jobs.delete(id);
          n += 1;
        }
      }
      return n;
    },
  };
}

interface Row {
  id: string;
  type: string;
  payload: unknown;
  attempts: number;
  next_attempt_at: Date | string;
  last_error: string | null;
  created_at: Date | string;
  seq: string | number;
}

const toJob = (r: Row): Job => ({
  id: r.id,
  type: r.type,
  payload: r.payload,
  attempts: Number(r.attempts),
  nextAttemptAt: iso(r.next_attempt_at),
  lastError: r.last_error ?? null,
  createdAt: iso(r.created_at),
});

export function createSqlJobStore(db: Database, replicaPollMs?: number): JobStore {
  const t = db.table('jobs');
  // A poll with nothing due sends no statement (src/store/due-gate.ts).
  const gate = DueGate.of(db, t, replicaPollMs);
  return gatedStore<JobStore>(
    {
      async add(list, now) {
        for (let i = 0; i < list.length; i += 500) {
          const params: unknown[] = [];
          const values = list.slice(i, i + 500).map((n) => {
            const p = params.length;
            params.push(n.id ?? randomUUID(), n.type, json(n.payload), n.nextAttemptAt, now);
            return `($${p + 1}, $${p + 2}, $${p + 3}::jsonb, $${p + 4}::timestamptz, $${p + 5}::timestamptz)`;
          });
          await db.query(
            `INSERT INTO ${t} (id, type, payload, next_attempt_at, created_at)
           VALUES ${values.join(', ')} ON CONFLICT (id) DO NOTHING`,
            params,
          );
        }
      },
      async claimDue(type, now, limit, leaseMs, poll) {
        const open = 'done_at IS NULL AND type = $4';
        const returning =
          'id, type, payload, attempts, next_attempt_at, last_error, created_at, seq';
        const rows = await gatedClaim(
          gate,
          type,
          { now, limit, poll },
          () => claimDue<Row>(db, t, { open, returning }, { now, limit, leaseMs }, [type]),
          () => nextDueAt(db, t, 'done_at IS NULL AND type = $1', [type]),
        );
        return rows.map(toJob);
      },
      async extend(id, until) {
        await db.query(`UPDATE ${t} SET leased_until = $2::timestamptz WHERE id = $1`, [id, until]);
      },
      async done(id, now) {
        await db.query(
          `UPDATE ${t} SET done_at = $2::timestamptz, leased_until = NULL WHERE id = $1`,
          [id, now],
        );
      },
      async retry(id, nextAttemptAt, error) {
        await db.query(
          `UPDATE ${t} SET next_attempt_at = $2::timestamptz, last_error = $3, leased_until = NULL
          WHERE id = $1 AND done_at IS NULL`,
          [id, nextAttemptAt, error],
        );
      },
      sleep: (types: readonly string[], wake: () => void) => gate.sleep(types, wake),
      async purge(before) {
        const rows = await db.query<{ id: string }>(
          `DELETE FROM ${t} WHERE done_at IS NOT NULL AND done_at < $1::timestamptz RETURNING id`,
          [before],
        );
        return rows.length;
      },
    },
    gate,
    ['purge'],
  );
}
