import pLimit from 'p-limit';
import type { Dispatcher } from 'undici';
import { createHttpClient, type HttpOptions, type HttpRequest } from '../../http/client.js';
import type { CallPolicy } from '../../http/policy.js';
import { type ProviderErrorInfo, statusIsTransient } from '../../model/errors.js';
import type { Outcome, WritePlan } from '../../model/outcome.js';
import {
  callsOf,
  createWriteEngine,
  type Job as EngineJob,
  type Entry,
  elapsed,
  outcomesOf,
} from '../engine.js';
import { applyPassThrough, passThroughError, withPassThrough } from '../pass-through.js';
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
import type { DigitalOnboardingConfig } from './config.js';
import { gatewayKeyOf, idempotencyKeyFor } from './idempotency.js';
import {
  DO_ACCEPTED_FIELDS,
  DO_CLEARABLE_FIELDS,
  formatOverrideHeader,
  fromWireContact,
  matchKey,
  mergeBodies,
  type Plan,
  planUpdate,
  planUpsert,
} from './mapping.js';
import type { DoContactBody, DoErrorObject, DoWireContact } from './wire.js';

export type { DigitalOnboardingProviderOptions } from './mapping.js';
export { validateOverrideFlags } from './mapping.js';

const PROVIDER = 'DIGITAL_ONBOARDING' as const;
const NAME = 'Digital Onboarding';

export interface DigitalOnboardingAdapterDeps {
  http: HttpOptions;
  policy: CallPolicy;
  dispatcher?: Dispatcher;
}

type Job = EngineJob<Plan>;

/** Where each `X-Operator-Override` flag (DO-OVR's standard set) is set instead of the body. */
const FLAG_OPTIONS: Readonly<Record<string, string>> = {
  destructive: 'providerOptions.digitalOnboarding.destructive: true',
  bulk: 'nothing: every batch sends it',
  force: 'providerOptions.digitalOnboarding.overrides: ["force"]',
  bypass_validation:
    'providerOptions.digitalOnboarding.overrides: ["bypass_validation=email_format|phone_format"]',
  dry_run: 'WriteOptions.dryRun',
};
/** One contact of a bulk request: the items that named it, merged into one body. */
type BulkEntry = Entry<Plan, DoContactBody>;

function planOf(item: WriteItem, mode: 'single' | 'batch' | 'update'): WritePlan<Plan> {
  const input = {
    patch: item.patch,
    known: item.known,
    remoteId: item.remoteId,
    options: item.options,
  };
  const mapped =
    mode === 'update' ? planUpdate(input) : planUpsert(input, { batch: mode === 'batch' });
  const field = 'providerOptions.digitalOnboarding.passThrough';
  return withPassThrough(mapped, item.options.digitalOnboarding?.passThrough, (m, extra) => {
    // No OpenAPI document exists for this API: the merge rule is the only check, plus the
    // override flags, which DO-1 takes in the X-Operator-Override header, never in the body.
    const flag = Object.keys(extra).find((k) => k in FLAG_OPTIONS);
    if (flag !== undefined) {
      return {
        ok: false,
        error: passThroughError({
          field: `${field}.${flag}`,
          message: `${field}.${flag}: "${flag}" is an X-Operator-Override header flag, not a contact field; set ${FLAG_OPTIONS[flag]}`,
        }),
      };
    }
    const merged = applyPassThrough(m.body, extra, field);
    return merged.ok ? { ...m, body: merged.body } : merged;
  });
}

