import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import {
  applyPatch,
  type ContactPatch,
  mergePatches,
  mergeViews,
  type ProviderId,
  type ProviderOptions,
} from '../model/contact.js';
import type { InputErrorInfo } from '../model/errors.js';
import type { Outcome } from '../model/outcome.js';
import { outcome } from '../providers/engine.js';
import type { ProviderAdapter, WriteItem } from '../providers/types.js';
import { type IdentityRecord, identityKeysOf } from '../store/identity.js';
import type { NewOutboxItem, OutboxKind } from '../store/outbox.js';
import type { ContactsDeps } from './deps.js';
import { loadersFor, type RequestScope } from './loaders.js';
import { importIdOf, type OutboxDelivery } from './outbox-delivery.js';
import { checkPassThrough } from './pass-through-check.js';
import {
  type BatchPayload,
  batchPayload,
  rejected,
  SUCCESS,
  skipped,
  type WriteOptions,
  type WritePayload,
} from './payload.js';
import { type RawContactInput, readArgumentError, validateContactInput } from './validation.js';

/** A validated input bound to its identity record: what one write sends to each provider. */
interface Resolved {
  record: IdentityRecord;
  patch: ContactPatch;
  options: ProviderOptions;
}

/**
 * The write path: validation, identity, fan-out onto the request's loaders (which batch onto each
 * provider's write engine), then the identity map, the outbox and the payloads.
 */
export class ContactWrites {
  readonly #d: ContactsDeps;
  readonly #delivery: OutboxDelivery;

  constructor(deps: ContactsDeps, delivery: OutboxDelivery) {
    this.#d = deps;
    this.#delivery = delivery;
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
      return { adapters: this.#d.registry.enabled(), skipped: [] };
    }
    const adapters: ProviderAdapter[] = [];
    const skippedOutcomes: Outcome[] = [];
    for (const id of new Set(requested)) {
      const entry = this.#d.registry.get(id);
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
    return batchPayload(items, scope.stats.upstreamRequests - before);
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
          jsonLimits: this.#d.jsonLimits,
        }),
        pathOf(i),
        enabled,
      ),
    );
    const { adapters, skipped: skippedOutcomes } = this.#targets(options.providers);
    const now = this.#d.now().toISOString();

    // Identity first, one item after another, so that two items of one batch naming the same
    // contact resolve to the same gateway id.
    const planned: Array<Resolved | null> = [];
    for (const v of validated) {
      if (!v.ok) {
        planned.push(null);
        continue;
      }
      const keys = identityKeysOf(v.value.patch);
      const record = options.dryRun
        ? ((await this.#d.store.find(keys)) ?? {
            id: randomUUID(),
            view: {},
            records: {},
            createdAt: now,
            updatedAt: now,
          })
        : (await this.#d.store.claim(keys, now)).record;
      planned.push({ record, ...v.value });
    }

    if (options.dryRun) {
      return planned.map((p, i) => {
        const v = validated[i]!;
        if (!v.ok || !p) {
          return rejected(v.ok ? [] : v.errors);
        }
        const outcomes = [
          ...adapters.map((a) => this.#dryRun(a, this.#item(a, p, options))),
          ...skippedOutcomes,
        ];
        const preview = { ...p.record, view: applyPatch(p.record.view, p.patch) };
        return { contact: this.#d.view(preview, []), outcomes, errors: [] };
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
      log: scope.log,
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
        jsonLimits: this.#d.jsonLimits,
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
    const record = await this.#d.store.get(id);
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
      (p) => this.#d.registry.get(p).adapter !== null,
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
      return { contact: this.#d.view(preview, []), outcomes, errors: [] };
    }
    const results = await Promise.all(
      adapters.map((a) => loadersFor(scope)(a).update.load(this.#item(a, planned, options))),
    );
    const [payload] = await this.#finish([planned], [v], adapters, [results], skippedOutcomes, {
      kind: 'update',
      options,
      log: scope.log,
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
    write: { kind: OutboxKind; options: WriteOptions; log?: Logger | undefined },
  ): Promise<WritePayload[]> {
    const log = write.log ?? this.#d.logger;
    const now = this.#d.now().toISOString();
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
      if (this.#d.outbox) {
        outcomes.forEach((o, k) => {
          // A provider job still running (an import job) is re-checked by its id, not resent.
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
                nextAttemptAt: this.#delivery.nextAttemptAt(1, o.error),
                importId,
              },
            });
          }
        });
      }
      for (const o of outcomes) {
        if (o.status === 'FAILED') {
          log.warn(
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
    await Promise.all([...working.values()].map((r) => this.#d.store.save(r)));
    if (this.#d.outbox && toQueue.length > 0) {
      // Stored before the answer: a QUEUED write survives a crash after it was reported.
      const stored = await this.#d.outbox.enqueue(
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
        ? rejected(a.errors)
        : { contact: this.#d.view(a.record, []), outcomes: a.outcomes, errors: [] },
    );
  }
}
