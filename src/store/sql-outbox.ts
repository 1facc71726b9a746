import { randomUUID } from 'node:crypto';
import type { ProviderId } from '../contacts/model.js';
import type { ProviderErrorInfo } from '../errors.js';
import type { WriteItem } from '../providers/types.js';
import type { Database } from './db.js';
import type { OutboxItem, OutboxKind, OutboxStore } from './outbox.js';
import { iso, json } from './sql.js';

interface Row {
  id: string;
  provider: ProviderId;
  kind: OutboxKind;
  gateway_id: string;
  item: WriteItem;
  attempts: number;
  next_attempt_at: Date | string;
  last_error: ProviderErrorInfo | null;
  created_at: Date | string;
  seq: string | number;
}

const COLUMNS =
  'id, provider, kind, gateway_id, item, attempts, next_attempt_at, last_error, created_at, seq';

const toItem = (r: Row): OutboxItem => ({
  id: r.id,
  provider: r.provider,
  kind: r.kind,
  gatewayId: r.gateway_id,
  item: r.item,
  attempts: Number(r.attempts),
  nextAttemptAt: iso(r.next_attempt_at),
  lastError: r.last_error ?? null,
  createdAt: iso(r.created_at),
});

/** Rows per INSERT statement (8 parameters each, well under PostgreSQL's 65535). */
const INSERT_CHUNK = 500;

/**
 * The outbox in SQL. `claimDue` locks due, unleased rows with `FOR UPDATE SKIP LOCKED` and leases
 * them in the same statement, so two instances never take the same item; a lease that ran out
 * (its taker died) makes the item due again.
 */
export function createSqlOutboxStore(db: Database): OutboxStore {
  const t = db.table('outbox');
  return {
    async enqueue(items, now) {
      if (items.length === 0) {
        return [];
      }
      const out: OutboxItem[] = items.map((n) => ({
        id: randomUUID(),
        provider: n.provider,
        kind: n.kind,
        gatewayId: n.gatewayId,
        item: structuredClone(n.item),
        attempts: 0,
        nextAttemptAt: iso(n.nextAttemptAt),
        lastError: n.lastError === null ? null : structuredClone(n.lastError),
        createdAt: iso(now),
      }));
      const insert = async (q: Pick<Database, 'query'>, chunk: OutboxItem[]) => {
        const params: unknown[] = [];
        const values = chunk.map((o) => {
          const p = params.length;
          params.push(
            o.id,
            o.provider,
            o.kind,
            o.gatewayId,
            json(o.item),
            o.nextAttemptAt,
            o.lastError === null ? null : json(o.lastError),
            o.createdAt,
          );
          return `($${p + 1}, $${p + 2}, $${p + 3}, $${p + 4}, $${p + 5}::jsonb, $${p + 6}::timestamptz, $${p + 7}::jsonb, $${p + 8}::timestamptz)`;
        });
        await q.query(
          `INSERT INTO ${t} (id, provider, kind, gateway_id, item, next_attempt_at, last_error, created_at)
           VALUES ${values.join(', ')}`,
          params,
        );
      };
      if (out.length <= INSERT_CHUNK) {
        await insert(db, out);
      } else {
        await db.transaction(async (tx) => {
          for (let i = 0; i < out.length; i += INSERT_CHUNK) {
            await insert(tx, out.slice(i, i + INSERT_CHUNK));
          }
        });
      }
      return out.map((o) => structuredClone(o));
    },

    async claimDue(now, limit, leaseMs) {
      if (limit <= 0) {
        return [];
      }
      // One statement is one transaction: the rows are locked (skipping those another instance
      // holds), re-checked against their latest version, and leased before anyone else sees them.
      const rows = await db.query<Row>(
        `WITH due AS (
           SELECT id FROM ${t}
            WHERE next_attempt_at <= $1::timestamptz
              AND (leased_until IS NULL OR leased_until <= $1::timestamptz)
            ORDER BY next_attempt_at, seq
            LIMIT $2
            FOR UPDATE SKIP LOCKED
         )
         UPDATE ${t} o
            SET leased_until = $1::timestamptz + make_interval(secs => $3::float8 / 1000),
                attempts = o.attempts + 1
           FROM due
          WHERE o.id = due.id
         RETURNING ${COLUMNS.split(', ')
           .map((c) => `o.${c}`)
           .join(', ')}`,
        [now, limit, leaseMs],
      );
      return rows
        .sort(
          (a, b) =>
            iso(a.next_attempt_at).localeCompare(iso(b.next_attempt_at)) ||
            Number(a.seq) - Number(b.seq),
        )
        .map(toItem);
    },

    async remove(id) {
      await db.query(`DELETE FROM ${t} WHERE id = $1`, [id]);
    },

    async reschedule(id, nextAttemptAt, lastError) {
      await db.query(
        `UPDATE ${t} SET next_attempt_at = $2::timestamptz, last_error = $3::jsonb,
                leased_until = NULL
          WHERE id = $1`,
        [id, nextAttemptAt, json(lastError)],
      );
    },

    async list(limit) {
      const rows = await db.query<Row>(
        `SELECT ${COLUMNS} FROM ${t} ORDER BY created_at, seq LIMIT $1`,
        [Math.max(0, limit)],
      );
      return rows.map(toItem);
    },

    async stats() {
      const [row] = await db.query<{ depth: string | number; oldest: Date | string | null }>(
        `SELECT count(*) AS depth, min(created_at) AS oldest FROM ${t}`,
      );
      return {
        depth: Number(row?.depth ?? 0),
        oldestCreatedAt: row?.oldest ? iso(row.oldest) : null,
      };
    },

    async close() {
      // The database belongs to whoever opened it.
    },
  };
}
