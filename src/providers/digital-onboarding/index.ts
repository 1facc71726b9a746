import pLimit from 'p-limit';
import type { Dispatcher } from 'undici';
import type { DigitalOnboardingConfig, HttpOptions } from '../../config.js';
import { createHttpClient, type HttpRequest } from '../../http/client.js';
import type { CallPolicy } from '../../http/policy.js';
import { classifyStatus } from '../../http/status.js';
import type { ProviderErrorInfo } from '../../model/errors.js';
import type { WritePlan, WriteResult } from '../../model/outcome.js';
import { chunk } from '../align.js';
import { elapsed, failedResult, writeResult } from '../results.js';
import type { CallContext, ProviderAdapter, ReadKey, ReadResult, WriteItem } from '../types.js';
import { createDoTokenSource, withPartnerToken } from './auth.js';
import { blamedItems, interpretBulkAnswer, provesCreated } from './bulk.js';
import {
  createDigitalOnboardingClient,
  DO_PATHS,
  digitalOnboardingError,
  errorObjectInfo,
  responseErrors,
} from './client.js';
import { gatewayKeyOf, idempotencyKeyFor } from './idempotency.js';
import {
  DO_ACCEPTED_FIELDS,
  DO_CLEARABLE_FIELDS,
  formatOverrideHeader,
  fromWireContact,
  matchKey,
  mergeBodies,
  type OverrideFlags,
  type Plan,
  planUpdate,
  planUpsert,
} from './mapping.js';
import type { DoContactBody, DoErrorObject, DoWireContact } from './wire.js';

export type { DigitalOnboardingProviderOptions } from './mapping.js';
export { validateOverrideFlags } from './mapping.js';

const PROVIDER = 'DIGITAL_ONBOARDING' as const;

export interface DigitalOnboardingAdapterDeps {
  http: HttpOptions;
  policy: CallPolicy;
  dispatcher?: Dispatcher;
}

type Job<M extends Plan['method'] = Plan['method']> = {
  item: WriteItem;
  plan: Extract<Plan, { method: M }>;
};

/** One contact of a bulk request: the items that named it, merged into one body. */
interface BulkEntry {
  body: DoContactBody;
  members: Array<Job<'POST'>>;
}

function planOf(item: WriteItem, mode: 'single' | 'batch' | 'update'): WritePlan<Plan> {
  const input = {
    patch: item.patch,
    known: item.known,
    remoteId: item.remoteId,
    options: item.options,
  };
  return mode === 'update' ? planUpdate(input) : planUpsert(input, { batch: mode === 'batch' });
}

function errorInfo(errors: readonly DoErrorObject[], status: number | null): ProviderErrorInfo {
  const infos = errors.map(errorObjectInfo);
  const first = errors[0];
  const retryable = status !== null && classifyStatus(status).retryable;
  return {
    code: first?.code || 'BAD_REQUEST',
    message: `Digital Onboarding refused the contact${first?.code ? ` (${first.code})` : ''}: ${
      infos
        .map((i) => i.text)
        .filter((t) => t !== '')
        .join('; ') || 'no reason given'
    }`,
    httpStatus: status,
    retryable,
    details: { errors: infos.map((i) => i.details) },
  };
}

/**
 * Digital Onboarding partner API v2. Upserts go to `POST /v2/partner/contacts`: one object for a
 * single contact, `{items}` chunked at `batchSize` with `X-Operator-Override: bulk` for batches,
 * results matched back by `unique_id`/email. Linked contacts are updated with
 * `PATCH /v2/partner/contacts/{id}` by their UUID. Every write carries an `Idempotency-Key`
 * (see `idempotency.ts`), the same on every retry of the call. Bearer partner token on every call.
 */
