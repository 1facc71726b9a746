import { type BatchStore, createSqlBatchStore } from '../lifecycle/batches.js';
import { createSqlJobStore, type JobStore } from '../lifecycle/jobs.js';
import type { Database } from './db.js';
import type { IdempotencyStore } from './idempotency.js';
import type { IdentityStore } from './identity.js';
import type { OutboxStore } from './outbox.js';
import { createSqlIdempotencyStore, type SqlIdempotencyOptions } from './sql-idempotency.js';
import { createSqlIdentityStore } from './sql-identity.js';
import { createSqlOutboxStore } from './sql-outbox.js';

export { createSqlIdempotencyStore, type SqlIdempotencyOptions } from './sql-idempotency.js';
export { createSqlIdentityStore } from './sql-identity.js';
export { createSqlOutboxStore } from './sql-outbox.js';

export interface SqlStores<T = unknown> {
  db: Database;
  identity: IdentityStore;
  idempotency: IdempotencyStore<T>;
  outbox: OutboxStore;
  /** Background jobs (webhook events, async batches). */
  jobs: JobStore;
  /** Async batches and their items. */
  batches: BatchStore;
  /** Closes the database handle (the stores' own `close` leave it open). */
  close(): Promise<void>;
}

/** The three durable stores over one database handle. */
export function createSqlStores<T = unknown>(
  db: Database,
  idempotency: SqlIdempotencyOptions = {},
  /** PostgreSQL: `GATEWAY_REPLICA_POLL_MS` (src/store/due-gate.ts). */
  replicaPollMs?: number,
): SqlStores<T> {
  return {
    db,
    identity: createSqlIdentityStore(db),
    idempotency: createSqlIdempotencyStore<T>(db, idempotency),
    outbox: createSqlOutboxStore(db, replicaPollMs),
    jobs: createSqlJobStore(db, replicaPollMs),
    batches: createSqlBatchStore(db),
    close: () => db.close(),
  };
}
