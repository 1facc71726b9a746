import pLimit, { type LimitFunction } from 'p-limit';
import type { CallPolicy } from '../http/policy.js';
import type { ProviderId } from '../model/contact.js';
import { type ProviderErrorInfo, toProviderErrorInfo } from '../model/errors.js';
import type { Outcome, OutcomeStatus, Refusal, WritePlan } from '../model/outcome.js';
import { chunk } from './align.js';
import type { CallContext, ProviderAdapter, WriteItem } from './types.js';

/**
 * The write engine: the one skeleton every adapter's writes run through. It plans each item (the
 * adapter's pure mapping), sorts them into singles and bulk groups, merges items of one contact
 * within a bulk request, chunks groups at the provider's bulk limit, runs the sends under one
 * concurrency limit, and answers one outcome per item in key order (an item the adapter lost gets
 * an INTERNAL outcome instead of breaking DataLoader's length check). An adapter supplies only what
 * is its provider's: the plan, the group and contact keys, and how one item or one bulk request
 * is sent and read back.
 */

export type WriteOp = 'upsert' | 'update';

/** One item and its plan, waiting to be sent. */
export interface Job<P> {
  item: WriteItem;
  plan: P;
}

/** One contact of a bulk request: the items that named it and their bodies merged into one. */
export interface Entry<P, B> {
  body: B;
  members: Array<Job<P>>;
}

export interface SendOptions {
  op: WriteOp;
  /** An earlier item of this call with the same contact key was written (the key exists now). */
  keyKnown: boolean;
}

/** How a provider's bulk endpoint takes a group of items. */
export interface BulkSpec<P, B> {
  /** Items of one bulk request share this key (merge option, override flags …); null = alone. */
  groupKey(job: Job<P>): string | null;
  /** The wire body of one item in a bulk request. */
  body(job: Job<P>): B;
  /** Two bodies of one contact as one, `b` after `a` (later wins). */
  merge(a: B, b: B): B;
  /** Most contacts one request carries. */
  maxBatch: number;
  /** Fewest items worth a bulk request; a smaller group is sent as singles. @default 1 */
  minBatch?: number;
  /**
   * Sends one bulk request of these contacts and answers one outcome per entry, in order. The
   * engine gives each member item its own copy (its `droppedFields`, its remote id on failure).
   */
  send(entries: Array<Entry<P, B>>, ctx: CallContext): Promise<Outcome[]>;
}

/** Whose writes: the provider's id and its name in messages (the adapter's `id` and `name`). */
export interface WriteOwner {
  provider: ProviderId;
  name: string;
}

export interface WriteSpec<P extends { droppedFields: string[] }, B = unknown> extends WriteOwner {
  /** Runs once per call before any item is planned (e.g. the provider's field list is read). */
  beforePlan?(items: readonly WriteItem[], ctx: CallContext): Promise<void>;
  /** The adapter's pure mapping of one item (`alone`: the call carries this item only). */
  plan(item: WriteItem, how: { op: WriteOp; alone: boolean }): WritePlan<P>;
  /**
   * Identifies the contact at the provider. Bulk items with the same key are merged into one entry;
   * singles with the same key are sent one after another, in input order.
   */
  contactKey(job: Job<P>): string;
  /** Sends one item alone. */
  sendOne(job: Job<P>, ctx: CallContext, how: SendOptions): Promise<Outcome>;
  /** The bulk endpoint, when the provider has one (used for upserts of more than one item). */
  bulk?: BulkSpec<P, B>;
  /** Details every outcome of this item carries (e.g. `droppedFieldReasons`). */
  itemDetails?(job: Job<P>): Record<string, unknown> | null;
  /** Sends at a time: a number (a limit per call) or a limit the adapter shares across calls. */
  concurrency: number | LimitFunction;
}

const SUCCESS: ReadonlySet<OutcomeStatus> = new Set(['CREATED', 'UPDATED']);

/** The empty outcome every builder starts from. */
export function outcome(
  provider: ProviderId,
  status: OutcomeStatus,
  fields: Partial<Omit<Outcome, 'provider' | 'status'>> = {},
): Outcome {
  return {
    provider,
    status,
    remoteId: null,
    contact: null,
    droppedFields: [],
    error: null,
    attempts: 0,
    durationMs: 0,
    request: null,
    details: null,
    ...fields,
  };
}

/** Outcome builders bound to one provider (what adapters use). */
export function outcomesOf(provider: ProviderId) {
  return {
    writeResult: (
      status: OutcomeStatus,
      fields: Partial<Omit<Outcome, 'provider' | 'status'>> = {},
    ): Outcome => outcome(provider, status, fields),
    failedResult: (
      error: ProviderErrorInfo,
      fields: Partial<Omit<Outcome, 'provider' | 'status' | 'error'>> = {},
    ): Outcome => outcome(provider, 'FAILED', Object.assign({}, fields, { error })),
    /** The same FAILED outcome for each entry of a request that failed as a whole. */
    failedAll: (
      entries: readonly unknown[],
      error: ProviderErrorInfo,
      fields: Partial<Omit<Outcome, 'provider' | 'status' | 'error'>> = {},
    ): Outcome[] =>
      entries.map(() => outcome(provider, 'FAILED', Object.assign({}, fields, { error }))),
  };
}

