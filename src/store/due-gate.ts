import type { Database } from './db.js';

/**
 * When a poll of a queue table (the outbox, the jobs) can answer "nothing due" without a
 * statement. On the embedded engine this process is the only one that opens the file, and every
 * write of these tables goes through the stores on its connection, so the stores can know when
 * the next row becomes due. After a poll the gate keeps, per partition (a job type; the outbox has
 * one), the earliest instant any open row can be taken: its next attempt, or the end of its lease
 * when it is leased. A poll before that instant answers nothing and sends nothing. Any other call
 * that may write the table forgets what the gate knows, before it starts and again when it ends,
 * and a poll that overlapped such a call keeps nothing from its own reading (an epoch), so a row
 * added meanwhile is found by the next poll.
 *
 * An idle gateway polled the jobs every 250 ms (two job types) and the outbox every second, one
 * statement each. PostgreSQL has no gate: other replicas write the same tables.
 */
export class DueGate {
  static #byConnection = new WeakMap<object, Map<string, DueGate>>();

  /** The gate of `table` on this handle's connection; null on PostgreSQL. */
  static of(db: Pick<Database, 'embedded'>, table: string): DueGate | null {
    const connection = db.embedded?.connection;
    if (!connection) {
      return null;
    }
    let gates = DueGate.#byConnection.get(connection);
    if (!gates) {
      gates = new Map();
      DueGate.#byConnection.set(connection, gates);
    }
    let gate = gates.get(table);
    if (!gate) {
      gate = new DueGate();
      gates.set(table, gate);
    }
    return gate;
  }

  /** Per partition: nothing can be taken before this instant (ms; Infinity: nothing open). */
  readonly #next = new Map<string, number>();
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
    return next !== undefined && now < next;
  }

  /** After a poll that started at `epoch`: nothing of `part` can be taken before `at` (ms). */
  settle(part: string, epoch: number, at: number): void {
    if (epoch === this.#epoch) {
      this.#next.set(part, at);
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
    return true;
  }

  /** The table may have changed: every partition's next poll asks the database. */
  forget(): void {
    this.#epoch += 1;
    this.#next.clear();
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
  gate: DueGate | null,
  keeps: ReadonlyArray<keyof S>,
): S {
  if (!gate) {
    return store;
  }
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
 * Without a gate (PostgreSQL, or `limit` 0): `claim` alone.
 */
export async function gatedClaim<R>(
  gate: DueGate | null,
  part: string,
  lease: { now: string; limit: number },
  claim: () => Promise<R[]>,
  nextDue: () => Promise<number>,
): Promise<R[]> {
  if (!gate || lease.limit <= 0) {
    return claim();
  }
  if (gate.idle(part, Date.parse(lease.now))) {
    return [];
  }
  const epoch = gate.epoch;
  const rows = await claim();
  gate.settle(part, epoch, await nextDue());
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
