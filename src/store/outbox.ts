import { randomUUID } from 'node:crypto';
import type { ProviderId } from '../model/contact.js';
import type { ProviderErrorInfo } from '../model/errors.js';
import type { WriteItem } from '../providers/types.js';

/**
 * Which adapter method delivers an outbox item: `poll` re-checks a provider's asynchronous job
 * (a provider's import job still running) by its `importId` instead of sending the write again.
 */
export type OutboxKind = 'upsert' | 'update' | 'poll';

/** Where a queued write stands (`Write.status`). */
export type WriteStatus = 'QUEUED' | 'DELIVERING' | 'DELIVERED' | 'FAILED';

/** How a queued write ended. */
export interface WriteEnd {
  status: 'DELIVERED' | 'FAILED';
  /** The provider's id of the contact once delivered. */
  remoteId: string | null;
  /** Why it failed for good (null when delivered). */
  error: ProviderErrorInfo | null;
}

/** Which writes `page` lists (newest first). */
export interface WriteFilter {
  status?: WriteStatus | null | undefined;
  provider?: ProviderId | null | undefined;
  /** Only writes older than this cursor (`OutboxItem.cursor` of the last one seen). */
  after?: string | null | undefined;
  first: number;
}

/**
 * A provider write the gateway accepted but could not deliver yet (its retries ended on a
 * retryable failure). It is delivered in the background with backoff until it succeeds or fails
 * for good; `pendingWrites` lists what waits.
 */
export interface OutboxItem {
  id: string;
  provider: ProviderId;
  kind: OutboxKind;
  /** The gateway id of the contact. */
  gatewayId: string;
  /** The write as the adapter takes it (patch, known view, remote id, options, idempotency key). */
  item: WriteItem;
  /** Delivery attempts so far (each may itself have made several HTTP attempts). */
  attempts: number;
  /** ISO time of the next delivery attempt. */
  nextAttemptAt: string;
  /** Why it waits. */
  lastError: ProviderErrorInfo | null;
  createdAt: string;
  /** QUEUED (waiting), DELIVERING (taken by a delivery run), DELIVERED or FAILED (ended). */
  status: WriteStatus;
  /** When it last changed (ISO). */
  updatedAt: string;
  /** When it ended (DELIVERED or FAILED), else null. */
  endedAt: string | null;
  /** The provider's id of the contact once delivered. */
  remoteId: string | null;
  /** The provider's asynchronous job this write waits for (an import id). */
  importId: string | null;
  /** Opaque position for paging (`WriteFilter.after`). */
  cursor: string;
}

export interface NewOutboxItem {
  provider: ProviderId;
  kind: OutboxKind;
  gatewayId: string;
  item: WriteItem;
  lastError: ProviderErrorInfo | null;
  nextAttemptAt: string;
  /** For `poll`: the provider's job to re-check. */
  importId?: string | null;
}

export interface OutboxStore {
  /** Stores new items (durably, before the write is answered as QUEUED). */
  enqueue(items: readonly NewOutboxItem[], now: string): Promise<OutboxItem[]>;
  /**
   * Takes up to `limit` items due at `now` for delivery and leases them to the caller until
   * `now + leaseMs`, so that no other instance takes them meanwhile (PostgreSQL: `FOR UPDATE SKIP
   * LOCKED`). An item whose lease ran out (its taker died) is due again. `poll`: the delivery's
   * timer asks (src/store/due-gate.ts: on PostgreSQL only a poll may be answered by the gate).
   */
  claimDue(now: string, limit: number, leaseMs: number, poll?: boolean): Promise<OutboxItem[]>;
  /** Deletes the item and its history. */
  remove(id: string): Promise<void>;
  /**
   * Delivered, or failed for good: the item leaves the queue and stays in the write history
   * (until `purge`). Returns it as it now stands (null when unknown or already ended).
   */
  finish(id: string, end: WriteEnd): Promise<OutboxItem | null>;
  /** Still failing (retryable): try again at `nextAttemptAt`, lease released. */
  reschedule(id: string, nextAttemptAt: string, lastError: ProviderErrorInfo): Promise<void>;
  /** What waits (QUEUED or DELIVERING), oldest first (at most `limit`). */
  list(limit: number): Promise<OutboxItem[]>;
  /** How many items wait and when the oldest was stored (metrics). */
  stats(): Promise<OutboxStats>;
  /** One write of the history, waiting or ended. */
  get(id: string): Promise<OutboxItem | null>;
  /** The write history, newest first, filtered; `hasMore` when more match after these. */
  page(filter: WriteFilter): Promise<{ items: OutboxItem[]; hasMore: boolean }>;
  /** Writes that changed at or after `since` (ISO), for change notifications. */
  changedSince(since: string, limit: number): Promise<OutboxItem[]>;
  /** Forgets ended writes that ended before `before` (ISO). Returns how many. */
  purge(before: string): Promise<number>;
  /**
   * Gives back the leases this handle holds (items it claimed and neither removed nor
   * rescheduled), so another instance may take them at once instead of after `OUTBOX_LEASE_MS`.
   * Called on shutdown. Returns how many were released.
   */
  releaseLeases(): Promise<number>;
  /**
   * True when no write waits (polled since the last change, src/store/due-gate.ts); the delivery
   * may stop polling until `wake` is called, once: at this process's next write, and on
   * PostgreSQL (other replicas enqueue) at the latest after `GATEWAY_REPLICA_POLL_MS` (10 s).
   * Absent (memory) or false: keep polling.
   */
  sleep?(wake: () => void): boolean;
  close(): Promise<void>;
}

