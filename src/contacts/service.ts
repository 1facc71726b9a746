import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import {
  applyPatch,
  type ContactPatch,
  mergePatches,
  mergeViews,
  type ProviderId,
  type ProviderOptions,
  pickLeaves,
  type UnifiedContact,
} from '../model/contact.js';
import type { InputErrorInfo, ProviderErrorInfo } from '../model/errors.js';
import type { Outcome, OutcomeStatus } from '../model/outcome.js';
import { dispatchWrites, outcome } from '../providers/engine.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { ProviderAdapter, ReadKey, ReadResult, WriteItem } from '../providers/types.js';
import type { IdentityKeys, IdentityRecord, IdentityStore } from '../store/identity.js';
import type {
  NewOutboxItem,
  OutboxItem,
  OutboxKind,
  OutboxStore,
  WriteFilter,
} from '../store/outbox.js';
import { loadersFor, type ReadAnswer, type RequestScope } from './loaders.js';
import { checkPassThrough } from './pass-through-check.js';
import {
  DEFAULT_JSON_LIMITS,
  type JsonLimits,
  type RawContactInput,
  readArgumentError,
  validateContactInput,
} from './validation.js';

export type { Outcome, OutcomeStatus } from '../model/outcome.js';

export interface ContactView extends UnifiedContact {
  readErrors: Array<{ provider: ProviderId; error: ProviderErrorInfo }>;
}

export interface WritePayload {
  contact: ContactView | null;
  outcomes: Outcome[];
  errors: InputErrorInfo[];
}

export interface BatchPayload {
  items: WritePayload[];
  summary: { total: number; succeeded: number; failed: number; upstreamRequests: number };
}

export interface WriteOptions {
  providers?: readonly ProviderId[] | null | undefined;
  dryRun?: boolean | null | undefined;
  idempotencyKey?: string | null | undefined;
}

export interface ContactsServiceDeps {
  registry: ProviderRegistry;
  store: IdentityStore;
  logger: Logger;
  /**
   * Where writes whose retries ended on a retryable failure wait (QUEUED) to be delivered in the
   * background. Without one they are reported FAILED (retryable) and nothing is kept.
   */
  outbox?: OutboxStore;
  /** First wait before a queued write is tried again; it doubles per attempt up to 10 min. @default 5000 */
  outboxBaseDelayMs?: number;
  /** Bounds on JSON input values (`customFields`). @default DEFAULT_JSON_LIMITS */
  jsonLimits?: JsonLimits;
  now?: () => Date;
}

/** Longest wait between two delivery attempts of a queued write. */
const OUTBOX_MAX_DELAY_MS = 10 * 60 * 1000;

const SUCCESS = new Set<OutcomeStatus>(['CREATED', 'UPDATED']);

/** A validated input bound to its identity record: what one write sends to each provider. */
interface Resolved {
  record: IdentityRecord;
  patch: ContactPatch;
  options: ProviderOptions;
}

function skipped(provider: ProviderId, code: string, message: string): Outcome {
  return outcome(provider, 'SKIPPED', {
    error: { code, message, httpStatus: null, retryable: false, details: null },
  });
}

function identityKeys(patch: ContactPatch): IdentityKeys {
  return { externalId: patch.externalId, email: patch.email, phone: patch.phone };
}

/**
 * The contacts service: validation, identity, fan-out planning, merging. It never talks HTTP; it
 * queues work on the request's loaders, which batch onto each provider's bulk endpoint.
 */
export class ContactsService {
  readonly #registry: ProviderRegistry;
  readonly #store: IdentityStore;
  readonly #logger: Logger;
  readonly #now: () => Date;
  readonly #outbox: OutboxStore | null;
  readonly #outboxBaseDelayMs: number;
  readonly #jsonLimits: JsonLimits;

  constructor(deps: ContactsServiceDeps) {
    this.#registry = deps.registry;
    this.#store = deps.store;
    this.#logger = deps.logger;
    this.#now = deps.now ?? (() => new Date());
    this.#outbox = deps.outbox ?? null;
    this.#outboxBaseDelayMs = deps.outboxBaseDelayMs ?? 5_000;
    this.#jsonLimits = deps.jsonLimits ?? DEFAULT_JSON_LIMITS;
  }

