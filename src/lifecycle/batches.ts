import { randomUUID } from 'node:crypto';
import type { RequestScope } from '../contacts/loaders.js';
import type {
  BatchPayload,
  ContactsService,
  WriteOptions,
  WritePayload,
} from '../contacts/service.js';
import {
  type JsonLimits,
  type RawContactInput,
  validateContactInput,
} from '../contacts/validation.js';
import type { Database } from '../store/db.js';
import type { IdentityRecord, IdentityStore } from '../store/identity.js';
import { iso, json, unnest } from '../store/sql.js';
import type { LifecycleConfig } from './config.js';
import type { JobHandler, JobStore } from './jobs.js';
import type { WebhookEvent } from './webhooks.js';

/** What a batch runner needs of the lifecycle (`Lifecycle`, which holds the runner, has it). */
export interface BatchHost {
  readonly config: LifecycleConfig;
  readonly jobs: JobStore;
  handle(handler: JobHandler): void;
  kick(): void;
  emit(event: WebhookEvent): Promise<void>;
}

export const BATCH_JOB = 'batch';

export type BatchStatus = 'RUNNING' | 'COMPLETED';

export interface BatchInfo {
  id: string;
  status: BatchStatus;
  total: number;
  createdAt: string;
  completedAt: string | null;
}

export interface BatchCounts {
  processed: number;
  succeeded: number;
  failed: number;
}

export interface BatchItemRow {
  index: number;
  contactId: string | null;
  /** The item's answer once written (as a synchronous batch would give it), else null. */
  result: WritePayload | null;
}

interface NewItem {
  input: RawContactInput | null;
  contactId: string | null;
  result: WritePayload | null;
  succeeded: boolean | null;
}

/** Async batches and their items, durable (a restart resumes a RUNNING batch). */
export interface BatchStore {
  create(id: string, options: WriteOptions, items: readonly NewItem[], now: string): Promise<void>;
  get(id: string): Promise<(BatchInfo & { options: WriteOptions }) | null>;
  counts(id: string): Promise<BatchCounts>;
  /** Items not written yet, in input order. */
  pending(id: string, limit: number): Promise<Array<{ index: number; input: RawContactInput }>>;
  saveResults(
    id: string,
    results: ReadonlyArray<{ index: number; result: WritePayload; succeeded: boolean }>,
  ): Promise<void>;
  complete(id: string, now: string): Promise<void>;
  items(id: string, after: number, first: number): Promise<BatchItemRow[]>;
}

const succeededOf = (p: WritePayload) =>
  p.errors.length === 0 &&
  p.outcomes.length > 0 &&
  p.outcomes.every(
    (o) => o.status === 'CREATED' || o.status === 'UPDATED' || o.status === 'DRY_RUN',
  );

export function createMemoryBatchStore(): BatchStore {
  const batches = new Map<
    string,
    BatchInfo & { options: WriteOptions; items: Array<NewItem & { index: number }> }
  >();
  return {
    async create(id, options, items, now) {
      batches.set(id, {
        id,
        status: 'RUNNING',
        total: items.length,
        createdAt: iso(now),
        completedAt: null,
        options: structuredClone(options),
        items: items.map((item, index) => ({ ...structuredClone(item), index })),
      });
    },
    async get(id) {
      const b = batches.get(id);
      return b
        ? {
            id: b.id,
            status: b.status,
            total: b.total,
            createdAt: b.createdAt,
            completedAt: b.completedAt,
            options: b.options,
          }
        : null;
    },
    async counts(id) {
      const items = batches.get(id)?.items ?? [];
      const done = items.filter((i) => i.result !== null);
      const succeeded = done.filter((i) => i.succeeded).length;
      return { processed: done.length, succeeded, failed: done.length - succeeded };
    },
    async pending(id, limit) {
      return (batches.get(id)?.items ?? [])
        .filter((i) => i.result === null)
        .slice(0, limit)
        .map((i) => ({ index: i.index, input: i.input! }));
    },
    async saveResults(id, results) {
      const items = batches.get(id)?.items ?? [];
      for (const r of results) {
        const item = items[r.index];
        if (item) {
          item.result = structuredClone(r.result);
          item.succeeded = r.succeeded;
        }
      }
    },
    async complete(id, now) {
      const b = batches.get(id);
      if (b) {
        b.status = 'COMPLETED';
        b.completedAt = iso(now);
      }
    },
    async items(id, after, first) {
      return (batches.get(id)?.items ?? [])
        .filter((i) => i.index > after)
        .slice(0, first)
        .map((i) => ({ index: i.index, contactId: i.contactId, result: i.result }));
    },
  };
}

