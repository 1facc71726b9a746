import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import type { Database } from './store/db.js';

/** The table the shared limits live in (in the store's schema). */
export const RATE_LIMIT_TABLE = 'gateway_rate_limits';

/**
 * What the gateway asks of a limiter (rate-limiter-flexible's limiters have it; so does
 * {@link LeasedLimiter}). `RateLimiterQueue` (the provider rate) uses nothing else of it either
 * (rate-limiter-flexible 11.4, lib/RateLimiterQueue.js: `consume`, `get` and `points`).
 */
export interface Limiter {
  readonly points: number;
  /** Resolves when admitted; rejects with a `RateLimiterRes` when the window is spent. */
  consume(key: string | number, points?: number): Promise<RateLimiterRes>;
  get(key: string | number): Promise<RateLimiterRes | null>;
}

/**
 * Where the gateway's rate limits count: per API key (requests per minute) and per provider
 * (attempts per second). With PostgreSQL (`DATABASE_URL`) every replica counts in one table, so N
 * replicas together allow one key's limit and one provider's rate, not N times them; otherwise
 * each process counts in memory.
 */
export interface RateLimiters {
  readonly shared: boolean;
  /**
   * A fixed window of `points` per `durationSeconds`. `name` separates the counters of different
   * limits (`key`, `provider:<ID>`): keys consumed on it are counted under `name:key`.
   */
  create(name: string, points: number, durationSeconds: number): Limiter;
  /** Resolves once the shared table exists (at once in memory); never rejects. */
  ready(): Promise<void>;
}

/** Counters of this process only. */
export const memoryRateLimiters: RateLimiters = {
  shared: false,
  create: (name, points, duration) => new RateLimiterMemory({ keyPrefix: name, points, duration }),
  ready: () => Promise.resolve(),
};

/**
 * Counters in PostgreSQL, through the store's own connection pool (its connect and statement
 * timeouts apply). The table is created on first use under an advisory lock, so replicas
 * starting together do not race. When the database cannot be reached, each limiter falls back to
 * an in-memory one of the same size (rate-limiter-flexible's insurance limiter): the limits then
 * hold per replica instead of failing every request.
 */
export function postgresRateLimiters(db: Database): RateLimiters {
  const table = db.table(RATE_LIMIT_TABLE);
  let created: Promise<void> | null = null;
  const ensureTable = (): Promise<void> => {
    created ??= db
      .transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`contact-gateway:${table}`]);
        await tx.query(
          `CREATE TABLE IF NOT EXISTS ${table} (
             key varchar(255) PRIMARY KEY,
             points integer NOT NULL DEFAULT 0,
             expire bigint
           )`,
        );
      })
      .catch((err: unknown) => {
        // Try again with the next statement; this one fails (and its limiter falls back).
        created = null;
        throw err;
      });
    return created;
  };
  // rate-limiter-flexible's "pool" client: anything with `query({text, values})` → {rows, rowCount}.
  // Every statement waits for the table; prepared-statement names are dropped (the pool is shared).
  const client = {
    async query(q: { text: string; values?: unknown[] }) {
      await ensureTable();
      const rows = await db.query(q.text, q.values);
      return { rows, rowCount: rows.length };
    },
  };
  const [schemaName, tableName] = [db.schema, RATE_LIMIT_TABLE];
  return {
    shared: true,
    create(name, points, duration) {
      const shared = new RateLimiterPostgres({
        storeClient: client,
        storeType: 'pool',
        schemaName,
        tableName,
        tableCreated: true,
        clearExpiredByTimeout: false,
        keyPrefix: name,
        points,
        duration,
        insuranceLimiter: new RateLimiterMemory({ keyPrefix: name, points, duration }),
      });
      return new LeasedLimiter(shared, leaseBlock(points));
    },
    ready: () => ensureTable().catch(() => undefined),
  };
}

/** The largest block a process takes from a shared counter at once ({@link leaseBlock}). */
export const LEASE_BLOCK_MAX = 50;

/**
 * How many points a process takes from a shared window at once: 1 % of the window's points, at
 * least 1 and at most {@link LEASE_BLOCK_MAX}. Below 200 points a window (the providers' rates,
 * a key limit under 200 a minute) that is 1: every point is its own statement, exact as before.
 * The key limit's default, 600 a minute, takes 6 at a time.
 */
export function leaseBlock(points: number): number {
  return Math.min(LEASE_BLOCK_MAX, Math.max(1, Math.floor(points / 100)));
}

/** Points a process holds of one key's current window. */
interface Lease {
  /** When the window ends (this process's clock): the points left go with it. */
  until: number;
  left: number;
  /** The shared counter has reached the limit: nothing more this window, for any process. */
  full: boolean;
}

interface Asking {
  points: number;
  resolve(res: RateLimiterRes): void;
  reject(err: unknown): void;
}

/** Keys whose leases are swept for expired ones once the map holds this many. */
const LEASES_SWEEP_AT = 1_000;

