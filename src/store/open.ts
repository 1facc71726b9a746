import type { StorageOptions } from '../config.js';
import type { BatchStore } from '../lifecycle/batches.js';
import type { JobStore } from '../lifecycle/jobs.js';
import { memoryRateLimiters, postgresRateLimiters, type RateLimiters } from '../rate-limiters.js';
import { openDatabase } from './db.js';
import type { IdempotencyStore } from './idempotency.js';
import type { IdentityStore } from './identity.js';
import type { OutboxStore } from './outbox.js';
import { createSqlStores } from './sql-stores.js';

/** The gateway's durable state: identity map, idempotency records, outbox, over one database. */
export interface GatewayStores {
  engine: 'embedded' | 'postgres';
  /** Where it lives, without credentials (for the start log). */
  location: string;
  identity: IdentityStore;
  idempotency: IdempotencyStore;
  outbox: OutboxStore;
  /** Background jobs (webhook events, async batches). */
  jobs: JobStore;
  /** Async batches and their items. */
  batches: BatchStore;
  /** Where rate limits count: in PostgreSQL (shared by replicas) or in memory (embedded). */
  rateLimiters?: RateLimiters;
  /** Whether the database answers within `timeoutMs`: `null` when it did, else why not (readiness). */
  ping(timeoutMs: number): Promise<string | null>;
  close(): Promise<void>;
}

/**
 * Opens the durable stores: PostgreSQL when `DATABASE_URL` is set (several replicas), else the
 * embedded engine under `GATEWAY_DATA_DIR`. Migrations run on open. `schema` isolates several
 * gateways sharing one database (tests).
 */
export async function openStores(
  storage: StorageOptions,
  opts: { schema?: string } = {},
): Promise<GatewayStores> {
  const databaseUrl = storage.databaseUrl?.reveal() ?? null;
  const db = await openDatabase({
    databaseUrl,
    dataDir: storage.dataDir,
    connectTimeoutMs: storage.connectTimeoutMs,
    statementTimeoutMs: storage.statementTimeoutMs,
    poolSize: storage.poolSize,
    ...(opts.schema ? { schema: opts.schema } : {}),
  });
  const stores = createSqlStores(
    db,
    {
      ttlMs: storage.idempotencyTtlMs,
      inProgressTtlMs: storage.idempotencyInProgressTtlMs,
    },
    storage.replicaPollMs,
  );
  return {
    engine: db.engine,
    location: databaseUrl ? safeUrl(databaseUrl) : storage.dataDir,
    identity: stores.identity,
    idempotency: stores.idempotency,
    outbox: stores.outbox,
    jobs: stores.jobs,
    batches: stores.batches,
    rateLimiters: db.engine === 'postgres' ? postgresRateLimiters(db) : memoryRateLimiters,
    ping: (timeoutMs) => db.ping(timeoutMs),
    async close() {
      await stores.identity.close();
      await stores.idempotency.close();
      await stores.outbox.close();
      await stores.close();
    },
  };
}

/** `postgres://user@host:port/db` without the password. */
function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    return u.toString();
  } catch {
    return 'postgres://[unparsable url]';
  }
}