export function createSqlBatchStore(db: Database): BatchStore {
  const b = db.table('batches');
  const it = db.table('batch_items');
  return {
    async create(id, options, items, now) {
      await db.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO ${b} (id, status, options, total, created_at)
           VALUES ($1, 'RUNNING', $2::jsonb, $3, $4::timestamptz)`,
          [id, json(options), items.length, now],
        );
        for (let c = 0; c < items.length; c += 1000) {
          const part = items.slice(c, c + 1000);
          await tx.query(
            `INSERT INTO ${it} (batch_id, idx, input, contact_id, result, succeeded)
             SELECT $1, idx, input::jsonb, contact_id, result::jsonb, succeeded
               FROM ${unnest(db, 'u', {
                 idx: '$2::int[]',
                 input: '$3::text[]',
                 contact_id: '$4::text[]',
                 result: '$5::text[]',
                 succeeded: '$6::boolean[]',
               })}`,
            [
              id,
              part.map((_, i) => c + i),
              part.map((p) => (p.input === null ? null : json(p.input))),
              part.map((p) => p.contactId),
              part.map((p) => (p.result === null ? null : json(p.result))),
              part.map((p) => p.succeeded),
            ],
          );
        }
      });
    },
    async get(id) {
      const rows = await db.query<{
        id: string;
        status: BatchStatus;
        options: WriteOptions;
        total: number;
        created_at: Date | string;
        completed_at: Date | string | null;
      }>(`SELECT id, status, options, total, created_at, completed_at FROM ${b} WHERE id = $1`, [
        id,
      ]);
      const r = rows[0];
      return r
        ? {
            id: r.id,
            status: r.status,
            options: r.options,
            total: Number(r.total),
            createdAt: iso(r.created_at),
            completedAt: r.completed_at === null ? null : iso(r.completed_at),
          }
        : null;
    },
    async counts(id) {
      const [r] = await db.query<{ processed: string | number; succeeded: string | number }>(
        `SELECT count(result) AS processed, count(*) FILTER (WHERE succeeded) AS succeeded
           FROM ${it} WHERE batch_id = $1`,
        [id],
      );
      const processed = Number(r?.processed ?? 0);
      const succeeded = Number(r?.succeeded ?? 0);
      return { processed, succeeded, failed: processed - succeeded };
    },
    async pending(id, limit) {
      const rows = await db.query<{ idx: number; input: RawContactInput }>(
        `SELECT idx, input FROM ${it} WHERE batch_id = $1 AND result IS NULL ORDER BY idx LIMIT $2`,
        [id, limit],
      );
      return rows.map((r) => ({ index: Number(r.idx), input: r.input }));
    },
    async saveResults(id, results) {
      if (results.length === 0) {
        return;
      }
      await db.query(
        `UPDATE ${it} AS i SET result = u.result::jsonb, succeeded = u.succeeded
           FROM ${unnest(db, 'u', { idx: '$2::int[]', result: '$3::text[]', succeeded: '$4::boolean[]' })}
          WHERE i.batch_id = $1 AND i.idx = u.idx`,
        [
          id,
          results.map((r) => r.index),
          results.map((r) => json(r.result)),
          results.map((r) => r.succeeded),
        ],
      );
    },
    async complete(id, now) {
      await db.query(
        `UPDATE ${b} SET status = 'COMPLETED', completed_at = $2::timestamptz WHERE id = $1`,
        [id, now],
      );
    },
    async items(id, after, first) {
      const rows = await db.query<{
        idx: number;
        contact_id: string | null;
        result: WritePayload | null;
      }>(
        `SELECT idx, contact_id, result FROM ${it} WHERE batch_id = $1 AND idx > $2 ORDER BY idx LIMIT $3`,
        [id, after, first],
      );
      return rows.map((r) => ({ index: Number(r.idx), contactId: r.contact_id, result: r.result }));
    },
  };
}

/**
 * Async batches (`WriteOptions.async`): `accept` validates, gives every item its contact id and
 * stores the batch, all before any provider is called; the batch job then writes it in steps of
 * `GATEWAY_BATCH_CHUNK` through the same path as a synchronous batch, saving each step's answers,
 * so a restart (the job's lease runs out) resumes after the last saved step.
 */
export interface BatchRunnerDeps {
  service: ContactsService;
  identity: IdentityStore;
  lifecycle: BatchHost;
  jsonLimits: JsonLimits;
}

export class BatchRunner {
  readonly store: BatchStore;
  readonly #deps: BatchRunnerDeps;

  constructor(store: BatchStore, deps: BatchRunnerDeps) {
    this.store = store;
    this.#deps = deps;
    deps.lifecycle.handle({
      type: BATCH_JOB,
      limit: 2,
      run: (job, lease) => this.#run((job.payload as { batchId: string }).batchId, lease),
    });
  }

  async accept(
    inputs: readonly RawContactInput[],
    options: WriteOptions,
  ): Promise<BatchPayload & { batchId: string }> {
    const now = new Date().toISOString();
    const validated = inputs.map((raw, i) =>
      validateContactInput(raw, `inputs.${i}`, {
        requireIdentity: true,
        jsonLimits: this.#deps.jsonLimits,
      }),
    );
    const keys = validated.flatMap((v) =>
      v.ok
        ? [
            {
              externalId: v.value.patch.externalId,
              email: v.value.patch.email,
              phone: v.value.patch.phone,
            },
          ]
        : [],
    );
    const identity = this.#deps.identity;
    const records: IdentityRecord[] = identity.claimMany ? await identity.claimMany(keys, now) : [];
    if (!identity.claimMany) {
      for (const k of keys) {
        records.push((await identity.claim(k, now)).record);
      }
    }
    let next = 0;
    const items: NewItem[] = [];
    const answers: WritePayload[] = [];
    for (const [i, v] of validated.entries()) {
      if (!v.ok) {
        const result: WritePayload = { contact: null, outcomes: [], errors: v.errors };
        items.push({ input: null, contactId: null, result, succeeded: false });
        answers.push(result);
        continue;
      }
      const record = records[next++]!;
      items.push({ input: inputs[i]!, contactId: record.id, result: null, succeeded: null });
      answers.push({
        contact: {
          ...structuredClone(record.view),
          id: record.id,
          createdAt: record.createdAt,
          updatedAt: record.updatedAt,
          records: Object.values(record.records),
          readErrors: [],
        },
        outcomes: [],
        errors: [],
      });
    }
    const batchId = randomUUID();
    const {
      idempotencyKey: _key,
      async: _async,
      ...kept
    } = options as WriteOptions & {
      async?: unknown;
    };
    await this.store.create(batchId, kept, items, now);
    await this.#deps.lifecycle.jobs.add(
      [{ id: `batch:${batchId}`, type: BATCH_JOB, payload: { batchId }, nextAttemptAt: now }],
      now,
    );
    if (this.#deps.lifecycle.config.jobsPollMs > 0) {
      this.#deps.lifecycle.kick();
    }
    const failed = items.filter((i) => i.succeeded === false).length;
    return {
      batchId,
      items: answers,
      summary: { total: inputs.length, succeeded: 0, failed, upstreamRequests: 0 },
    };
  }

  async #run(batchId: string, lease: { extend(): Promise<void> }): Promise<void> {
    const batch = await this.store.get(batchId);
    if (!batch || batch.status === 'COMPLETED') {
      return;
    }
    const chunk = this.#deps.lifecycle.config.batchChunk;
    for (;;) {
      const pending = await this.store.pending(batchId, chunk);
      if (pending.length === 0) {
        break;
      }
      const scope: RequestScope = { stats: { upstreamRequests: 0 } };
      const answer = await this.#deps.service.upsertContacts(
        pending.map((p) => p.input),
        batch.options,
        scope,
      );
      await this.store.saveResults(
        batchId,
        answer.items.map((result, i) => ({
          index: pending[i]!.index,
          result,
          succeeded: succeededOf(result),
        })),
      );
      await lease.extend();
    }
    const now = new Date().toISOString();
    await this.store.complete(batchId, now);
    const counts = await this.store.counts(batchId);
    await this.#deps.lifecycle.emit({
      id: `batch.completed:${batchId}`,
      type: 'batch.completed',
      createdAt: now,
      data: { batch: { id: batchId, status: 'COMPLETED', total: batch.total, ...counts } },
    });
  }
}
