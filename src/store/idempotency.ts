/**
 * Idempotency records: the first result of a write, kept under its key with a fingerprint of the
 * input. Implemented in memory (tests) and in SQL (`sql-idempotency.ts`, embedded or PostgreSQL).
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

/** How long a key is remembered (a reservation, then its result): 24 h. */
export const DEFAULT_IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/**
 * How long a reservation may stay in progress before it counts as abandoned (its process died
 * between `begin` and `complete`/`abandon`) and a new `begin` may take the key over: 2 min.
 */
export const DEFAULT_IN_PROGRESS_TTL_MS = 2 * 60 * 1000;

export interface IdempotencyStoreOptions {
  /** See `DEFAULT_IN_PROGRESS_TTL_MS`. The memory store's default is no takeover (Infinity). */
  inProgressTtlMs?: number | undefined;
}

interface Entry<T> {
  fingerprint: string;
  result?: T;
  expiresAt: number;
  reservedAt: number;
}

/** The embedded default: records live in memory for `ttlMs` (default 24 h). */
export function createMemoryIdempotencyStore<T>(
  ttlMs = DEFAULT_IDEMPOTENCY_TTL_MS,
  options: IdempotencyStoreOptions = {},
): IdempotencyStore<T> {
  const inProgressTtlMs = options.inProgressTtlMs ?? Number.POSITIVE_INFINITY;
  const entries = new Map<string, Entry<T>>();
  return {
    async begin(key, fingerprint, now) {
      const entry = entries.get(key);
      if (
        !entry ||
        entry.expiresAt <= now ||
        (!('result' in entry) && entry.reservedAt + inProgressTtlMs <= now)
      ) {
        entries.set(key, { fingerprint, expiresAt: now + ttlMs, reservedAt: now });
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
