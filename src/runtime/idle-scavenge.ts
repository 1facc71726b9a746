import { getHeapSpaceStatistics } from 'node:v8';
import { type GcFunction, gcFunction } from './gc.js';

export interface IdleScavengerOptions {
  /**
   * Scavenge when the young generation's active half is at least this full (0–1). V8 posts its own
   * scavenge task at 80 %; a single upsert allocates ~100 KB of a semi-space that grows to 16 MB.
   * @default 0.7
   */
  fill?: number;
  /** How long a lone call must have been out before the process counts as idle (ms). @default 1 */
  afterMs?: number;
  /** Where the collection comes from (tests); default V8's `gc` ({@link gcFunction}). */
  gc?: () => GcFunction | null;
}

/**
 * Young-generation collections while the process waits for a lone provider call.
 *
 * A sequential client (one request at a time, the provider answering in milliseconds) leaves the
 * process idle while the provider call is out. V8 collects the young generation when it is nearly
 * full, at whatever moment that is: inside a request's work before or after its call, which it
 * then delays by the scavenge (1–3 ms, up to ~10 ms with cold caches; about one request in 40
 * at 20 ms upstream in `bench/segments.ts`). When exactly one provider call is out and has been for
 * `afterMs`, nothing else is running, so a scavenge then (once the young generation is `fill`
 * full) costs no request anything, and the one V8 would have run later does not happen.
 *
 * Under load (more than one call out) it never runs: there is no idle time to use, and an early
 * scavenge costs about what a late one does (its work is the surviving objects, not the garbage),
 * so scavenging sooner would only scavenge more often. A call that began while another was out is
 * never a lone call.
 */
export class IdleScavenger {
  readonly #fill: number;
  readonly #afterMs: number;
  readonly #gc: () => GcFunction | null;
  #out = 0;
  #seq = 0;
  /** The call that is out alone (0: none). */
  #lone = 0;
  #waited = 0;
  #scavenges = 0;

  constructor(options: IdleScavengerOptions = {}) {
    this.#fill = options.fill ?? 0.7;
    this.#afterMs = options.afterMs ?? 1;
    this.#gc = options.gc ?? gcFunction;
  }

  /** A provider call goes out; hand the answer to {@link ended} when it ends, however it ends. */
  began(): number {
    this.#out += 1;
    this.#seq += 1;
    const id = this.#seq;
    if (this.#out === 1) {
      this.#lone = id;
      setTimeout(this.#check, this.#afterMs, id).unref();
    } else {
      this.#lone = 0;
    }
    return id;
  }

  ended(id: number): void {
    this.#out -= 1;
    if (this.#lone === id) {
      this.#lone = 0;
    }
  }

  /** Lone calls still out after `afterMs` (the young generation looked at), and scavenges run. */
  stats(): { waited: number; scavenges: number } {
    return { waited: this.#waited, scavenges: this.#scavenges };
  }

  /** The timer's callback (one function per scavenger, not a closure per call). */
  readonly #check = (id: number): void => {
    if (this.#lone !== id) {
      return;
    }
    this.#waited += 1;
    const young = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    if (!young) {
      return;
    }
    const capacity = young.space_used_size + young.space_available_size;
    if (capacity > 0 && young.space_used_size / capacity >= this.#fill) {
      const gc = this.#gc();
      if (gc) {
        gc({ type: 'minor' });
        this.#scavenges += 1;
      }
    }
  };
}

/** The process's own: every provider call of `createHttpClient` reports to it. */
export const idleScavenger = new IdleScavenger();
