import { StoreUnavailableError } from './errors.js';

interface Waiter<I, R> {
  item: I;
  resolve(answer: R): void;
  reject(err: unknown): void;
}

/**
 * Store calls of concurrent requests, sent as one statement (on PostgreSQL each call is a round
 * trip, and on the server a statement to bind, run and commit). A call asked while none of this
 * batcher's statements is out goes at once, alone, as the one-item statement it was (a sequential
 * request waits for nothing). One asked while another is out waits for the end of the event
 * loop's current turn (`setImmediate`, after the turn's I/O callbacks), and goes in one statement
 * with every call asked meanwhile.
 *
 * A call whose `apart` key an earlier call of the batch has is sent alone instead (e.g. two saves
 * of one record: an `UPDATE … FROM` joins each row once). When the shared statement fails with an
 * SQL error, each call is sent alone (one bad value fails alone); when the store is unreachable,
 * every call fails with it.
 *
 * Used by the identity store for look-ups (./lookup-batch.ts), known contacts' saves and new
 * contacts' claims (./sql-identity.ts).
 */
export class StatementBatch<I, R> {
  readonly #alone: (item: I) => Promise<R>;
  /** The shared statement for two or more items: each one's answer, in their order. */
  readonly #together: (items: readonly I[]) => Promise<R[]>;
  readonly #apart: ((item: I) => string) | null;
  #pending: Array<Waiter<I, R>> | null = null;
  /** Statements sent and not yet answered. */
  #out = 0;

  constructor(opts: {
    alone: (item: I) => Promise<R>;
    together: (items: readonly I[]) => Promise<R[]>;
    apart?: (item: I) => string;
  }) {
    this.#alone = opts.alone;
    this.#together = opts.together;
    this.#apart = opts.apart ?? null;
  }

  ask(item: I): Promise<R> {
    if (this.#out === 0 && this.#pending === null) {
      return this.#sent(this.#alone(item));
    }
    return new Promise<R>((resolve, reject) => {
      if (this.#pending === null) {
        this.#pending = [];
        setImmediate(() => this.#flush());
      }
      this.#pending.push({ item, resolve, reject });
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

  #sendAlone(w: Waiter<I, R>): void {
    this.#sent(this.#alone(w.item)).then(w.resolve, w.reject);
  }

  async #flush(): Promise<void> {
    const pending = this.#pending ?? [];
    this.#pending = null;
    let batch = pending;
    if (this.#apart) {
      const seen = new Set<string>();
      batch = [];
      for (const w of pending) {
        const key = this.#apart(w.item);
        if (seen.has(key)) {
          this.#sendAlone(w);
        } else {
          seen.add(key);
          batch.push(w);
        }
      }
    }
    if (batch.length === 1) {
      this.#sendAlone(batch[0]!);
      return;
    }
    let answers: R[];
    try {
      answers = await this.#sent(this.#together(batch.map((w) => w.item)));
    } catch (err) {
      if (err instanceof StoreUnavailableError) {
        for (const w of batch) {
          w.reject(err);
        }
      } else {
        for (const w of batch) {
          this.#sendAlone(w);
        }
      }
      return;
    }
    batch.forEach((w, i) => {
      w.resolve(answers[i]!);
    });
  }
}