/**
 * A shared fixed-window limiter (in PostgreSQL) taken from in blocks: a consume that finds no
 * point held for its key asks the shared counter for `block` points at once (or as many as the
 * consumes waiting for that key, if more), and the next consumes of that window are answered from
 * what this process holds, without a statement. So one request in `block` pays a round trip for
 * the limit instead of every one.
 *
 * Exact in the direction that matters: every point admitted was counted in the shared table
 * first, so N replicas together never admit more than the limit in a window. What a replica
 * holds and does not use is lost when the window ends: N replicas together admit at least
 * `points − N × (block − 1)`. Once the shared counter reaches the limit, this process refuses the
 * key's consumes itself until the window ends (a fixed window's count only grows), with the
 * window's remaining time. At most one request for points per key is out at a time; consumes
 * asked meanwhile wait for it, and what it does not cover is asked for next, in one request.
 * A failure of that request (not a refusal) fails the consumes waiting for it; the next consume
 * asks again.
 */
export class LeasedLimiter implements Limiter {
  readonly #shared: Limiter;
  readonly #block: number;
  readonly #now: () => number;
  readonly #leases = new Map<string, Lease>();
  /** Consumes waiting for the request for points out for their key (a key is here while one is out). */
  readonly #asking = new Map<string, Asking[]>();

  constructor(shared: Limiter, block: number, now: () => number = Date.now) {
    this.#shared = shared;
    this.#block = Math.max(1, Math.floor(block));
    this.#now = now;
  }

  get points(): number {
    return this.#shared.points;
  }

  /** The shared counter as stored (what other processes see; the points this one holds included). */
  get(key: string | number): Promise<RateLimiterRes | null> {
    return this.#shared.get(key);
  }

  consume(key: string | number, points = 1): Promise<RateLimiterRes> {
    const k = String(key);
    const lease = this.#leases.get(k);
    const now = this.#now();
    if (lease !== undefined && now < lease.until && !this.#asking.has(k)) {
      if (lease.left >= points) {
        lease.left -= points;
        return Promise.resolve(this.#answer(lease, now));
      }
      if (lease.full) {
        return Promise.reject(this.#answer(lease, now));
      }
    }
    return new Promise<RateLimiterRes>((resolve, reject) => {
      const waiting = this.#asking.get(k);
      if (waiting) {
        waiting.push({ points, resolve, reject });
        return;
      }
      this.#asking.set(k, [{ points, resolve, reject }]);
      this.#ask(k);
    });
  }

  /** Asks the shared counter for the points the consumes waiting for `key` need (at least a block). */
  #ask(key: string): void {
    const waiting = this.#asking.get(key)!;
    let wanted = 0;
    for (const w of waiting) {
      wanted += w.points;
    }
    const asked = Math.max(this.#block, wanted);
    this.#shared.consume(key, asked).then(
      (res) => this.#granted(key, asked, res, false),
      (err: unknown) => {
        if (err instanceof RateLimiterRes) {
          this.#granted(key, asked, err, true);
          return;
        }
        const failed = this.#asking.get(key) ?? [];
        this.#asking.delete(key);
        for (const w of failed) {
          w.reject(err);
        }
      },
    );
  }

  /**
   * The shared counter answered a request for `asked` points: `res.consumedPoints` is its count
   * with them added. Refused (`over`), the points under the limit are still this process's: the
   * count before them was `consumedPoints − asked`.
   */
  #granted(key: string, asked: number, res: RateLimiterRes, over: boolean): void {
    const now = this.#now();
    const granted = over
      ? Math.max(0, Math.min(asked, this.points - (res.consumedPoints - asked)))
      : asked;
    const lease: Lease = { until: now + Math.max(0, res.msBeforeNext), left: granted, full: over };
    if (this.#leases.size >= LEASES_SWEEP_AT && !this.#leases.has(key)) {
      for (const [k, l] of this.#leases) {
        if (l.until <= now) {
          this.#leases.delete(k);
        }
      }
    }
    this.#leases.set(key, lease);
    const waiting = this.#asking.get(key) ?? [];
    const rest: Asking[] = [];
    for (const w of waiting) {
      if (lease.left >= w.points) {
        lease.left -= w.points;
        w.resolve(this.#answer(lease, now));
      } else if (over) {
        w.reject(this.#answer(lease, now));
      } else {
        rest.push(w);
      }
    }
    if (rest.length > 0) {
      // Consumes that arrived after the request went out, more than it covered: one more.
      this.#asking.set(key, rest);
      this.#ask(key);
    } else {
      this.#asking.delete(key);
    }
  }

  /**
   * What a consume answers: as remaining points, those this process still holds (others may hold
   * more); the window's remaining time. The shared count is not known here: `consumedPoints` is
   * the least it can be. Callers read `msBeforeNext` (`Retry-After`, the provider queue's wait).
   */
  #answer(lease: Lease, now: number): RateLimiterRes {
    return new RateLimiterRes(
      lease.left,
      Math.max(0, lease.until - now),
      this.points - lease.left,
      false,
    );
  }
}