export function createDigitalOnboardingAdapter(
  config: DigitalOnboardingConfig,
  deps: DigitalOnboardingAdapterDeps,
): ProviderAdapter {
  const http = withPartnerToken(
    createHttpClient({
      provider: PROVIDER,
      baseUrl: config.url,
      http: deps.http,
      ...(deps.dispatcher ? { dispatcher: deps.dispatcher } : {}),
    }),
    createDoTokenSource(config, {
      http: deps.http,
      ...(deps.dispatcher ? { dispatcher: deps.dispatcher } : {}),
    }),
  );
  const client = createDigitalOnboardingClient(http);
  const batchSize = Math.max(1, config.batchSize);
  const concurrency = Math.max(1, config.concurrency);

  /** The request of one single write, its Idempotency-Key fixed before any attempt. */
  function singleRequest(p: Job, dryRun: boolean): HttpRequest {
    const overrides = formatOverrideHeader({ ...p.plan.overrides, dryRun });
    const path = p.plan.method === 'POST' ? DO_PATHS.contacts : DO_PATHS.contact(p.plan.remoteId);
    const idempotencyKey = idempotencyKeyFor([gatewayKeyOf(p.item)], {
      method: p.plan.method,
      path,
      overrides,
      body: p.plan.body,
    });
    return p.plan.method === 'POST'
      ? client.upsertRequest(p.plan.body, { idempotencyKey, overrides })
      : client.patchRequest(p.plan.remoteId, p.plan.body, { idempotencyKey, overrides });
  }

  function written(
    created: boolean,
    contact: DoWireContact,
    common: Partial<WriteResult>,
  ): WriteResult {
    const read = fromWireContact(contact);
    return writeResult(created ? 'CREATED' : 'UPDATED', {
      ...common,
      remoteId: read.remoteId,
      contact: read.contact,
      ...(read.lastSeenAt ? { details: { ...common.details, lastSeenAt: read.lastSeenAt } } : {}),
    });
  }

  async function runSingle(
    p: Job,
    ctx: CallContext,
    fallbackToPost: boolean,
  ): Promise<WriteResult> {
    const start = performance.now();
    const req = singleRequest(p, false);
    const outcome = await deps.policy.execute({ provider: PROVIDER, idempotent: true }, () =>
      p.plan.method === 'POST'
        ? client
            .upsertOne(req, ctx.stats, ctx.signal)
            .then((contact) => ({ created: provesCreated(contact, p.item.remoteId), contact }))
        : client.patch(req, ctx.stats, ctx.signal).then((contact) => ({ created: false, contact })),
    );
    const common = {
      attempts: outcome.attempts,
      durationMs: elapsed(start),
      droppedFields: p.plan.droppedFields,
    };
    if (outcome.ok) {
      return written(outcome.value.created, outcome.value.contact, common);
    }
    // An upsert of a linked contact that Digital Onboarding no longer has: create it again.
    if (fallbackToPost && p.plan.method === 'PATCH' && outcome.error.httpStatus === 404) {
      const again = planOf({ ...p.item, remoteId: null }, 'single');
      if (again.ok && again.method === 'POST') {
        const { ok: _ok, ...plan } = again;
        const retried = await runSingle({ item: p.item, plan }, ctx, false);
        return {
          ...retried,
          attempts: retried.attempts + outcome.attempts,
          durationMs: elapsed(start),
        };
      }
    }
    return failedResult(outcome.error.toInfo(), { ...common, remoteId: p.item.remoteId });
  }

  /** One bulk POST; items its refusal blames fail alone and the rest are sent once more. */
  async function runBulk(
    entries: BulkEntry[],
    flags: OverrideFlags,
    ctx: CallContext,
    resend: boolean,
  ): Promise<Map<Job<'POST'>, WriteResult>> {
    const start = performance.now();
    const results = new Map<Job<'POST'>, WriteResult>();
    const bodies = entries.map((e) => e.body);
    const overrides = formatOverrideHeader({ ...flags, bulk: true, dryRun: false });
    const idempotencyKey = idempotencyKeyFor(
      entries.flatMap((e) => e.members.map((m) => gatewayKeyOf(m.item))),
      { method: 'POST', path: DO_PATHS.contacts, overrides, body: { items: bodies } },
    );
    const req = client.upsertRequest({ items: bodies }, { idempotencyKey, overrides });
    const outcome = await deps.policy.execute({ provider: PROVIDER, idempotent: true }, () =>
      client.upsertBulk(req, ctx.stats, ctx.signal),
    );
    const durationMs = elapsed(start);
    const common = (m: Job<'POST'>, e: BulkEntry) => ({
      attempts: outcome.attempts,
      durationMs,
      droppedFields: m.plan.droppedFields,
      details: {
        batchSize: entries.length,
        ...(e.members.length > 1 ? { mergedWith: e.members.length - 1 } : {}),
      },
    });
    const failAll = (list: BulkEntry[], error: ProviderErrorInfo) => {
      for (const e of list) {
        for (const m of e.members) {
          results.set(m, failedResult(error, { ...common(m, e), remoteId: m.item.remoteId }));
        }
      }
    };

    if (!outcome.ok) {
      failAll(entries, outcome.error.toInfo());
      return results;
    }
    if (!outcome.value.ok) {
      const { res } = outcome.value;
      const whole = digitalOnboardingError(res);
      const blamed =
        res.status === 400 || res.status === 422
          ? blamedItems(responseErrors(res), bodies)
          : new Map<number, DoErrorObject[]>();
      const named = [...blamed.keys()].filter((i) => i >= 0);
      if (named.length === 0 || !resend) {
        failAll(entries, whole.toInfo());
        return results;
      }
      for (const i of named) {
        failAll([entries[i]!], errorInfo(blamed.get(i)!, res.status));
      }
      const rest = entries.filter((_, i) => !blamed.has(i));
      if (rest.length > 0) {
        const again = await runBulk(rest, flags, ctx, false);
        for (const [m, r] of again) {
          results.set(m, { ...r, attempts: r.attempts + outcome.attempts });
        }
      }
      return results;
    }

    const answerStatus = outcome.value.status;
    const answers = interpretBulkAnswer(
      bodies,
      outcome.value.entries,
      entries.map((e) => e.members[0]?.item.remoteId ?? null),
    );
    entries.forEach((e, i) => {
      const answer = answers[i]!;
      for (const m of e.members) {
        const c = common(m, e);
        if (answer.kind === 'written') {
          results.set(m, written(answer.created, answer.contact, c));
        } else if (answer.kind === 'failed') {
          results.set(
            m,
            failedResult(errorInfo(answer.errors, answer.status ?? answerStatus), {
              ...c,
              remoteId: m.item.remoteId,
            }),
          );
        } else {
          results.set(
            m,
            failedResult(
              {
                code: 'UPSTREAM_BAD_RESPONSE',
                message: 'Digital Onboarding bulk answer reported nothing for this contact',
                httpStatus: answerStatus,
                retryable: true,
                details: null,
              },
              { ...c, remoteId: m.item.remoteId },
            ),
          );
        }
      }
    });
    return results;
  }

  /** Bulk entries of one override group: one per upsert key (duplicates merged), in first order. */
  function toEntries(group: ReadonlyArray<Job<'POST'>>): BulkEntry[] {
    const byKey = new Map<string, BulkEntry>();
    for (const p of group) {
      const key = matchKey(p.plan.key.field, p.plan.key.value);
      const entry = byKey.get(key);
      if (entry) {
        entry.body = mergeBodies(entry.body, p.plan.body);
        entry.members.push(p);
      } else {
        byKey.set(key, { body: p.plan.body, members: [p] });
      }
    }
    return [...byKey.values()];
  }

  async function write(
    items: readonly WriteItem[],
    ctx: CallContext,
    mode: 'upsert' | 'update',
  ): Promise<WriteResult[]> {
    const alone = items.length === 1;
    const planned = items.map((item) =>
      planOf(item, mode === 'update' ? 'update' : alone ? 'single' : 'batch'),
    );
    const out = new Map<WriteItem, WriteResult>();
    const singles: Job[] = [];
    const posts: Array<Job<'POST'>> = [];
    planned.forEach((plan, i) => {
      const item = items[i]!;
      if (!plan.ok) {
        out.set(
          item,
          writeResult(plan.status, {
            error: plan.error,
            droppedFields: plan.droppedFields,
            remoteId: item.remoteId,
          }),
        );
        return;
      }
      const { ok: _ok, ...rest } = plan;
      if (rest.method === 'POST' && !alone) {
        posts.push({ item, plan: rest });
      } else {
        singles.push({ item, plan: rest });
      }
    });
    // Batches share one X-Operator-Override header, so items are grouped by their own flags.
    const groups = new Map<string, { flags: OverrideFlags; members: Array<Job<'POST'>> }>();
    for (const p of posts) {
      const key = formatOverrideHeader(p.plan.overrides) ?? '';
      const group = groups.get(key) ?? { flags: p.plan.overrides, members: [] };
      group.members.push(p);
      groups.set(key, group);
    }
    const limit = pLimit(concurrency);
    await Promise.all([
      ...singles.map((p) =>
        limit(async () => {
          out.set(p.item, await runSingle(p, ctx, mode === 'upsert'));
        }),
      ),
      ...[...groups.values()].flatMap(({ flags, members }) =>
        chunk(toEntries(members), batchSize).map((entries) =>
          limit(async () => {
            for (const [m, r] of await runBulk(entries, flags, ctx, true)) {
              out.set(m.item, r);
            }
          }),
        ),
      ),
    ]);
    return items.map(
      (item) =>
        out.get(item) ??
        failedResult({
          code: 'INTERNAL',
          message: 'Digital Onboarding write lost an item',
          retryable: false,
        }),
    );
  }

  async function readOne(
    key: ReadKey,
    ctx: CallContext,
  ): Promise<ReadResult | null | ProviderErrorInfo> {
    const outcome = await deps.policy.execute({ provider: PROVIDER, idempotent: true }, () =>
      key.by === 'remoteId'
        ? client.get(key.value, ctx.stats, ctx.signal)
        : client.find(
            key.by === 'externalId' ? 'unique_id' : 'email',
            key.value,
            ctx.stats,
            ctx.signal,
          ),
    );
    if (!outcome.ok) {
      return outcome.error.toInfo();
    }
    if (outcome.value === null) {
      return null;
    }
    const { remoteId, contact, createdAt, updatedAt } = fromWireContact(outcome.value);
    return { remoteId, contact, createdAt, updatedAt };
  }

  return {
    id: PROVIDER,
    baseUrl: http.baseUrl,
    capabilities: {
      maxBatchSize: batchSize,
      acceptedFields: DO_ACCEPTED_FIELDS,
      clearableFields: DO_CLEARABLE_FIELDS,
      readKeys: ['email', 'externalId'],
    },

    /**
     * The exact request a single write of this item sends, with `X-Operator-Override: dry_run`
     * added (Digital Onboarding's own dry run) and the token shown as `Bearer [redacted]`. The
     * Idempotency-Key differs from the real write's (the flags are part of its derivation).
     */
    planWrite(item) {
      const plan = planOf(item, 'single');
      if (!plan.ok) {
        return plan;
      }
      const { ok: _ok, ...rest } = plan;
      return {
        ok: true,
        request: client.describe(singleRequest({ item, plan: rest }, true)),
        droppedFields: plan.droppedFields,
      };
    },

    upsertMany(items, ctx) {
      return write(items, ctx, 'upsert');
    },

    updateMany(items, ctx) {
      return write(items, ctx, 'update');
    },

    readMany(keys, ctx) {
      const limit = pLimit(concurrency);
      return Promise.all(keys.map((key) => limit(() => readOne(key, ctx))));
    },

    close() {
      return http.close();
    },
  };
}
