import { randomUUID } from 'node:crypto';
import {
  applyPatch,
  type ContactPatch,
  mergePatches,
  type ProviderId,
  type ProviderOptions,
} from '../model/contact.js';
import type { InputErrorInfo } from '../model/errors.js';
import type { Outcome } from '../model/outcome.js';
import { outcome } from '../providers/engine.js';
import type { ProviderAdapter, WriteItem } from '../providers/types.js';
import { type IdentityRecord, identityKeysOf, recordWritten } from '../store/identity.js';
import type { NewOutboxItem, OutboxKind } from '../store/outbox.js';
import type { ContactsDeps } from './deps.js';
import { loadersFor, type RequestScope, writeAlone } from './loaders.js';
import { importIdOf, type OutboxDelivery } from './outbox-delivery.js';
import { checkPassThrough } from './pass-through-check.js';
import {
  type BatchPayload,
  batchPayload,
  EMPTY_LIST,
  rejected,
  SharedPieces,
  SUCCESS,
  skipped,
  type WriteOptions,
  type WritePayload,
} from './payload.js';
import { collectGarbage, heapReclaimer } from './reclaim.js';
import { type RawContactInput, readArgumentError, validateContactInput } from './validation.js';

/** Fewest distinct writes in one slice of a large `upsertContacts`. */
const MIN_SLICE = 1_000;
/** A larger common multiple of the bulk sizes than this: the batch goes as one slice. */
const MAX_SLICE = 20_000;

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * Distinct writes per slice: the least common multiple of every target's bulk sizes (loader
 * batch and write batch), times what it takes to reach {@link MIN_SLICE}; unbounded (one slice)
 * when that multiple exceeds {@link MAX_SLICE}, so that bulk requests always stay full.
 */
function sliceSize(adapters: readonly ProviderAdapter[]): number {
  let lcm = 1;
  for (const { capabilities: c } of adapters) {
    for (const b of [c.maxBatchSize, c.writeBatchSize ?? c.maxBatchSize]) {
      const n = Math.max(1, Math.floor(b));
      lcm = (lcm / gcd(lcm, n)) * n;
    }
  }
  return lcm > MAX_SLICE ? Number.POSITIVE_INFINITY : lcm * Math.ceil(MIN_SLICE / lcm);
}

/** A validated input bound to its identity record: what one write sends to each provider. */
interface Resolved {
  record: IdentityRecord;
  patch: ContactPatch;
  options: ProviderOptions;
}

/**
 * One slice of an upsert being planned. Items of one request that name the same contact with the
 * same provider options are written once per provider: their patches merged in input order (later
 * wins field by field), every item answered with the shared result.
 */
interface Slice {
  /** Input index of each planned item. */
  at: number[];
  planned: Resolved[];
  /** Per planned item: the planned index of the write that carries it. */
  leaderOf: number[];
  /** Leader index → its merged write, when items were merged into it. */
  writes: Map<number, Resolved>;
  /** Write key (gateway id + options) → leader index. */
  leaders: Map<string, number>;
  /** Distinct writes so far. */
  count: number;
}