function errorInfo(errors: readonly DoErrorObject[], status: number | null): ProviderErrorInfo {
  const infos = errors.map(errorObjectInfo);
  const first = errors[0];
  const retryable = status !== null && statusIsTransient(status);
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
      // The partner token (added by withPartnerToken) as a dry run shows it.
      shown: { authorization: 'Bearer [redacted]' },
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
  const { writeResult, failedResult, failedAll } = outcomesOf(PROVIDER);
  const { call, timed } = callsOf(deps.policy, PROVIDER);

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

  function written(created: boolean, contact: DoWireContact, common: Partial<Outcome>): Outcome {
    const read = fromWireContact(contact);
    return writeResult(created ? 'CREATED' : 'UPDATED', {
      ...common,
      remoteId: read.remoteId,
      contact: read.contact,
      ...(read.lastSeenAt ? { details: { ...common.details, lastSeenAt: read.lastSeenAt } } : {}),
    });
  }

  async function runSingle(p: Job, ctx: CallContext, fallbackToPost: boolean): Promise<Outcome> {
    const start = performance.now();
    const req = singleRequest(p, false);
    const outcome = await call(() =>
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

  /** One bulk POST, an outcome per entry; entries its refusal blames fail alone, the rest go again. */
  async function sendBulk(
    entries: BulkEntry[],
    ctx: CallContext,
    resend = true,
  ): Promise<Outcome[]> {
    const bodies = entries.map((e) => e.body);
    const flags = entries[0]!.members[0]!.plan.overrides;
    const overrides = formatOverrideHeader({ ...flags, bulk: true, dryRun: false });
    const idempotencyKey = idempotencyKeyFor(
      entries.flatMap((e) => e.members.map((m) => gatewayKeyOf(m.item))),
      { method: 'POST', path: DO_PATHS.contacts, overrides, body: { items: bodies } },
    );
    const req = client.upsertRequest({ items: bodies }, { idempotencyKey, overrides });
    const { answer: outcome, common } = await timed(
      () => client.upsertBulk(req, ctx.stats, ctx.signal),
      { batchSize: entries.length },
    );
    if (!outcome.ok) {
      return failedAll(entries, outcome.error.toInfo(), common);
    }
    if (!outcome.value.ok) {
      const { res } = outcome.value;
      const blamed =
        res.status === 400 || res.status === 422
          ? blamedItems(responseErrors(res), bodies)
          : new Map<number, DoErrorObject[]>();
      const named = [...blamed.keys()].filter((i) => i >= 0);
      if (named.length === 0 || !resend) {
        return failedAll(entries, digitalOnboardingError(res).toInfo(), common);
      }
      const results: Outcome[] = entries.map((_, i) =>
        failedResult(errorInfo(blamed.get(i) ?? [], res.status), common),
      );
      const rest = entries.flatMap((e, i) => (blamed.has(i) ? [] : [{ e, i }]));
      if (rest.length > 0) {
        const again = await sendBulk(
          rest.map((r) => r.e),
          ctx,
          false,
        );
        rest.forEach(({ i }, k) => {
          const r = again[k]!;
          results[i] = { ...r, attempts: r.attempts + outcome.attempts };
        });
      }
      return results;
    }

    const answerStatus = outcome.value.status;
    const answers = interpretBulkAnswer(
      bodies,
      outcome.value.entries,
      entries.map((e) => e.members[0]?.item.remoteId ?? null),
    );
    return answers.map((answer) => {
      if (answer.kind === 'written') {
        return written(answer.created, answer.contact, common);
      }
      if (answer.kind === 'failed') {
        return failedResult(errorInfo(answer.errors, answer.status ?? answerStatus), common);
      }
      return failedResult(
        {
          code: 'UPSTREAM_BAD_RESPONSE',
          message: 'Digital Onboarding bulk answer reported nothing for this contact',
          httpStatus: answerStatus,
          retryable: true,
          details: null,
        },
        common,
      );
    });
  }

  const writes = createWriteEngine<Plan, DoContactBody>({
    provider: PROVIDER,
    name: NAME,
    plan: (item, { op, alone }) =>
      planOf(item, op === 'update' ? 'update' : alone ? 'single' : 'batch'),
    contactKey: (p) =>
      p.plan.method === 'POST'
        ? matchKey(p.plan.key.field, p.plan.key.value)
        : `id:${p.plan.remoteId}`,
    // An upsert of a linked contact that Digital Onboarding no longer has is created again.
    sendOne: (p, ctx, how) => runSingle(p, ctx, how.op === 'upsert'),
    bulk: {
      // Batches share one X-Operator-Override header, so items are grouped by their own flags.
      groupKey: (p) =>
        p.plan.method === 'POST' ? (formatOverrideHeader(p.plan.overrides) ?? '') : null,
      body: (p) => p.plan.body,
      merge: mergeBodies,
      maxBatch: batchSize,
      send: (entries, ctx) => sendBulk(entries, ctx),
    },
    concurrency,
  });

  async function readOne(
    key: ReadKey,
    ctx: CallContext,
  ): Promise<ReadResult | null | ProviderErrorInfo> {
    const outcome = await call(() =>
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
    name: NAME,
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
        request: http.describe(singleRequest({ item, plan: rest }, true)),
        droppedFields: plan.droppedFields,
      };
    },

    ...writes,

    readMany(keys, ctx) {
      const limit = pLimit(concurrency);
      return Promise.all(keys.map((key) => limit(() => readOne(key, ctx))));
    },

    close() {
      return http.close();
    },
  };
}
