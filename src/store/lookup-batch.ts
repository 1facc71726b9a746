import { StoreUnavailableError } from './errors.js';

/** A row answered for one index entry (kind, value). */
interface KeyedRow {
  kind: string;
  value: string;
}

interface Waiter<R> {
  kind: string;
  value: string;
  resolve(rows: R[]): void;
  reject(err: unknown): void;
}

/**
 * One-key look-ups of concurrent requests, sent as one statement: on PostgreSQL each look-up is a
 * round trip, and on the server a statement to bind and run. A look-up asked while none is out
 * goes at once, alone, as the one-key statement it was (a sequential request waits for nothing).
 * One asked while another is out waits for the end of the event loop's current turn
 * (`setImmediate`), and goes in one statement with every other look-up asked meanwhile.
 *
 * A statement reads one snapshot, so each look-up of a batch answers what it would have answered
 * alone at that moment. When the shared statement fails with an SQL error, each look-up is sent
 * alone (one bad value fails alone); when the store is unreachable, every look-up fails with it.
 * Two look-ups of the same entry each get their own copy of its row.
 */
export class LookupBatch<R extends KeyedRow> {
  /** The look-up of index entries: one statement for every pair given (its one-key form for one). */
  readonly #lookup: (pairs: ReadonlyArray<readonly [string, string]>) => Promise<R[]>;
  #pending: Array<Waiter<R>> | null = null;
  /** Statements sent and not yet answered. */
  #out = 0;

  constructor(lookup: (pairs: ReadonlyArray<readonly [string, string]>) => Promise<R[]>) {
    this.#lookup = lookup;
  }

  /** The rows of entry (kind, value): at most one, as the one-key statement answers. */
  get(kind: string, value: string): Promise<R[]> {
    if (this.#out === 0 && this.#pending === null) {
      return this.#sent(this.#lookup([[kind, value]]));
    }
    return new Promise<R[]>((resolve, reject) => {
      if (this.#pending === null) {
        this.#pending = [];
        setImmediate(() => this.#flush());
      }
      this.#pending.push({ kind, value, resolve, reject });
    });
  }

  /** `statement`, counted as out until it is answered. */
  #sent<T>(statement: Promise<T>): Promise<T> {
    this.#out += 1;
    const done = () => {
      this.#out -= 1;
    };
    statement.then(done, done);
    return statement;
  }

  #alone(w: Waiter<R>): void {
    this.#sent(this.#lookup([[w.kind, w.value]])).then(w.resolve, w.reject);
  }

  async #flush(): Promise<void> {
    const batch = this.#pending ?? [];
    this.#pending = null;
    if (batch.length === 1) {
      this.#alone(batch[0]!);
      return;
    }
    const pairs = new Map<string, readonly [string, string]>();
    for (const w of batch) {
      pairs.set(`${w.kind}\u0000${w.value}`, [w.kind, w.value]);
    }
    let rows: R[];
    try {
      rows = await this.#sent(this.#lookup([...pairs.values()]));
    } catch (err) {
      if (err instanceof StoreUnavailableError) {
        for (const w of batch) {
          w.reject(err);
        }
      } else {
        for (const w of batch) {
          this.#alone(w);
        }
      }
      return;
    }
    const byKey = new Map<string, R>();
    for (const row of rows) {
      byKey.set(`${row.kind}\u0000${row.value}`, row);
    }
    const handed = new Set<string>();
    for (const w of batch) {
      const key = `${w.kind}\u0000${w.value}`;
      const row = byKey.get(key);
      if (row === undefined) {
        w.resolve([]);
      } else if (handed.has(key)) {
        w.resolve([structuredClone(row)]);
      } else {
        handed.add(key);
        w.resolve([row]);
      }
    }
  }
}
