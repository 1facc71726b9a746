/**
 * Idempotency records: the first result of a write, kept under its key with a fingerprint of the
 * input. A later issue adds a durable implementation behind this interface.
 */
export type IdempotencyBegin<T> =
  | { state: 'new' }
  | { state: 'replay'; result: T }
  | { state: 'conflict' }
  | { state: 'in_progress' };

export interface IdempotencyStore<T = unknown> {
  /** Reserves `key` for `fingerprint`, or tells why not. Atomic per key. */
  begin(key: string, fingerprint: string, now: number): Promise<IdempotencyBegin<T>>;
  /** Stores the result of a reserved key. */
  complete(key: string, result: T, now: number): Promise<void>;
  /** Releases a reservation whose write threw (nothing was recorded). */
  abandon(key: string): Promise<void>;
  close(): Promise<void>;
}

interface Entry<T> {
  fingerprint: string;
  result?: T;
  expiresAt: number;
}

/** The embedded default: records live in memory for `ttlMs` (default 24 h). */
export function createMemoryIdempotencyStore<T>(ttlMs = 24 * 60 * 60 * 1000): IdempotencyStore<T> {
  const entries = new Map<string, Entry<T>>();
  return {
    async begin(key, fingerprint, now) {
      const entry = entries.get(key);
      if (!entry || entry.expiresAt <= now) {
        entries.set(key, { fingerprint, expiresAt: now + ttlMs });
        return { state: 'new' };
      }
      if (entry.fingerprint !== fingerprint) {
        return { state: 'conflict' };
      }
      return 'result' in entry
        ? { state: 'replay', result: entry.result as T }
        : { state: 'in_progress' };
    },
    async complete(key, result, now) {
      const entry = entries.get(key);
      if (entry) {
        entry.result = structuredClone(result);
        entry.expiresAt = now + ttlMs;
      }
    },
    async abandon(key) {
      entries.delete(key);
    },
    async close() {
      entries.clear();
    },
  };
}
