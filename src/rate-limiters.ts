import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterPostgres,
} from 'rate-limiter-flexible';
import type { Database } from './store/db.js';

/** The table the shared limits live in (in the store's schema). */
export const RATE_LIMIT_TABLE = 'gateway_rate_limits';

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
  create(name: string, points: number, durationSeconds: number): RateLimiterAbstract;
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
      return new RateLimiterPostgres({
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
    },
    ready: () => ensureTable().catch(() => undefined),
  };
}