  /**
   * When a queued write that failed `attempts` times is tried next: exponential, full jitter, and
   * never before the provider's `Retry-After` (`error.details.retryAfterMs`).
   */
  #nextAttemptAt(attempts: number, error?: ProviderErrorInfo | null): string {
    const cap = Math.min(
      OUTBOX_MAX_DELAY_MS,
      this.#outboxBaseDelayMs * 2 ** Math.max(0, attempts - 1),
    );
    const wait = Math.max(cap / 2 + (Math.random() * cap) / 2, retryAfterOf(error));
    return new Date(this.#now().getTime() + wait).toISOString();
  }

  /**
   * Which adapters a write goes to: the requested providers, or every enabled one. A requested
   * provider that cannot be called becomes a SKIPPED outcome saying why.
   */
  #targets(requested: readonly ProviderId[] | null | undefined): {
    adapters: ProviderAdapter[];
    skipped: Outcome[];
  } {
    if (!requested) {
      return { adapters: this.#registry.enabled(), skipped: [] };
    }
    const adapters: ProviderAdapter[] = [];
    const skippedOutcomes: Outcome[] = [];
    for (const id of new Set(requested)) {
      const entry = this.#registry.get(id);
      if (entry.adapter) {
        adapters.push(entry.adapter);
      } else {
        skippedOutcomes.push(
          skipped(
            id,
            'PROVIDER_NOT_ENABLED',
            `${id} is not enabled (${entry.reason ?? 'disabled'})`,
          ),
        );
      }
    }
    return { adapters, skipped: skippedOutcomes };
  }

  async upsertContact(
    input: RawContactInput,
    options: WriteOptions,
    scope: RequestScope,
  ): Promise<WritePayload> {
    const [item] = await this.#upsert([input], options, scope, () => 'input');
    return item!;
  }

  async upsertContacts(
    inputs: readonly RawContactInput[],
    options: WriteOptions,
    scope: RequestScope,
  ): Promise<BatchPayload> {
    const before = scope.stats.upstreamRequests;
    const items = await this.#upsert(inputs, options, scope, (i) => `inputs.${i}`);
    const succeeded = items.filter(
      (p) =>
        p.errors.length === 0 &&
        p.outcomes.length > 0 &&
        p.outcomes.every((o) => SUCCESS.has(o.status) || o.status === 'DRY_RUN'),
    ).length;
    return {
      items,
      summary: {
        total: items.length,
        succeeded,
        failed: items.length - succeeded,
        upstreamRequests: scope.stats.upstreamRequests - before,
      },
    };
  }

  async #upsert(
    inputs: readonly RawContactInput[],
    options: WriteOptions,
    scope: RequestScope,
    pathOf: (index: number) => string,
  ): Promise<WritePayload[]> {
    const enabled = this.#targets(undefined).adapters;
    const validated = inputs.map((raw, i) =>
      checkPassThrough(
        validateContactInput(raw, pathOf(i), {
          requireIdentity: true,
          jsonLimits: this.#jsonLimits,
        }),
        pathOf(i),
        enabled,
      ),
    );
    const { adapters, skipped: skippedOutcomes } = this.#targets(options.providers);
    const now = this.#now().toISOString();

    // Identity first, one item after another, so that two items of one batch naming the same
    // contact resolve to the same gateway id.
    const planned: Array<Resolved | null> = [];
    for (const v of validated) {
      if (!v.ok) {
        planned.push(null);
        continue;
      }
      const keys = identityKeys(v.value.patch);
      const record = options.dryRun
        ? ((await this.#store.find(keys)) ?? {
            id: randomUUID(),
            view: {},
            records: {},
            createdAt: now,
            updatedAt: now,
          })
        : (await this.#store.claim(keys, now)).record;
      planned.push({ record, ...v.value });
    }

    if (options.dryRun) {
      return planned.map((p, i) => {
        const v = validated[i]!;
        if (!v.ok || !p) {
          return { contact: null, outcomes: [], errors: v.ok ? [] : v.errors };
        }
        const outcomes = [
          ...adapters.map((a) => this.#dryRun(a, this.#item(a, p, options))),
          ...skippedOutcomes,
        ];
        const preview = { ...p.record, view: applyPatch(p.record.view, p.patch) };
        return { contact: this.toContact(preview, []), outcomes, errors: [] };
      });
    }

    // Items of one request that name the same contact with the same provider options are written
    // once per provider: their patches merged in input order (later wins field by field), every
    // item answered with the shared result. The identity step above already gave them one record.
    const leaderOf = planned.map((_, i) => i);
    const writes = new Map<number, Resolved>();
    const leaders = new Map<string, number>();
    planned.forEach((p, i) => {
      if (!p) {
        return;
      }
      const key = `${p.record.id}\u0000${JSON.stringify(p.options)}`;
      const first = leaders.get(key);
      const base = first === undefined ? undefined : (writes.get(first) ?? planned[first]!);
      const patch = base ? mergePatches(base.patch, p.patch) : null;
      if (first === undefined || !base || !patch) {
        leaders.set(key, i);
        return;
      }
      writes.set(first, { ...base, patch });
      leaderOf[i] = first;
    });
    // Queue every load in this tick so each provider's loader sees the whole batch.
    const loads = planned.map((p, i) =>
      p && leaderOf[i] === i
        ? Promise.all(
            adapters.map((a) =>
              loadersFor(scope)(a).upsert.load(this.#item(a, writes.get(i) ?? p, options)),
            ),
          )
        : null,
    );
    const results = await Promise.all(
      planned.map((p, i) => (p ? (loads[leaderOf[i]!] ?? null) : null)),
    );
    return this.#finish(planned, validated, adapters, results, skippedOutcomes, {
      kind: 'upsert',
      options,
    });
  }

  async updateContact(
    id: string,
    patchInput: RawContactInput,
    options: WriteOptions,
    scope: RequestScope,
  ): Promise<WritePayload> {
    const v = checkPassThrough(
      validateContactInput(patchInput, 'patch', {
        requireIdentity: false,
        jsonLimits: this.#jsonLimits,
      }),
      'patch',
      this.#targets(undefined).adapters,
    );
    const badId = readArgumentError('id', id, 'text');
    if (!v.ok || badId) {
      return {
        contact: null,
        outcomes: [],
        errors: [...(badId ? [badId] : []), ...(v.ok ? [] : v.errors)],
      };
    }
    const record = await this.#store.get(id);
    if (!record) {
      return {
        contact: null,
        outcomes: [],
        errors: [
          { field: 'id', code: 'NOT_FOUND', message: `No contact has the gateway id ${id}` },
        ],
      };
    }
    const linked = (Object.keys(record.records) as ProviderId[]).filter(
      (p) => this.#registry.get(p).adapter !== null,
    );
    const { adapters: requested, skipped: skippedOutcomes } = this.#targets(
      options.providers ?? linked,
    );
    const adapters: ProviderAdapter[] = [];
    for (const a of requested) {
      if (record.records[a.id]) {
        adapters.push(a);
      } else {
        skippedOutcomes.push(
          skipped(
            a.id,
            'PROVIDER_NOT_LINKED',
            `This contact has no record at ${a.id} yet; use upsertContact to create it there`,
          ),
        );
      }
    }
    const planned: Resolved = { record, ...v.value };
    if (options.dryRun) {
      const outcomes = [
        ...adapters.map((a) => this.#dryRun(a, this.#item(a, planned, options))),
        ...skippedOutcomes,
      ];
      const preview = { ...record, view: applyPatch(record.view, v.value.patch) };
      return { contact: this.toContact(preview, []), outcomes, errors: [] };
    }
    const results = await Promise.all(
      adapters.map((a) => loadersFor(scope)(a).update.load(this.#item(a, planned, options))),
    );
    const [payload] = await this.#finish([planned], [v], adapters, [results], skippedOutcomes, {
      kind: 'update',
      options,
    });
    return payload!;
  }

  #item(adapter: ProviderAdapter, p: Resolved, write: WriteOptions): WriteItem {
    return {
      ref: randomUUID(),
      gatewayId: p.record.id,
      patch: p.patch,
      known: p.record.view,
      remoteId: p.record.records[adapter.id]?.remoteId ?? null,
      options: p.options,
      idempotencyKey: write.idempotencyKey ?? null,
    };
  }

  #dryRun(adapter: ProviderAdapter, item: WriteItem): Outcome {
    const plan = adapter.planWrite(item);
    if (!plan.ok) {
      return outcome(
        adapter.id,
        plan.error.code === 'MISSING_REQUIRED_FIELD' ? 'SKIPPED' : 'FAILED',
        { error: plan.error, droppedFields: plan.droppedFields, details: plan.details ?? null },
      );
    }
    return outcome(adapter.id, 'DRY_RUN', {
      remoteId: item.remoteId,
      droppedFields: plan.droppedFields,
      request: plan.request,
      details: plan.details ?? null,
    });
  }

  /**
   * Records remote ids, merges what succeeded into the identity map, fills the outbox, and only
   * then builds the payloads: whatever building the answer does, the write is never left
   * half-applied (providers written, identity links or queued writes not kept).
   */
  async #finish(
    planned: ReadonlyArray<Resolved | null>,
    validated: ReadonlyArray<ReturnType<typeof validateContactInput>>,
    adapters: readonly ProviderAdapter[],
    results: ReadonlyArray<Outcome[] | null>,
    skippedOutcomes: readonly Outcome[],
    write: { kind: OutboxKind; options: WriteOptions },
  ): Promise<WritePayload[]> {
    const now = this.#now().toISOString();
    const working = new Map<string, IdentityRecord>();
    /** Per input: its input errors, or the record as this item left it and its outcomes. */
    const answers: Array<
      { errors: InputErrorInfo[] } | { record: IdentityRecord; outcomes: Outcome[] }
    > = [];
    /** Writes to keep in the outbox, and the outcomes that become QUEUED once they are stored. */
    const toQueue: Array<{ entry: NewOutboxItem; outcome: Outcome }> = [];
    for (let i = 0; i < planned.length; i += 1) {
      const p = planned[i];
      const v = validated[i]!;
      const itemResults = results[i];
      if (!p || !itemResults) {
        answers.push({ errors: v.ok ? [] : v.errors });
        continue;
      }
      const record = working.get(p.record.id) ?? structuredClone(p.record);
      // The provider's view of the contact goes into the identity map below, not the payload.
      const outcomes = itemResults.map((r) => ({ ...r, contact: null }));
      const successes = itemResults
        .map((r, k) => ({ r, adapter: adapters[k]! }))
        .filter(({ r }) => SUCCESS.has(r.status));
      if (successes.length > 0) {
        record.view = applyPatch(record.view, p.patch);
        // What a provider says it stored overrides what we sent.
        record.view = mergeViews([
          ...successes.flatMap(({ r }) => (r.contact ? [r.contact] : [])),
          record.view,
        ]);
        for (const { r, adapter } of successes) {
          if (r.remoteId) {
            record.records[adapter.id] = {
              provider: adapter.id,
              remoteId: r.remoteId,
              syncedAt: now,
            };
          }
        }
        record.updatedAt = now;
      }
      working.set(record.id, record);
      if (this.#outbox) {
        outcomes.forEach((o, k) => {
          // A provider job still running (a Dotdigital import) is re-checked by its id, not resent.
          const importId = o.status === 'QUEUED' ? importIdOf(o.details) : null;
          if ((o.status === 'FAILED' && o.error?.retryable) || importId) {
            toQueue.push({
              outcome: o,
              entry: {
                provider: o.provider,
                kind: importId ? 'poll' : write.kind,
                gatewayId: record.id,
                item: this.#item(adapters[k]!, p, write.options),
                lastError: o.error,
                nextAttemptAt: this.#nextAttemptAt(1, o.error),
                importId,
              },
            });
          }
        });
      }
      for (const o of outcomes) {
        if (o.status === 'FAILED') {
          this.#logger.warn(
            {
              provider: o.provider,
              code: o.error?.code,
              httpStatus: o.error?.httpStatus,
              gatewayId: record.id,
            },
            'provider write failed',
          );
        }
      }
      // The record as this item left it: later items replace `view`, never change it in place.
      answers.push({
        record: { ...record, records: { ...record.records } },
        outcomes: [...outcomes, ...skippedOutcomes],
      });
    }
    await Promise.all([...working.values()].map((r) => this.#store.save(r)));
    if (this.#outbox && toQueue.length > 0) {
      // Stored before the answer: a QUEUED write survives a crash after it was reported.
      const stored = await this.#outbox.enqueue(
        toQueue.map((q) => q.entry),
        now,
      );
      stored.forEach((item, i) => {
        const { outcome } = toQueue[i]!;
        outcome.status = 'QUEUED';
        outcome.details = {
          ...outcome.details,
          outboxId: item.id,
          nextAttemptAt: item.nextAttemptAt,
        };
      });
    }
    return answers.map((a) =>
      'errors' in a
        ? { contact: null, outcomes: [], errors: a.errors }
        : { contact: this.toContact(a.record, []), outcomes: a.outcomes, errors: [] },
    );
  }

  /** One write of the history (`Query.write`). */
  write(id: string): Promise<OutboxItem | null> {
    return this.#outbox ? this.#outbox.get(id) : Promise.resolve(null);
  }

  /** A page of the write history, newest first (`Query.writes`). */
  writes(filter: WriteFilter): Promise<{ items: OutboxItem[]; hasMore: boolean }> {
    return this.#outbox
      ? this.#outbox.page(filter)
      : Promise.resolve({ items: [], hasMore: false });
  }

  /** What waits in the outbox (`pendingWrites`), oldest first. */
  pendingWrites(limit: number): Promise<OutboxItem[]> {
    return this.#outbox ? this.#outbox.list(limit) : Promise.resolve([]);
  }

  /**
   * Delivers what is due in the outbox: each item is leased (no other instance takes it), sent
   * through its adapter with the identity map's current remote id, and then removed (delivered,
   * or failed for good) or rescheduled with backoff. Returns how many items were handled.
   */
  async deliverOutbox(opts: { limit?: number; leaseMs?: number } = {}): Promise<number> {
    const outbox = this.#outbox;
    if (!outbox) {
      return 0;
    }
    const now = this.#now().toISOString();
    const due = await outbox.claimDue(now, opts.limit ?? 100, opts.leaseMs ?? 60_000);
    const groups = new Map<string, OutboxItem[]>();
    for (const item of due) {
      const key = `${item.provider}:${item.kind}`;
      const group = groups.get(key);
      if (group) {
        group.push(item);
      } else {
        groups.set(key, [item]);
      }
    }
    await Promise.all(
      [...groups.values()].map(async (items) => {
        const { provider, kind } = items[0]!;
        const adapter = this.#registry.get(provider).adapter;
        if (!adapter) {
          const error: ProviderErrorInfo = {
            code: 'PROVIDER_NOT_ENABLED',
            message: `${provider} is not enabled; the write waits until it is`,
            httpStatus: null,
            retryable: true,
            details: null,
          };
          await Promise.all(
            items.map((i) => outbox.reschedule(i.id, this.#nextAttemptAt(i.attempts), error)),
          );
          return;
        }
        const records = await Promise.all(items.map((i) => this.#store.get(i.gatewayId)));
        const writes = items.map((i, n) => {
          const record = records[n];
          return {
            ...i.item,
            ref: i.id,
            remoteId: record?.records[provider]?.remoteId ?? i.item.remoteId,
            known: record?.view ?? i.item.known,
          };
        });
        const ctx = { stats: { upstreamRequests: 0 } };
        const results = await dispatchWrites(
          adapter,
          kind,
          writes.map((item, n) => ({ item, importId: items[n]!.importId ?? null })),
          ctx,
          (err) => {
            this.#logger.error({ err, provider }, 'outbox delivery threw');
            // A bug may be fixed by a deploy: the write stays queued.
            return { code: 'INTERNAL', message: 'delivery failed', retryable: true };
          },
        );
        await Promise.all(
          items.map(async (item, n) => {
            const r = results[n]!;
            if (SUCCESS.has(r.status)) {
              await this.#recordDelivered(item, r, records[n] ?? null);
              await outbox.finish(item.id, {
                status: 'DELIVERED',
                remoteId: r.remoteId,
                error: r.error,
              });
              this.#logger.info(
                { provider, outboxId: item.id, attempts: item.attempts, status: r.status },
                'queued write delivered',
              );
            } else if (r.status === 'QUEUED' || (r.status === 'FAILED' && r.error?.retryable)) {
              await outbox.reschedule(
                item.id,
                this.#nextAttemptAt(item.attempts + 1, r.error),
                r.error ?? {
                  code: 'QUEUED',
                  message: 'the provider has not finished the write yet',
                  retryable: true,
                },
              );
            } else {
              await outbox.finish(item.id, {
                status: 'FAILED',
                remoteId: r.remoteId,
                error: r.error,
              });
              this.#logger.warn(
                { provider, outboxId: item.id, code: r.error?.code, status: r.status },
                'queued write failed for good and left the outbox',
              );
            }
          }),
        );
      }),
    );
    return due.length;
  }

  /** A delivered queued write: merge it into the identity map and link the remote id. */
  async #recordDelivered(item: OutboxItem, r: Outcome, found: IdentityRecord | null) {
    const record = found ?? (await this.#store.get(item.gatewayId));
    if (!record) {
      return;
    }
    const now = this.#now().toISOString();
    record.view = mergeViews([
      ...(r.contact ? [r.contact] : []),
      applyPatch(record.view, item.item.patch),
    ]);
    if (r.remoteId) {
      record.records[item.provider] = {
        provider: item.provider,
        remoteId: r.remoteId,
        syncedAt: now,
      };
    }
    record.updatedAt = now;
    await this.#store.save(record);
  }

  /** The answer's view of a record (a method, not `#private`, so a test can make it fail). */
  private toContact(
    record: IdentityRecord,
    readErrors: ContactView['readErrors'],
    times?: { createdAt: string | null; updatedAt: string | null },
  ): ContactView {
    return {
      ...structuredClone(record.view),
      id: record.id,
      createdAt: times?.createdAt ?? record.createdAt,
      updatedAt: times?.updatedAt ?? record.updatedAt,
      records: Object.values(record.records),
      readErrors,
    };
  }

  /**
   * Reads one contact from every enabled provider and merges the answers. Provider data wins;
   * the identity map's last view fills only the fields none of the answering providers stores
   * (e.g. a birthdate kept by a provider that is not enabled now). Unknown to the gateway but found
   * at a provider: the contact gets a gateway id on the spot.
   */
  async getContact(
    by: { id?: string | null; email?: string | null; externalId?: string | null },
    scope: RequestScope,
  ): Promise<ContactView | null> {
    const email = by.email ? by.email.trim().toLowerCase() : null;
    let record: IdentityRecord | null = null;
    if (by.id) {
      record = await this.#store.get(by.id);
      if (!record) {
        return null;
      }
    } else {
      record = await this.#store.find({ externalId: by.externalId, email });
    }
    const adapters = this.#registry.enabled();
    const answers = await Promise.all(
      adapters.map((a): Promise<ReadAnswer> | null => {
        const key = this.#readKey(a, record, { email, externalId: by.externalId ?? null });
        return key ? loadersFor(scope)(a).read.load(key) : null;
      }),
    );
    const found: Array<{ adapter: ProviderAdapter; result: ReadResult }> = [];
    const readErrors: ContactView['readErrors'] = [];
    const held = new Set<string>();
    const now = this.#now().toISOString();
    let staled = false;
    answers.forEach((answer, i) => {
      const adapter = adapters[i]!;
      if (answer === null || answer === undefined) {
        if (answer === null) {
          for (const f of readableFields(adapter)) {
            held.add(f);
          }
          const link = record?.records[adapter.id];
          if (record && link) {
            readErrors.push({ provider: adapter.id, error: notFoundAtProvider(adapter, link) });
            if (!link.staleAt) {
              record.records[adapter.id] = { ...link, staleAt: now };
              staled = true;
            }
          }
        }
        return;
      }
      if ('remoteId' in answer) {
        found.push({ adapter, result: answer });
        for (const f of readableFields(adapter)) {
          held.add(f);
        }
      } else {
        readErrors.push({ provider: adapter.id, error: answer });
      }
    });
    if (!record && found.length === 0) {
      return null;
    }
    const providerView = mergeViews(found.map((f) => f.result.contact));
    if (!record) {
      record = (await this.#store.claim(identityKeys(providerView), now)).record;
    }
    if (found.length > 0) {
      record.view = mergeViews([providerView, pickLeaves(record.view, (path) => !held.has(path))]);
      for (const { adapter, result } of found) {
        record.records[adapter.id] = {
          provider: adapter.id,
          remoteId: result.remoteId,
          syncedAt: now,
        };
      }
      await this.#store.save(record);
    } else if (staled) {
      await this.#store.save(record);
    }
    const created = found
      .map((f) => f.result.createdAt)
      .filter((t): t is string => !!t)
      .sort();
    const updated = found
      .map((f) => f.result.updatedAt)
      .filter((t): t is string => !!t)
      .sort();
    return this.toContact(record, readErrors, {
      createdAt: created[0] ?? null,
      updatedAt: updated[updated.length - 1] ?? null,
    });
  }

  #readKey(
    adapter: ProviderAdapter,
    record: IdentityRecord | null,
    asked: { email: string | null; externalId: string | null },
  ): ReadKey | null {
    const link = record?.records[adapter.id];
    // A stale link is not asked again by its id: the contact may be back under another one.
    const remoteId = link && !link.staleAt ? link.remoteId : undefined;
    if (remoteId && adapter.capabilities.readsByRemoteId !== false) {
      return { by: 'remoteId', value: remoteId };
    }
    const email = asked.email ?? record?.view.email ?? null;
    if (email && adapter.capabilities.readKeys.includes('email')) {
      return { by: 'email', value: email };
    }
    const externalId = asked.externalId ?? record?.view.externalId ?? null;
    if (externalId && adapter.capabilities.readKeys.includes('externalId')) {
      return { by: 'externalId', value: externalId };
    }
    return null;
  }

  /** `contacts(ids, emails)`: ids first, then emails, in the order given; null where none. */
  getContacts(
    by: { ids?: readonly string[] | null; emails?: readonly string[] | null },
    scope: RequestScope,
  ): Promise<Array<ContactView | null>> {
    return Promise.all([
      ...(by.ids ?? []).map((id) => this.getContact({ id }, scope)),
      ...(by.emails ?? []).map((email) => this.getContact({ email }, scope)),
    ]);
  }
}

/**
 * A linked contact the provider answered "not found" for (404 for its remote id, or an empty
 * search): reported in `readErrors` instead of serving the cached view as if the provider held it.
 */
function notFoundAtProvider(
  adapter: ProviderAdapter,
  link: { remoteId: string; syncedAt: string; staleAt?: string },
): ProviderErrorInfo {
  const byId = !link.staleAt && adapter.capabilities.readsByRemoteId !== false;
  return {
    code: 'NOT_FOUND',
    message: `${adapter.id} does not have the linked contact ${link.remoteId} (last synced ${link.syncedAt}); the link is marked stale until the contact is written again`,
    httpStatus: byId ? 404 : null,
    retryable: false,
    details: { remoteId: link.remoteId, stale: true },
  };
}

/** The wait a provider asked for (`Retry-After`, kept as `details.retryAfterMs`), else 0. */
function retryAfterOf(error: ProviderErrorInfo | null | undefined): number {
  const wait = error?.details?.['retryAfterMs'];
  return typeof wait === 'number' && Number.isFinite(wait) && wait > 0 ? wait : 0;
}

/** The provider job a QUEUED outcome waits for (Dotdigital's `importId`). */
function importIdOf(details: Record<string, unknown> | null): string | null {
  const id = details?.['importId'];
  return typeof id === 'string' && id !== '' ? id : null;
}

/** What a read from this provider answers for (see `ProviderCapabilities.readableFields`). */
function readableFields(adapter: ProviderAdapter): readonly string[] {
  return adapter.capabilities.readableFields ?? adapter.capabilities.acceptedFields;
}
