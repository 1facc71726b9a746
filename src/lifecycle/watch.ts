import type { Logger } from 'pino';
import type { OutboxItem, OutboxStore } from '../store/outbox.js';

/** Changes are looked for this far behind the newest one seen (commits land out of order). */
const LOOKBACK_MS = 5_000;
/** Most changes one look reads. */
const PAGE = 5_000;

interface Subscriber {
  ids: ReadonlySet<string> | null;
  /** Changes from this time on (ISO). */
  since: string;
  seen: Set<string>;
  queue: OutboxItem[];
  wake: (() => void) | null;
}

const keyOf = (w: OutboxItem) => `${w.id}|${w.status}|${w.attempts}|${w.updatedAt}`;

/**
 * Feeds `writeUpdated` subscriptions: while anyone listens, it reads the write history's recent
 * changes every `pollMs` (a look at the shared store, so a write another replica delivered is
 * seen too) and hands each change once to every subscriber that asked for that write.
 */
export class WriteWatcher {
  readonly #outbox: OutboxStore;
  readonly #pollMs: number;
  readonly #logger: Logger;
  readonly #subs = new Set<Subscriber>();
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #high = new Date().toISOString();

  constructor(outbox: OutboxStore, pollMs: number, logger: Logger) {
    this.#outbox = outbox;
    this.#pollMs = pollMs;
    this.#logger = logger;
  }

  /** The changes of these writes (every write when null) from now on, until `signal` aborts. */
  async *subscribe(
    ids: readonly string[] | null,
    signal?: AbortSignal,
  ): AsyncGenerator<OutboxItem> {
    const sub: Subscriber = {
      ids: ids ? new Set(ids) : null,
      since: new Date().toISOString(),
      seen: new Set(),
      queue: [],
      wake: null,
    };
    const stop = () => sub.wake?.();
    signal?.addEventListener('abort', stop, { once: true });
    this.#subs.add(sub);
    this.#ensureTimer();
    try {
      // A write that ended before the subscription: its end is sent at once, not missed.
      for (const id of ids ?? []) {
        const w = await this.#outbox.get(id);
        if (w?.endedAt) {
          sub.seen.add(keyOf(w));
          sub.queue.push(w);
        }
      }
      while (!signal?.aborted) {
        const next = sub.queue.shift();
        if (next) {
          yield next;
          continue;
        }
        await new Promise<void>((resolve) => {
          sub.wake = resolve;
        });
        sub.wake = null;
      }
    } finally {
      signal?.removeEventListener('abort', stop);
      this.#subs.delete(sub);
      if (this.#subs.size === 0 && this.#timer) {
        clearInterval(this.#timer);
        this.#timer = null;
      }
    }
  }

  /** Looks now (this replica just changed a write). */
  kick(): void {
    if (this.#subs.size > 0) {
      void this.#look();
    }
  }

  stop(): Promise<void> {
    if (this.#timer) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
    for (const sub of this.#subs) {
      sub.wake?.();
    }
    return this.#running ?? Promise.resolve();
  }

  #ensureTimer() {
    if (!this.#timer) {
      this.#high = new Date(Date.now() - 1000).toISOString();
      this.#timer = setInterval(() => void this.#look(), this.#pollMs);
      this.#timer.unref();
    }
  }

  #look(): Promise<void> {
    if (this.#running) {
      return this.#running;
    }
    this.#running = this.#read()
      .catch((err: unknown) => this.#logger.warn({ err }, 'write watch failed'))
      .finally(() => {
        this.#running = null;
      });
    return this.#running;
  }

  async #read() {
    const from = new Date(Date.parse(this.#high) - LOOKBACK_MS).toISOString();
    const changes = await this.#outbox.changedSince(from, PAGE);
    for (const w of changes) {
      if (w.updatedAt > this.#high) {
        this.#high = w.updatedAt;
      }
      const key = keyOf(w);
      for (const sub of this.#subs) {
        if (w.updatedAt < sub.since || (sub.ids && !sub.ids.has(w.id)) || sub.seen.has(key)) {
          continue;
        }
        sub.seen.add(key);
        sub.queue.push(w);
        sub.wake?.();
      }
    }
    // What fell out of the look-back window cannot come again: forget it.
    const floor = new Date(Date.parse(this.#high) - 2 * LOOKBACK_MS).toISOString();
    for (const sub of this.#subs) {
      if (sub.seen.size > 10_000) {
        for (const key of sub.seen) {
          if ((key.split('|')[3] ?? '') < floor) {
            sub.seen.delete(key);
          }
        }
      }
    }
  }
}
