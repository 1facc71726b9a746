import { randomUUID } from 'node:crypto';
import type { ProviderId } from '../model/contact.js';
import type { ProviderErrorInfo } from '../model/errors.js';
import type { WriteItem } from '../providers/types.js';
import type { Database } from './db.js';
import { DueGate, gatedClaim, gatedStore, nextDueAt } from './due-gate.js';
import {
  cursorOf,
  type OutboxItem,
  type OutboxKind,
  type OutboxStore,
  seqOfCursor,
  type WriteStatus,
} from './outbox.js';
import { claimDue, inArray, iso, json } from './sql.js';

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
  status: WriteStatus;
  updated_at: Date | string;
  ended_at: Date | string | null;
  remote_id: string | null;
  import_id: string | null;
}

const COLUMNS =
  'id, provider, kind, gateway_id, item, attempts, next_attempt_at, last_error, created_at, seq, status, updated_at, ended_at, remote_id, import_id';

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
  status: r.status,
  updatedAt: iso(r.updated_at),
  endedAt: r.ended_at === null ? null : iso(r.ended_at),
  remoteId: r.remote_id ?? null,
  importId: r.import_id ?? null,
  cursor: cursorOf(r.seq),
});

/** Rows per INSERT statement (10 parameters each, well under PostgreSQL's 65535). */
const INSERT_CHUNK = 500;

/**
 * The outbox in SQL. `claimDue` locks due, unleased rows with `FOR UPDATE SKIP LOCKED` and leases
 * them in the same statement, so two instances never take the same item; a lease that ran out
 * (its taker died) makes the item due again.
 */
