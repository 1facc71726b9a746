import type { Database } from './db.js';

/**
 * PostgreSQL: how long a poll's reading is trusted by default (`GATEWAY_REPLICA_POLL_MS`). Other
 * replicas write the same tables, and no store call of this process sees their writes: a row
 * another replica adds is found by this one's next poll after at most this long (that replica,
 * which is awake, takes it itself at its time).
 */
export const SHARED_HORIZON_MS = 10_000;

/**
 * When a poll of a queue table (the outbox, the jobs) can answer "nothing due" without a
 * statement. After a poll the gate keeps, per partition (a job type; the outbox has one), the
 * earliest instant any open row can be taken: its next attempt, or the end of its lease when it is
 * leased. A poll before that instant answers nothing and sends nothing. Any other call of this
 * process that may write the table forgets what the gate knows, before it starts and again when it
 * ends, and a poll that overlapped such a call keeps nothing from its own reading (an epoch), so a
 * row added meanwhile is found by the next poll.
 *
 * Embedded (exact): this process is the only one that opens the file, and every write of these
 * tables goes through the stores on its connection, so what the gate knows holds until one of them
 * writes. PostgreSQL (shared): other replicas write the same tables, so a reading is trusted for
 * {@link SHARED_HORIZON_MS} at most, and only by the pollers (`poll`): a direct call (a test, an
 * operator's delivery) always asks the database.
 *
 * An idle gateway polled the jobs every 250 ms (two job types) and the outbox every second, one
 * statement each; on PostgreSQL every replica did, for ever.
 */
export class DueGate {
  static #byConnection = new WeakMap<object, Map<string, DueGate>>();

  /**
   * The gate of `table` on this handle's connection (embedded: exact), or on this handle
   * (PostgreSQL: shared, every store opened on the handle writes through it).
   */
  static of(
    db: Pick<Database, 'embedded'>,
    table: string,
    /** PostgreSQL: how long a reading is trusted (`GATEWAY_REPLICA_POLL_MS`; the first store's). */
    horizonMs = SHARED_HORIZON_MS,
  ): DueGate {
    const connection = db.embedded?.connection ?? db;
    let gates = DueGate.#byConnection.get(connection);
    if (!gates) {
      gates = new Map();
      DueGate.#byConnection.set(connection, gates);
    }
    let gate = gates.get(table);
    if (!gate) {
      gate = new DueGate(db.embedded ? null : horizonMs);
      gates.set(table, gate);
    }
    return gate;
  }

  /** null: exact (embedded); else how long a reading is trusted (ms, PostgreSQL). */
  readonly horizonMs: number | null;

  constructor(horizonMs: number | null = null) {
    this.horizonMs = horizonMs;
  }

  /** True when every write of the table goes through this process's stores (embedded). */
  get exact(): boolean {
    return this.horizonMs === null;
  }

  /** Per partition: nothing can be taken before this instant (ms; Infinity: nothing open). */
  readonly #next = new Map<string, number>();
  /** Shared: per partition, when its reading stops being trusted (ms). */
  readonly #trustedUntil = new Map<string, number>();
  /** Shared: a sleeping poller's wake-up at the horizon. */
  #horizonTimer: NodeJS.Timeout | null = null;
  #epoch = 0;
  /** Called once at the next {@link forget} (a poller that stopped while nothing was open). */
  readonly #wakers = new Set<() => void>();

  /** Bumped by every {@link forget}: a poll settles only when it did not change meanwhile. */
  get epoch(): number {
    return this.#epoch;
  }

