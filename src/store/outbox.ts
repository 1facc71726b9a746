import { randomUUID } from 'node:crypto';
import type { ProviderId } from '../contacts/model.js';
import type { ProviderErrorInfo } from '../errors.js';
import type { WriteItem } from '../providers/types.js';

/** Which adapter method delivers an outbox item. */
export type OutboxKind = 'upsert' | 'update';

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
}

export interface NewOutboxItem {
  provider: ProviderId;
  kind: OutboxKind;
  gatewayId: string;
  item: WriteItem;
  lastError: ProviderErrorInfo | null;
  nextAttemptAt: string;
}

export interface OutboxStore {
  /** Stores new items (durably, before the write is answered as QUEUED). */
  enqueue(items: readonly NewOutboxItem[], now: string): Promise<OutboxItem[]>;
  /**
   * Takes up to `limit` items due at `now` for delivery and leases them to the caller until
   * `now + leaseMs`, so that no other instance takes them meanwhile (PostgreSQL: `FOR UPDATE SKIP
   * LOCKED`). An item whose lease ran out (its taker died) is due again.
   */
  claimDue(now: string, limit: number, leaseMs: number): Promise<OutboxItem[]>;
  /** Delivered, or failed for good: the item leaves the outbox. */
  remove(id: string): Promise<void>;
  /** Still failing (retryable): try again at `nextAttemptAt`, lease released. */
  reschedule(id: string, nextAttemptAt: string, lastError: ProviderErrorInfo): Promise<void>;
  /** What waits, oldest first (at most `limit`). */
  list(limit: number): Promise<OutboxItem[]>;
  /** How many items wait and when the oldest was stored (metrics). */
  stats(): Promise<OutboxStats>;
  close(): Promise<void>;
}

export interface OutboxStats {
  depth: number;
  /** ISO time the oldest waiting item was stored; null when none waits. */
  oldestCreatedAt: string | null;
}

interface Row extends OutboxItem {
  leasedUntil: number;
}

/** In-process outbox (lost on restart): for tests and the in-memory store. */
export function createMemoryOutboxStore(): OutboxStore {
  const rows = new Map<string, Row>();
  const copy = ({ leasedUntil: _l, ...item }: Row): OutboxItem => structuredClone(item);
  return {
    async enqueue(items, now) {
      return items.map((n) => {
        const row: Row = {
          ...structuredClone(n),
          id: randomUUID(),
          attempts: 0,
          createdAt: now,
          leasedUntil: 0,
        };
        rows.set(row.id, row);
        return copy(row);
      });
    },
    async claimDue(now, limit, leaseMs) {
      const at = Date.parse(now);
      const due = [...rows.values()]
        .filter((r) => Date.parse(r.nextAttemptAt) <= at && r.leasedUntil <= at)
        .sort((a, b) => a.nextAttemptAt.localeCompare(b.nextAttemptAt))
        .slice(0, limit);
      for (const r of due) {
        r.leasedUntil = at + leaseMs;
        r.attempts += 1;
      }
      return due.map(copy);
    },
    async remove(id) {
      rows.delete(id);
    },
    async reschedule(id, nextAttemptAt, lastError) {
      const r = rows.get(id);
      if (r) {
        r.nextAttemptAt = nextAttemptAt;
        r.lastError = structuredClone(lastError);
        r.leasedUntil = 0;
      }
    },
    async list(limit) {
      return [...rows.values()]
        .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
        .slice(0, limit)
        .map(copy);
    },
    async stats() {
      let oldest: string | null = null;
      for (const r of rows.values()) {
        if (oldest === null || r.createdAt < oldest) {
          oldest = r.createdAt;
        }
      }
      return { depth: rows.size, oldestCreatedAt: oldest };
    },
    async close() {
      rows.clear();
    },
  };
}