export interface OutboxStats {
  depth: number;
  /** ISO time the oldest waiting item was stored; null when none waits. */
  oldestCreatedAt: string | null;
}

interface Row extends OutboxItem {
  leasedUntil: number;
  seq: number;
}

/** A `seq` as a paging cursor, and back. */
export const cursorOf = (seq: number | string): string =>
  Buffer.from(`w:${seq}`).toString('base64url');
export function seqOfCursor(cursor: string | null | undefined): number | null {
  if (!cursor) {
    return null;
  }
  const text = Buffer.from(cursor, 'base64url').toString();
  const seq = text.startsWith('w:') ? Number(text.slice(2)) : Number.NaN;
  return Number.isSafeInteger(seq) && seq >= 0 ? seq : null;
}

/** In-process outbox (lost on restart): for tests and the in-memory store. */
export function createMemoryOutboxStore(): OutboxStore {
  const rows = new Map<string, Row>();
  let seq = 0;
  const copy = ({ leasedUntil: _l, seq: _s, ...item }: Row): OutboxItem => structuredClone(item);
  const held = new Set<string>();
  const stamp = () => new Date().toISOString();
  return {
    async enqueue(items, now) {
      return items.map(({ importId, ...n }) => {
        seq += 1;
        const row: Row = {
          ...structuredClone(n),
          id: randomUUID(),
          attempts: 0,
          createdAt: now,
          leasedUntil: 0,
          status: 'QUEUED',
          updatedAt: stamp(),
          endedAt: null,
          remoteId: null,
          importId: importId ?? null,
          seq,
          cursor: cursorOf(seq),
        };
        rows.set(row.id, row);
        return copy(row);
      });
    },
    async claimDue(now, limit, leaseMs) {
      const at = Date.parse(now);
      const due = [...rows.values()]
        .filter(
          (r) => r.endedAt === null && Date.parse(r.nextAttemptAt) <= at && r.leasedUntil <= at,
        )
        .sort((a, b) => a.nextAttemptAt.localeCompare(b.nextAttemptAt) || a.seq - b.seq)
        .slice(0, limit);
      for (const r of due) {
        r.leasedUntil = at + leaseMs;
        r.attempts += 1;
        r.status = 'DELIVERING';
        r.updatedAt = stamp();
        held.add(r.id);
      }
      return due.map(copy);
    },
    async remove(id) {
      rows.delete(id);
      held.delete(id);
    },
    async finish(id, end) {
      held.delete(id);
      const r = rows.get(id);
      if (!r || r.endedAt !== null) {
        return null;
      }
      r.status = end.status;
      r.remoteId = end.remoteId;
      if (end.error) {
        r.lastError = structuredClone(end.error);
      }
      r.leasedUntil = 0;
      r.updatedAt = stamp();
      r.endedAt = r.updatedAt;
      return copy(r);
    },
    async reschedule(id, nextAttemptAt, lastError) {
      const r = rows.get(id);
      if (r && r.endedAt === null) {
        r.nextAttemptAt = nextAttemptAt;
        r.lastError = structuredClone(lastError);
        r.leasedUntil = 0;
        r.status = 'QUEUED';
        r.updatedAt = stamp();
      }
      held.delete(id);
    },
    async list(limit) {
      return [...rows.values()]
        .filter((r) => r.endedAt === null)
        .sort((a, b) => a.seq - b.seq)
        .slice(0, limit)
        .map(copy);
    },
    async stats() {
      let depth = 0;
      let oldest: string | null = null;
      for (const r of rows.values()) {
        if (r.endedAt !== null) {
          continue;
        }
        depth += 1;
        if (oldest === null || r.createdAt < oldest) {
          oldest = r.createdAt;
        }
      }
      return { depth, oldestCreatedAt: oldest };
    },
    async get(id) {
      const r = rows.get(id);
      return r ? copy(r) : null;
    },
    async page(filter) {
      const after = seqOfCursor(filter.after);
      const matching = [...rows.values()]
        .filter(
          (r) =>
            (!filter.status || r.status === filter.status) &&
            (!filter.provider || r.provider === filter.provider) &&
            (after === null || r.seq < after),
        )
        .sort((a, b) => b.seq - a.seq);
      return {
        items: matching.slice(0, filter.first).map(copy),
        hasMore: matching.length > filter.first,
      };
    },
    async changedSince(since, limit) {
      return [...rows.values()]
        .filter((r) => r.updatedAt >= since)
        .sort((a, b) => a.updatedAt.localeCompare(b.updatedAt))
        .slice(0, limit)
        .map(copy);
    },
    async purge(before) {
      let n = 0;
      for (const [id, r] of rows) {
        if (r.endedAt !== null && r.endedAt < before) {
          rows.delete(id);
          n += 1;
        }
      }
      return n;
    },
    async releaseLeases() {
      let released = 0;
      for (const id of held) {
        const r = rows.get(id);
        if (r && r.endedAt === null && r.leasedUntil > 0) {
          r.leasedUntil = 0;
          r.status = 'QUEUED';
          r.updatedAt = stamp();
          released += 1;
        }
      }
      held.clear();
      return released;
    },
    async close() {
      rows.clear();
    },
  };
}