/**
 * An adapter's calls to its provider, each under the resilience policy. Every adapter call is
 * idempotent (upserts by key, an Idempotency-Key, reads, polls), so the policy may repeat any.
 */
export function callsOf(policy: CallPolicy, provider: ProviderId) {
  const descriptor = Object.freeze({ provider, idempotent: true });
  const call = <T>(fn: () => Promise<T>) => policy.execute(descriptor, fn);
  return {
    call,
    /**
     * `call`, timed: its answer, and the attempts and duration (plus `details`, when given) that
     * each outcome of the call carries.
     */
    async timed<T>(fn: () => Promise<T>, details?: Record<string, unknown>) {
      const start = performance.now();
      const answer = await call(fn);
      const common = {
        attempts: answer.attempts,
        durationMs: elapsed(start),
        ...(details ? { details } : {}),
      };
      return { answer, common };
    },
  };
}

/** The outcome of an item the mapping refused: nothing was sent. */
export function refused(provider: ProviderId, item: WriteItem, refusal: Refusal): Outcome {
  return outcome(provider, refusal.status, {
    error: refusal.error,
    droppedFields: refusal.droppedFields,
    remoteId: item.remoteId,
    details: refusal.details ?? null,
  });
}

function lost({ provider, name }: WriteOwner): Outcome {
  return outcome(provider, 'FAILED', {
    error: {
      code: 'INTERNAL',
      message: `${name} write lost an item`,
      httpStatus: null,
      retryable: false,
      details: null,
    },
  });
}

export function withDetails(
  base: Record<string, unknown> | null,
  ...more: Array<Record<string, unknown> | null | undefined>
): Record<string, unknown> | null {
  const details = Object.assign({}, base, ...more.filter(Boolean));
  return Object.keys(details).length > 0 ? details : null;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) {
    list.push(value);
  } else {
    map.set(key, [value]);
  }
}

/** `upsertMany` and `updateMany` of an adapter, run by the engine from its spec. */
export function createWriteEngine<P extends { droppedFields: string[] }, B = unknown>(
  spec: WriteSpec<P, B>,
): Pick<ProviderAdapter, 'upsertMany' | 'updateMany'> {
  const { provider, bulk } = spec;
  const shared = typeof spec.concurrency === 'function' ? spec.concurrency : null;

  /** Singles sharing a contact key, one after another; the key is known after a success. */
  async function runSingles(jobs: Array<Job<P>>, ctx: CallContext, op: WriteOp) {
    const out: Outcome[] = [];
    let keyKnown = false;
    for (const job of jobs) {
      const sent = await spec.sendOne(job, ctx, { op, keyKnown });
      keyKnown ||= SUCCESS.has(sent.status);
      out.push(
        jobs.length > 1
          ? { ...sent, details: withDetails(sent.details, { sameContactKeyInBatch: jobs.length }) }
          : sent,
      );
    }
    return out;
  }

  /** One bulk request; each entry's outcome copied to the items merged into it. */
  async function runBulk(b: BulkSpec<P, B>, entries: Array<Entry<P, B>>, ctx: CallContext) {
    return fanOut(spec, entries, await b.send(entries, ctx), spec.itemDetails);
  }

  /** `item` planned into a job, or the outcome of its refusal. */
  function planJob(item: WriteItem, op: WriteOp, alone: boolean): Job<P> | Outcome {
    const plan = spec.plan(item, { op, alone });
    if (!plan.ok) {
      return refused(provider, item, plan);
    }
    const { ok: _ok, ...rest } = plan;
    return { item, plan: rest as unknown as P };
  }

  /**
   * One item alone in its call: what `write` does with it (planned alone, sent as a single under
   * the shared limit, if any), without its maps and lists.
   */
  async function writeAlone(item: WriteItem, ctx: CallContext, op: WriteOp): Promise<Outcome> {
    const job = planJob(item, op, true);
    if (!('plan' in job)) {
      return job;
    }
    return shared
      ? shared(() => spec.sendOne(job, ctx, { op, keyKnown: false }))
      : spec.sendOne(job, ctx, { op, keyKnown: false });
  }

  async function write(
    items: readonly WriteItem[],
    ctx: CallContext,
    op: WriteOp,
  ): Promise<Outcome[]> {
    if (spec.beforePlan) {
      await spec.beforePlan(items, ctx);
    }
    const alone = items.length === 1;
    if (alone) {
      return [await writeAlone(items[0]!, ctx, op)];
    }
    const out = new Map<WriteItem, Outcome>();
    const singles = new Map<string, Array<Job<P>>>();
    const groups = new Map<string, Array<Job<P>>>();
    for (const item of items) {
      const job = planJob(item, op, alone);
      if (!('plan' in job)) {
        out.set(item, job);
        continue;
      }
      const group = bulk && op === 'upsert' && !alone ? bulk.groupKey(job) : null;
      if (group === null) {
        push(singles, spec.contactKey(job), job);
      } else {
        push(groups, group, job);
      }
    }
    const batches: Array<Array<Entry<P, B>>> = [];
    for (const members of groups.values()) {
      // A group too small for a bulk request (e.g. one import job plus its polls) goes alone.
      if (members.length < (bulk?.minBatch ?? 1)) {
        for (const job of members) {
          push(singles, spec.contactKey(job), job);
        }
        continue;
      }
      const entries = new Map<string, Entry<P, B>>();
      for (const job of members) {
        const key = spec.contactKey(job);
        const entry = entries.get(key);
        if (entry) {
          entry.body = bulk!.merge(entry.body, bulk!.body(job));
          entry.members.push(job);
        } else {
          entries.set(key, { body: bulk!.body(job), members: [job] });
        }
      }
      batches.push(...chunk([...entries.values()], bulk!.maxBatch));
    }
    // A limiter of its own only when this call has more sends than it allows at a time.
    const sends = singles.size + batches.length;
    const limit: <T>(fn: () => Promise<T>) => Promise<T> =
      shared ??
      (sends <= Math.max(1, spec.concurrency as number)
        ? (fn) => fn()
        : pLimit(Math.max(1, spec.concurrency as number)));
    await Promise.all([
      ...[...singles.values()].map((jobs) =>
        limit(async () => {
          const results = await runSingles(jobs, ctx, op);
          jobs.forEach((job, i) => {
            out.set(job.item, results[i]!);
          });
        }),
      ),
      ...batches.map((entries) =>
        limit(async () => {
          const results = await runBulk(bulk!, entries, ctx);
          entries.forEach((entry, i) => {
            entry.members.forEach((job, k) => {
              out.set(job.item, results[i]![k]!);
            });
          });
        }),
      ),
    ]);
    return items.map((item) => out.get(item) ?? lost(spec));
  }

  return {
    upsertMany: (items, ctx) => write(items, ctx, 'upsert'),
    updateMany: (items, ctx) => write(items, ctx, 'update'),
  };
}