export function createSqlOutboxStore(db: Database, replicaPollMs?: number): OutboxStore {
  const t = db.table('outbox');
  /** Ids this handle leased and has not removed or rescheduled yet (`releaseLeases`). */
  const held = new Set<string>();
  // A poll with nothing due sends no statement (src/store/due-gate.ts).
  const gate = DueGate.of(db, t, replicaPollMs);
  return gatedStore<OutboxStore>(
    {
      async enqueue(items, now) {
        if (items.length === 0) {
          return [];
        }
        const stamp = new Date().toISOString();
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
          status: 'QUEUED',
          updatedAt: stamp,
          endedAt: null,
          remoteId: null,
          importId: n.importId ?? null,
          cursor: '',
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
              o.updatedAt,
              o.importId,
            );
            return `($${p + 1}, $${p + 2}, $${p + 3}, $${p + 4}, $${p + 5}::jsonb, $${p + 6}::timestamptz, $${p + 7}::jsonb, $${p + 8}::timestamptz, $${p + 9}::timestamptz, $${p + 10})`;
          });
          const rows = await q.query<{ id: string; seq: string | number }>(
            `INSERT INTO ${t} (id, provider, kind, gateway_id, item, next_attempt_at, last_error, created_at, updated_at, import_id)
           VALUES ${values.join(', ')} RETURNING id, seq`,
            params,
          );
          const seqs = new Map(rows.map((r) => [r.id, r.seq]));
          for (const o of chunk) {
            o.cursor = cursorOf(seqs.get(o.id) ?? 0);
          }
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

      async claimDue(now, limit, leaseMs, poll) {
        const rows = await gatedClaim(
          gate,
          '',
          { now, limit, poll },
          async () => {
            // Leased before anyone else sees them (see claimDue in sql.ts).
            const claimed = await claimDue<Row>(
              db,
              t,
              {
                open: 'ended_at IS NULL',
                set: "status = 'DELIVERING', updated_at = $4::timestamptz",
                returning: COLUMNS,
              },
              { now, limit, leaseMs },
              [new Date().toISOString()],
            );
            for (const r of claimed) {
              held.add(r.id);
            }
            return claimed;
          },
          () => nextDueAt(db, t, 'ended_at IS NULL'),
        );
        return rows.map(toItem);
      },

      async remove(id) {
        await db.query(`DELETE FROM ${t} WHERE id = $1`, [id]);
        held.delete(id);
      },

      async finish(id, end) {
        held.delete(id);
        const rows = await db.query<Row>(
          `UPDATE ${t} SET status = $2, remote_id = $3, last_error = COALESCE($4::jsonb, last_error),
                leased_until = NULL, updated_at = $5::timestamptz, ended_at = $5::timestamptz
          WHERE id = $1 AND ended_at IS NULL
         RETURNING ${COLUMNS}`,
          [
            id,
            end.status,
            end.remoteId,
            end.error ? json(end.error) : null,
            new Date().toISOString(),
          ],
        );
        return rows[0] ? toItem(rows[0]) : null;
      },

      async reschedule(id, nextAttemptAt, lastError) {
        await db.query(
          `UPDATE ${t} SET next_attempt_at = $2::timestamptz, last_error = $3::jsonb,
                leased_until = NULL, status = 'QUEUED', updated_at = $4::timestamptz
          WHERE id = $1 AND ended_at IS NULL`,
          [id, nextAttemptAt, json(lastError), new Date().toISOString()],
        );
        held.delete(id);
      },

      async list(limit) {
        const rows = await db.query<Row>(
          `SELECT ${COLUMNS} FROM ${t} WHERE ended_at IS NULL ORDER BY seq LIMIT $1`,
          [Math.max(0, limit)],
        );
        return rows.map(toItem);
      },

      async stats() {
        const [row] = await db.query<{ depth: string | number; oldest: Date | string | null }>(
          `SELECT count(*) AS depth, min(created_at) AS oldest FROM ${t} WHERE ended_at IS NULL`,
        );
        return {
          depth: Number(row?.depth ?? 0),
          oldestCreatedAt: row?.oldest ? iso(row.oldest) : null,
        };
      },

      async get(id) {
        const rows = await db.query<Row>(`SELECT ${COLUMNS} FROM ${t} WHERE id = $1`, [id]);
        return rows[0] ? toItem(rows[0]) : null;
      },

      async page(filter) {
        const after = seqOfCursor(filter.after);
        const rows = await db.query<Row>(
          `SELECT ${COLUMNS} FROM ${t}
          WHERE ($1::text IS NULL OR status = $1)
            AND ($2::text IS NULL OR provider = $2)
            AND ($3::bigint IS NULL OR seq < $3)
          ORDER BY seq DESC LIMIT $4`,
          [filter.status ?? null, filter.provider ?? null, after, Math.max(0, filter.first) + 1],
        );
        return {
          items: rows.slice(0, filter.first).map(toItem),
          hasMore: rows.length > filter.first,
        };
      },

      async changedSince(since, limit) {
        const rows = await db.query<Row>(
          `SELECT ${COLUMNS} FROM ${t} WHERE updated_at >= $1::timestamptz
          ORDER BY updated_at, seq LIMIT $2`,
          [since, limit],
        );
        return rows.map(toItem);
      },

      async purge(before) {
        const rows = await db.query<{ id: string }>(
          `DELETE FROM ${t} WHERE ended_at IS NOT NULL AND ended_at < $1::timestamptz RETURNING id`,
          [before],
        );
        return rows.length;
      },

      async releaseLeases() {
        const ids = [...held];
        held.clear();
        if (ids.length === 0) {
          return 0;
        }
        const rows = await db.query(
          `UPDATE ${t} SET leased_until = NULL, status = 'QUEUED', updated_at = $2::timestamptz
          WHERE id ${inArray(db, '$1::text[]')} AND ended_at IS NULL AND leased_until IS NOT NULL
         RETURNING id`,
          [ids, new Date().toISOString()],
        );
        return rows.length;
      },

      sleep: (wake: () => void) => gate.sleep([''], wake),
      async close() {
        // The database belongs to whoever opened it.
      },
    },
    gate,
    ['list', 'stats', 'get', 'page', 'changedSince', 'purge', 'close'],
  );
}