  /** True when a poll of `part` at `now` (ms) would find nothing: skip its statement. */
  idle(part: string, now: number): boolean {
    const next = this.#next.get(part);
    return (
      next !== undefined &&
      now < next &&
      (this.horizonMs === null || now < (this.#trustedUntil.get(part) ?? 0))
    );
  }

  /**
   * After a poll at `now` (ms) that started at `epoch`: nothing of `part` can be taken before `at`
   * (ms); shared, trusted until `now` + the horizon.
   */
  settle(part: string, epoch: number, at: number, now: number): void {
    if (epoch === this.#epoch) {
      this.#next.set(part, at);
      if (this.horizonMs !== null) {
        this.#trustedUntil.set(part, now + this.horizonMs);
      }
    }
  }

  /**
   * True when no row of any of `parts` is open (each was polled since the last change and found
   * none): a poller may stop, and `wake` is called once at the next change. False otherwise.
   */
  sleep(parts: readonly string[], wake: () => void): boolean {
    if (!parts.every((part) => this.#next.get(part) === Number.POSITIVE_INFINITY)) {
      return false;
    }
    this.#wakers.add(wake);
    if (this.horizonMs !== null && !this.#horizonTimer) {
      // Shared: what another replica added meanwhile is looked for at the horizon.
      this.#horizonTimer = setTimeout(() => this.forget(), this.horizonMs);
      this.#horizonTimer.unref();
    }
    return true;
  }

  /** The table may have changed: every partition's next poll asks the database. */
  forget(): void {
    this.#epoch += 1;
    this.#next.clear();
    this.#trustedUntil.clear();
    if (this.#horizonTimer) {
      clearTimeout(this.#horizonTimer);
      this.#horizonTimer = null;
    }
    if (this.#wakers.size > 0) {
      const wakers = [...this.#wakers];
      this.#wakers.clear();
      for (const wake of wakers) {
        wake();
      }
    }
  }
}

/**
 * `store` with every method but `claimDue`, `sleep` and the given ones (reads, and writes that
 * only delete ended rows) wrapped to forget the gate before and after it runs (a method added
 * later forgets too, which only costs a statement).
 */
export function gatedStore<S extends object>(
  store: S,
  gate: DueGate,
  keeps: ReadonlyArray<keyof S>,
): S {
  const skip = new Set<PropertyKey>(['claimDue', 'sleep', ...keeps]);
  const out = { ...store } as Record<PropertyKey, unknown>;
  for (const [name, value] of Object.entries(store)) {
    if (typeof value !== 'function' || skip.has(name)) {
      continue;
    }
    const fn = value as (...args: unknown[]) => unknown;
    out[name] = async (...args: unknown[]) => {
      gate.forget();
      try {
        return await fn.apply(store, args);
      } finally {
        gate.forget();
      }
    };
  }
  return out as S;
}

/**
 * A store's `claimDue` through its gate: nothing and no statement while `part` has nothing due at
 * `now`; otherwise `claim`, then what `nextDue` reads is kept unless the table changed meanwhile.
 * With `limit` 0, and on PostgreSQL unless a poller asks (`poll`): `claim` alone.
 */
export async function gatedClaim<R>(
  gate: DueGate,
  part: string,
  lease: { now: string; limit: number; poll?: boolean | undefined },
  claim: () => Promise<R[]>,
  nextDue: () => Promise<number>,
): Promise<R[]> {
  // A shared gate serves the pollers only: a direct call asks the database, and keeps nothing.
  if (lease.limit <= 0 || (!gate.exact && !lease.poll)) {
    return claim();
  }
  const now = Date.parse(lease.now);
  if (gate.idle(part, now)) {
    return [];
  }
  const epoch = gate.epoch;
  const rows = await claim();
  gate.settle(part, epoch, await nextDue(), now);
  return rows;
}

/**
 * The earliest instant (ms) any open row of `table` can be taken: `min` over the open rows of
 * their next attempt, or of their lease's end when that is later. Infinity when none is open.
 * `open` names its parameters from `$1` (`more`).
 */
export async function nextDueAt(
  db: Pick<Database, 'query'>,
  table: string,
  open: string,
  more: unknown[] = [],
): Promise<number> {
  const [row] = await db.query<{ at: unknown }>(
    `SELECT min(CASE WHEN leased_until IS NOT NULL AND leased_until > next_attempt_at
                     THEN leased_until ELSE next_attempt_at END) AS at
       FROM ${table} WHERE ${open}`,
    more,
  );
  if (row?.at === null || row?.at === undefined) {
    return Number.POSITIVE_INFINITY;
  }
  const at = row.at instanceof Date ? row.at.getTime() : Date.parse(String(row.at));
  // Unreadable: ask again at the next poll.
  return Number.isNaN(at) ? Number.NEGATIVE_INFINITY : at;
}