/** A planned item that is its own write (the first of its key). */
function lead(slice: Slice, resolved: Resolved, key: string, index: number): void {
  slice.count += 1;
  slice.leaders.set(key, slice.planned.length);
  slice.leaderOf.push(slice.planned.length);
  slice.at.push(index);
  slice.planned.push(resolved);
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
    adapters: readonly ProviderAdapter[];
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
    if (inputs.length > MIN_SLICE) {
      // Possibly more than one slice: the answer is built on a collected heap. Here, not in
      // #upsert: until it returned, its frame still held the last slice's stages.
      collectGarbage();
    }
    return batchPayload(items, scope.stats.upstreamRequests - before);
  }

  async #upsert(
    inputs: readonly RawContactInput[],
    options: WriteOptions,
    scope: RequestScope,
    pathOf: (index: number) => string,
  ): Promise<WritePayload[]> {
    const enabled = this.#d.registry.enabled();
    const { adapters, skipped: skippedOutcomes } = this.#targets(options.providers);
    const now = this.#d.now().toISOString();

    if (options.dryRun) {
      const answers: WritePayload[] = [];
      for (let i = 0; i < inputs.length; i += 1) {
        const v = this.#validate(inputs[i]!, pathOf(i), enabled);
        if (!v.ok) {
          answers.push(rejected(v.errors));
          continue;
        }
        const record = (await this.#d.store.find(identityKeysOf(v.value.patch))) ?? {
          id: randomUUID(),
          view: {},
          records: {},
          createdAt: now,
          updatedAt: now,
        };
        const p: Resolved = { record, ...v.value };
        const outcomes = [
          ...adapters.map((a) => this.#dryRun(a, this.#item(a, p, options))),
          ...skippedOutcomes,
        ];
        const preview = { ...record, view: applyPatch(record.view, p.patch) };
        answers.push({ contact: this.#d.view(preview, []), outcomes, errors: [] });
      }
      return answers;
    }

    // A large batch goes in slices of `size` distinct writes, one after another: each slice is
    // validated, bound to identities, sent, recorded and answered before the next one is read,
    // so only one slice's stages (plans, items, outcomes, records) are held at a time, and only
    // the answers outlive it. `size` is a multiple of every provider's bulk size, so every slice
    // but the last fills whole bulk requests: the calls are Σ⌈N/Bₚ⌉, as for one slice.
    const size = sliceSize(adapters);
    const answers: WritePayload[] = new Array<WritePayload>(inputs.length);
    let next = 0;
    let carried: { index: number; resolved: Resolved; key: string } | null = null;
    // More than one slice: what the batch leaves behind is collected while it runs.
    const reclaim = inputs.length > size ? heapReclaimer() : null;
    try {
      while (next < inputs.length || carried) {
        const slice: Slice = {
          at: [],
          planned: [],
          leaderOf: [],
          writes: new Map(),
          leaders: new Map(),
          count: 0,
        };
        const { at, planned, leaderOf, writes, leaders } = slice;
        // Identity goes first, one item after another, so that two items naming the same contact
        // resolve to the same gateway id.
        if (carried) {
          lead(slice, carried.resolved, carried.key, carried.index);
          carried = null;
        }
        while (next < inputs.length) {
          const index = next;
          next += 1;
          const v = this.#validate(inputs[index]!, pathOf(index), enabled);
          if (!v.ok) {
            answers[index] = rejected(v.errors);
            continue;
          }
          const record = (await this.#d.store.claim(identityKeysOf(v.value.patch), now)).record;
          const resolved: Resolved = { record, ...v.value };
          // One input alone has nothing to share a write with: no key to compare.
          const key =
            inputs.length === 1 ? '' : `${record.id}\u0000${JSON.stringify(resolved.options)}`;
          const first = leaders.get(key);
          const base = first === undefined ? undefined : (writes.get(first) ?? planned[first]!);
          const patch = base ? mergePatches(base.patch, resolved.patch) : null;
          if (first !== undefined && base && patch) {
            writes.set(first, { ...base, patch });
            leaderOf.push(first);
            at.push(index);
            planned.push(resolved);
          } else if (slice.count < size) {
            lead(slice, resolved, key, index);
          } else {
            // A new write past this slice's last: it opens the next slice.
            carried = { index, resolved, key };
            break;
          }
        }
        if (planned.length === 0) {
          continue;
        }
        // Queue every load of the slice in one tick so each provider's loader sees all of it; a
        // write alone in its request goes straight to the engine (nothing to batch it with).
        const alone = planned.length === 1 && inputs.length === 1;
        const loads = planned.map((p, i) =>
          leaderOf[i] === i
            ? Promise.all(
                adapters.map((a) => {
                  const item = this.#item(a, writes.get(i) ?? p, options);
                  return alone
                    ? writeAlone(a, scope, 'upsert', item)
                    : loadersFor(scope)(a).upsert.load(item);
                }),
              )
            : null,
        );
        const results = await Promise.all(planned.map((_, i) => loads[leaderOf[i]!] ?? null));
        const done = await this.#finish(
          planned,
          planned.map((p) => ({
            ok: true as const,
            value: { patch: p.patch, options: p.options },
          })),
          adapters,
          results,
          skippedOutcomes,
          { kind: 'upsert', options, scope },
        );
        done.forEach((payload, k) => {
          answers[at[k]!] = payload;
        });
        if (next < inputs.length || carried) {
          reclaim?.between();
        }
      }
    } finally {
      reclaim?.stop();
    }
    return answers;
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
      adapters.map((a) => writeAlone(a, scope, 'update', this.#item(a, planned, options))),
    );
    const [payload] = await this.#finish([planned], [v], adapters, [results], skippedOutcomes, {
      kind: 'update',
      options,
      scope,
    });
    return payload!;
  }

  /** One input of an upsert, validated and its pass-through checked with every enabled adapter. */
  #validate(input: RawContactInput, path: string, enabled: readonly ProviderAdapter[]) {
    return checkPassThrough(
      validateContactInput(input, path, {
        requireIdentity: true,
        jsonLimits: this.#d.jsonLimits,
      }),
      path,
      enabled,
    );
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
    /** `scope.log`: the request's logger, read only when something is logged (most writes log nothing). */
    write: { kind: OutboxKind; options: WriteOptions; scope?: RequestScope },
  ): Promise<WritePayload[]> {
    const now = this.#d.now().toISOString();
    const working = new Map<string, IdentityRecord>();
    const shared = new SharedPieces();
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
      // A copy `recordWritten` may change: it replaces `view` and sets links, never changes either
      // in place, so `p.record` (the view the write was planned on) stays as it was.
      const record = working.get(p.record.id) ?? { ...p.record, records: { ...p.record.records } };
      // The provider's view of the contact goes into the identity map below, not the payload.
      const outcomes = itemResults.map((r) => shared.outcome(r));
      const written: Array<{ provider: ProviderId; outcome: Outcome }> = [];
      for (let k = 0; k < itemResults.length; k += 1) {
        const r = itemResults[k]!;
        if (SUCCESS.has(r.status)) {
          written.push({ provider: adapters[k]!.id, outcome: r });
        }
      }
      if (written.length > 0) {
        // What a provider says it stored overrides what we sent.
        recordWritten(record, p.patch, written, now);
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
          (write.scope?.log ?? this.#d.logger).warn(
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
        // `outcomes` is this item's own list (made above).
        outcomes: skippedOutcomes.length > 0 ? outcomes.concat(skippedOutcomes) : outcomes,
      });
    }
    const touched = [...working.values()];
    await (touched.length === 1
      ? this.#d.store.save(touched[0]!)
      : Promise.all(touched.map((r) => this.#d.store.save(r))));
    if (this.#d.outbox && toQueue.length > 0) {
      // Stored before the answer: a QUEUED write survives a crash after it was reported.
      const stored = await this.#d.outbox.enqueue(
        toQueue.map((q) => q.entry),
        now,
      );
      stored.forEach((item, i) => {
        const { outcome } = toQueue[i]!;
        outcome.status = 'QUEUED';
        // Not `{ ...details, outboxId, … }`: see `contactView` (a hidden class per object).
        outcome.details = Object.assign({}, outcome.details, {
          outboxId: item.id,
          nextAttemptAt: item.nextAttemptAt,
        });
      });
    }
    return answers.map((a) =>
      'errors' in a
        ? rejected(a.errors)
        : // `a.record` is this item's own copy (made above), which nothing else holds.
          {
            contact: shared.view(this.#d.view(a.record, EMPTY_LIST, undefined, true)),
            outcomes: a.outcomes,
            errors: EMPTY_LIST,
          },
    );
  }
}
