import pLimit from 'p-limit';
import type { Dispatcher } from 'undici';
import { createHttpClient, type HttpOptions, type HttpRequest } from '../../http/client.js';
import type { CallPolicy } from '../../http/policy.js';
import { normaliseEmail } from '../../model/contact.js';
import type { toProviderErrorInfo } from '../../model/errors.js';
import type { Outcome } from '../../model/outcome.js';
import {
  callsOf,
  createWriteEngine,
  type Entry,
  elapsed,
  type Job,
  outcomesOf,
} from '../engine.js';
import { withBodyPassThrough } from '../pass-through.js';
import type { CallContext, ProviderAdapter, ReadKey, ReadResult, WriteItem } from '../types.js';
import { createNotifuseClient } from './client.js';
import type { NotifuseConfig } from './config.js';
import {
  fromWireContact,
  NOTIFUSE_ACCEPTED_FIELDS,
  NOTIFUSE_CLEARABLE_FIELDS,
  type Plan,
  toWireContact,
} from './mapping.js';
import { notifuseValidators } from './openapi.js';
import { type ImportOperation, type NotifuseWireContact, readAction } from './wire.js';

/**
 * The request index an import operation names, from Notifuse's own messages: `invalid contact at
 * index <i>: …` (the item failed parsing; its `email` is `""`) and `failed to upsert contact at
 * index <i>: …` (its chunk failed in the database). `null` for any other operation.
 */
export function importErrorIndex(op: ImportOperation): number | null {
  const m = /^(?:invalid contact|failed to upsert contact) at index (\d{1,9})\b/.exec(
    op.error ?? '',
  );
  return m ? Number(m[1]) : null;
}

/** Notifuse writes an import in statements of 500 contacts; one request = one transaction. */
export const NOTIFUSE_MAX_BATCH = 500;
const SINGLE_CONCURRENCY = 8;
const LISTS_OPTION = 'providerOptions.notifuse.subscribeToLists';
const LIST_STATUSES_OPTION = 'providerOptions.notifuse.listStatuses';

export interface NotifuseAdapterDeps {
  http: HttpOptions;
  policy: CallPolicy;
  dispatcher?: Dispatcher;
}

/**
 * Notifuse: `contacts.upsert` for single writes and for anything that clears a field (the import
 * ignores null), `contacts.import` for batches (≤ 500 per request, de-duplicated by email, results
 * matched back by email since they come in no particular order), reads by email or external id.
 */