/**
 * Each entry's outcome copied to the items merged into it: each keeps its own `droppedFields`,
 * its own remote id when the write did not succeed, and `mergedWith` says how many shared it.
 */
export function fanOut<P extends { droppedFields: string[] }>(
  owner: WriteOwner,
  entries: ReadonlyArray<{ members: ReadonlyArray<Job<P>> }>,
  answers: readonly Outcome[],
  itemDetails?: (job: Job<P>) => Record<string, unknown> | null,
): Outcome[][] {
  return entries.map((entry, i) => {
    const answer = answers[i] ?? lost(owner);
    const n = entry.members.length;
    return entry.members.map((job) => ({
      ...answer,
      droppedFields: job.plan.droppedFields,
      remoteId: SUCCESS.has(answer.status) ? answer.remoteId : job.item.remoteId,
      details: withDetails(
        answer.details,
        n > 1 ? { mergedWith: n - 1 } : null,
        itemDetails?.(job),
      ),
    }));
  });
}

export type WriteKind = WriteOp | 'poll';

/**
 * The one way into an adapter's writes (the request's loaders and outbox delivery both call it):
 * one outcome per item, in order, and a throw (a bug) turned into FAILED outcomes by `onThrow`.
 */
export async function dispatchWrites(
  adapter: ProviderAdapter,
  kind: WriteKind,
  items: ReadonlyArray<{ item: WriteItem; importId?: string | null }>,
  ctx: CallContext,
  onThrow: (err: unknown) => ProviderErrorInfo = (err) => toProviderErrorInfo(adapter.id, err),
): Promise<Outcome[]> {
  const writes = items.map((i) => i.item);
  let results: Outcome[];
  try {
    results =
      kind === 'poll' && adapter.pollMany
        ? await adapter.pollMany(
            items.map((i) => ({ item: i.item, importId: i.importId ?? '' })),
            ctx,
          )
        : kind === 'update'
          ? await adapter.updateMany(writes, ctx)
          : await adapter.upsertMany(writes, ctx);
  } catch (err) {
    const error = onThrow(err);
    return writes.map(() => outcome(adapter.id, 'FAILED', { error }));
  }
  return writes.map((_, i) => results[i] ?? lost({ provider: adapter.id, name: adapter.name }));
}

/** Milliseconds since `start` (performance.now()), rounded to 0.01 ms. */
export function elapsed(start: number): number {
  return Math.round((performance.now() - start) * 100) / 100;
}