export function createNotifuseAdapter(
  config: NotifuseConfig,
  deps: NotifuseAdapterDeps,
): ProviderAdapter {
  const http = createHttpClient({
    provider: 'NOTIFUSE',
    baseUrl: config.url,
    http: deps.http,
    headers: () => ({ authorization: `Bearer ${config.apiKey.reveal()}` }),
    shown: { authorization: 'Bearer [redacted]' },
    ...(deps.dispatcher ? { dispatcher: deps.dispatcher } : {}),
  });
  const client = createNotifuseClient(config, http);
  const batchSize = Math.min(config.batchSize, NOTIFUSE_MAX_BATCH);

  const { writeResult, failedResult, failedAll } = outcomesOf('NOTIFUSE');
  const { call, timed } = callsOf(deps.policy, 'NOTIFUSE');
  const listsOf = (job: Job<Plan>) => job.item.options.notifuse?.subscribeToLists ?? [];
  const statusesOf = (item: WriteItem) => item.options.notifuse?.listStatuses ?? [];

  /** `contactLists.updateStatus` of each list status the item asks for, in its order. */
  function listStatusRequests(item: WriteItem, email: string) {
    return statusesOf(item).map(({ listId, status }) => ({
      listId,
      req: client.updateListStatusRequest({
        workspace_id: config.workspaceId,
        email,
        list_id: listId,
        status,
      }),
    }));
  }

  /**
   * `providerOptions.notifuse.listStatuses` once the contact is written (#15 item 9: Notifuse's
   * `ContactInput` has no list status, so no body pass-through can set one). A list the contact
   * is not in is dropped with its reason; a refused call fails the outcome (the contact was
   * written, the message says so), retryable as the answer says, since a repeat is harmless.
   */
  async function applyListStatuses(
    item: WriteItem,
    outcome: Outcome,
    ctx: CallContext,
  ): Promise<Outcome> {
    const email = outcome.remoteId;
    if (!email || (outcome.status !== 'CREATED' && outcome.status !== 'UPDATED')) {
      return outcome;
    }
    const start = performance.now();
    let attempts = outcome.attempts;
    const reasons: Record<string, string> = {};
    for (const { listId, req } of listStatusRequests(item, email)) {
      const sent = await call(() => client.updateListStatus(req, ctx.stats, ctx.signal));
      attempts += sent.attempts;
      if (!sent.ok) {
        const error = sent.error.toInfo();
        return failedResult(
          {
            ...error,
            message: `the contact was written, but its status in list ${listId} was not set: ${error.message}`,
          },
          {
            attempts,
            durationMs: outcome.durationMs + elapsed(start),
            remoteId: email,
            droppedFields: outcome.droppedFields,
          },
        );
      }
      if (!sent.value) {
        reasons[`${LIST_STATUSES_OPTION}.${listId}`] =
          `the contact is not in Notifuse list ${listId}: contactLists.updateStatus only changes an existing membership (add it with ${LISTS_OPTION} in the same write)`;
      }
    }
    const dropped = Object.keys(reasons);
    const previous = (outcome.details?.['droppedFieldReasons'] ?? {}) as Record<string, string>;
    return {
      ...outcome,
      attempts,
      durationMs: outcome.durationMs + elapsed(start),
      droppedFields: [...outcome.droppedFields, ...dropped],
      details:
        dropped.length > 0
          ? { ...outcome.details, droppedFieldReasons: { ...previous, ...reasons } }
          : outcome.details,
    };
  }

  /** The engine's writes, then each written item's list statuses (SINGLE_CONCURRENCY at a time). */
  function withListStatuses(
    write: (items: readonly WriteItem[], ctx: CallContext) => Promise<Outcome[]>,
  ) {
    return async (items: readonly WriteItem[], ctx: CallContext): Promise<Outcome[]> => {
      const outcomes = await write(items, ctx);
      if (!items.some((item) => statusesOf(item).length > 0)) {
        return outcomes;
      }
      const limit = pLimit(SINGLE_CONCURRENCY);
      return Promise.all(outcomes.map((o, i) => limit(() => applyListStatuses(items[i]!, o, ctx))));
    };
  }

  /**
   * One contact alone: `contacts.upsert`, unless it asks for list subscriptions, which only the
   * import carries. An import cannot clear, so a contact that both clears and subscribes is upserted
   * and its subscriptions are reported as dropped.
   */
  function singleRequest(job: Job<Plan>): {
    kind: 'upsert' | 'import';
    req: HttpRequest;
    droppedFields: string[];
  } {
    const lists = listsOf(job);
    if (lists.length > 0 && !job.plan.clears) {
      return {
        kind: 'import',
        req: importRequest([job.plan.contact], lists),
        droppedFields: job.plan.droppedFields,
      };
    }
    return {
      kind: 'upsert',
      req: client.upsertRequest({ workspace_id: config.workspaceId, contact: job.plan.contact }),
      droppedFields:
        lists.length > 0 ? [...job.plan.droppedFields, LISTS_OPTION] : job.plan.droppedFields,
    };
  }

  function importRequest(contacts: NotifuseWireContact[], lists: string[]): HttpRequest {
    return client.importRequest({
      workspace_id: config.workspaceId,
      contacts,
      ...(lists.length > 0 ? { subscribe_to_lists: lists } : {}),
    });
  }

  async function sendOne(job: Job<Plan>, ctx: CallContext): Promise<Outcome> {
    const { kind, req, droppedFields } = singleRequest(job);
    if (kind === 'import') {
      const [answer] = await sendImport([{ body: job.plan.contact, members: [job] }], ctx);
      return { ...answer!, droppedFields, remoteId: answer!.remoteId ?? job.item.remoteId };
    }
    const { answer: outcome, common: timing } = await timed(() =>
      client.upsert(req, ctx.stats, ctx.signal),
    );
    // Object.assign, not `{ ...timing, droppedFields }`: see `contactView` (a spread followed by
    // new keys costs a hidden class per object).
    const common = Object.assign({}, timing, { droppedFields });
    if (!outcome.ok) {
      return failedResult(
        outcome.error.toInfo(),
        Object.assign({}, common, { remoteId: job.item.remoteId }),
      );
    }
    const body = outcome.value;
    const action = readAction(body.action);
    const returned = body.contact ? fromWireContact(body.contact, config.customFieldMap) : null;
    const remoteId = normaliseEmail(body.email ?? returned?.remoteId ?? job.plan.contact.email);
    if (action === 'CREATED' || action === 'UPDATED') {
      return writeResult(
        action,
        Object.assign({}, common, { remoteId, contact: returned?.contact ?? null }),
      );
    }
    return failedResult(
      {
        code: action === 'ERROR' ? 'BAD_REQUEST' : 'UPSTREAM_BAD_RESPONSE',
        message: `Notifuse did not apply the contact: ${body.error ?? `action "${body.action ?? ''}"`}`,
        httpStatus: 200,
        retryable: action !== 'ERROR',
      },
      common,
    );
  }

  /** One `contacts.import` of contacts sharing their list subscriptions; an outcome per entry. */
  async function sendImport(
    entries: Array<Entry<Plan, NotifuseWireContact>>,
    ctx: CallContext,
  ): Promise<Outcome[]> {
    const lists = listsOf(entries[0]!.members[0]!);
    const req = importRequest(
      entries.map((e) => e.body),
      lists,
    );
    const { answer: outcome, common } = await timed(
      () => client.import(req, ctx.stats, ctx.signal),
      { batchSize: entries.length },
    );
    if (!outcome.ok) {
      return failedAll(entries, outcome.error.toInfo(), common);
    }
    const ops = new Map<string, ImportOperation>();
    const byIndex = new Map<number, ImportOperation>();
    for (const op of outcome.value.operations) {
      if (op.email) {
        ops.set(normaliseEmail(op.email), op);
      }
      const index = importErrorIndex(op);
      if (index !== null && index < entries.length) {
        byIndex.set(index, op);
      }
    }
    return entries.map((entry, position) => {
      const email = normaliseEmail(entry.body.email);
      // An item Notifuse refused while parsing comes back with `email: ""` and is named only by
      // its index in the request (`invalid contact at index <i>`).
      const op = ops.get(email) ?? byIndex.get(position);
      const action = readAction(op?.action);
      if (action === 'CREATED' || action === 'UPDATED') {
        return writeResult(action, Object.assign({}, common, { remoteId: email }));
      }
      if (!op) {
        return failedResult(
          {
            code: 'UPSTREAM_BAD_RESPONSE',
            message: 'Notifuse import returned no result for this contact',
            httpStatus: 200,
            retryable: true,
          },
          common,
        );
      }
      const invalid = /invalid contact/i.test(op.error ?? '');
      return failedResult(
        {
          code: invalid ? 'BAD_REQUEST' : 'UPSTREAM_HTTP_ERROR',
          message: `Notifuse rejected the contact: ${op.error ?? 'no reason given'}${
            /^invalid contact at index/i.test(op.error ?? '')
              ? ' (Notifuse reports every item it cannot parse so; check the email address and the custom field types)'
              : ''
          }`,
          httpStatus: 200,
          retryable: !invalid,
        },
        common,
      );
    });
  }

  /** `providerOptions.notifuse.passThrough` merged into the wire contact, checked with its OpenAPI. */
  function plan(item: WriteItem): ReturnType<typeof toWireContact> {
    return withBodyPassThrough(
      toWireContact(item, config.customFieldMap),
      item.options.notifuse?.passThrough,
      {
        field: 'providerOptions.notifuse.passThrough',
        key: 'contact',
        validate: notifuseValidators().contact,
      },
    );
  }

  const writes = createWriteEngine<Plan, NotifuseWireContact>({
    provider: 'NOTIFUSE',
    name: 'Notifuse',
    plan,
    contactKey: (job) => normaliseEmail(job.plan.contact.email),
    sendOne,
    // Updates and anything that clears go alone (`contacts.upsert`): the import ignores null.
    bulk: {
      groupKey: (job) => (job.plan.clears ? null : JSON.stringify([...listsOf(job)].sort())),
      body: (job) => ({ ...job.plan.contact }),
      merge: (a, b) => Object.assign(a, b),
      maxBatch: batchSize,
      send: sendImport,
    },
    concurrency: SINGLE_CONCURRENCY,
  });

  return {
    id: 'NOTIFUSE',
    name: 'Notifuse',
    baseUrl: http.baseUrl,
    capabilities: {
      maxBatchSize: batchSize,
      acceptedFields: NOTIFUSE_ACCEPTED_FIELDS,
      clearableFields: NOTIFUSE_CLEARABLE_FIELDS,
      readKeys: ['email', 'externalId'],
    },

    planWrite(item) {
      const planned = plan(item);
      if (!planned.ok) {
        return planned;
      }
      const { req, droppedFields } = singleRequest({ item, plan: planned });
      const statuses = listStatusRequests(item, normaliseEmail(planned.contact.email));
      return {
        ok: true,
        request: http.describe(req),
        droppedFields,
        ...(statuses.length > 0
          ? { details: { listStatusRequests: statuses.map((s) => http.describe(s.req)) } }
          : {}),
      };
    },

    upsertMany: withListStatuses(writes.upsertMany),
    updateMany: withListStatuses(writes.updateMany),

    async readMany(keys: readonly ReadKey[], ctx) {
      const limit = pLimit(config.readConcurrency);
      return Promise.all(
        keys.map((key) =>
          limit(async (): Promise<ReadResult | null | ReturnType<typeof toProviderErrorInfo>> => {
            const by = key.by === 'externalId' ? 'externalId' : 'email';
            const outcome = await call(() => client.get(by, key.value, ctx.stats, ctx.signal));
            if (!outcome.ok) {
              return outcome.error.toInfo();
            }
            return outcome.value === null
              ? null
              : fromWireContact(outcome.value, config.customFieldMap);
          }),
        ),
      );
    },

    close() {
      return http.close();
    },
  };
}
