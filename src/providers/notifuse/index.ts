import pLimit from 'p-limit';
import type { Dispatcher } from 'undici';
import type { HttpOptions, NotifuseConfig } from '../../config.js';
import { normaliseEmail } from '../../contacts/validation.js';
import { createHttpClient, type HttpRequest } from '../../http/client.js';
import type { CallPolicy } from '../../http/policy.js';
import type { toProviderErrorInfo } from '../../model/errors.js';
import type { WriteResult } from '../../model/outcome.js';
import { chunk } from '../align.js';
import { elapsed, failedResult, refusalOf, writeResult } from '../results.js';
import type { CallContext, ProviderAdapter, ReadKey, ReadResult, WriteItem } from '../types.js';
import { createNotifuseClient } from './client.js';
import {
  fromWireContact,
  NOTIFUSE_ACCEPTED_FIELDS,
  NOTIFUSE_CLEARABLE_FIELDS,
  toWireContact,
} from './mapping.js';
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

export interface NotifuseAdapterDeps {
  http: HttpOptions;
  policy: CallPolicy;
  dispatcher?: Dispatcher;
}

interface Job {
  item: WriteItem;
  contact: NotifuseWireContact;
  droppedFields: string[];
  clears: boolean;
  lists: string[];
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
    ...(deps.dispatcher ? { dispatcher: deps.dispatcher } : {}),
  });
  const client = createNotifuseClient(config, http);
  const batchSize = Math.min(config.batchSize, NOTIFUSE_MAX_BATCH);

  function prepare(item: WriteItem): Job | WriteResult {
    const mapped = toWireContact(item, config.customFieldMap);
    if (!mapped.ok) {
      return writeResult(mapped.status, {
        error: mapped.error,
        droppedFields: mapped.droppedFields,
        remoteId: item.remoteId,
      });
    }
    return {
      item,
      contact: mapped.contact,
      droppedFields: mapped.droppedFields,
      clears: mapped.clears,
      lists: item.options.notifuse?.subscribeToLists ?? [],
    };
  }

  /**
   * One contact alone: `contacts.upsert`, unless it asks for list subscriptions, which only the
   * import carries. An import cannot clear, so a contact that both clears and subscribes is upserted
   * and its subscriptions are reported as dropped.
   */
  function singleRequest(p: Job): {
    kind: 'upsert' | 'import';
    req: HttpRequest;
    droppedFields: string[];
  } {
    if (p.lists.length > 0 && !p.clears) {
      return {
        kind: 'import',
        req: client.importRequest({
          workspace_id: config.workspaceId,
          contacts: [p.contact],
          subscribe_to_lists: p.lists,
        }),
        droppedFields: p.droppedFields,
      };
    }
    return {
      kind: 'upsert',
      req: client.upsertRequest({ workspace_id: config.workspaceId, contact: p.contact }),
      droppedFields: p.lists.length > 0 ? [...p.droppedFields, LISTS_OPTION] : p.droppedFields,
    };
  }

  async function runSingle(p: Job, ctx: CallContext): Promise<WriteResult> {
    const { kind, droppedFields } = singleRequest(p);
    if (kind === 'import') {
      const [result] = await runImport([p], p.lists, ctx);
      return result!;
    }
    const start = performance.now();
    const outcome = await deps.policy.execute({ provider: 'NOTIFUSE', idempotent: true }, () =>
      client.upsert(
        { workspace_id: config.workspaceId, contact: p.contact },
        ctx.stats,
        ctx.signal,
      ),
    );
    const common = { attempts: outcome.attempts, durationMs: elapsed(start), droppedFields };
    if (!outcome.ok) {
      return failedResult(outcome.error.toInfo(), { ...common, remoteId: p.item.remoteId });
    }
    const body = outcome.value;
    const action = readAction(body.action);
    const returned = body.contact ? fromWireContact(body.contact, config.customFieldMap) : null;
    const remoteId = normaliseEmail(body.email ?? returned?.remoteId ?? p.contact.email);
    if (action === 'CREATED' || action === 'UPDATED') {
      return writeResult(action, { ...common, remoteId, contact: returned?.contact ?? null });
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

  async function runImport(
    group: readonly Job[],
    lists: string[],
    ctx: CallContext,
  ): Promise<WriteResult[]> {
    // De-duplicate by email: later items win field by field, every item gets the email's result.
    const byEmail = new Map<string, { contact: NotifuseWireContact; members: Job[] }>();
    for (const p of group) {
      const key = normaliseEmail(p.contact.email);
      const entry = byEmail.get(key);
      if (entry) {
        Object.assign(entry.contact, p.contact);
        entry.members.push(p);
      } else {
        byEmail.set(key, { contact: { ...p.contact }, members: [p] });
      }
    }
    const results = new Map<Job, WriteResult>();
    await Promise.all(
      chunk([...byEmail.entries()], batchSize).map(async (entries) => {
        const start = performance.now();
        const outcome = await deps.policy.execute({ provider: 'NOTIFUSE', idempotent: true }, () =>
          client.import(
            {
              workspace_id: config.workspaceId,
              contacts: entries.map(([, e]) => e.contact),
              ...(lists.length > 0 ? { subscribe_to_lists: lists } : {}),
            },
            ctx.stats,
            ctx.signal,
          ),
        );
        const durationMs = elapsed(start);
        const ops = new Map<string, ImportOperation>();
        const byIndex = new Map<number, ImportOperation>();
        if (outcome.ok) {
          for (const op of outcome.value.operations) {
            if (op.email) {
              ops.set(normaliseEmail(op.email), op);
            }
            const index = importErrorIndex(op);
            if (index !== null && index < entries.length) {
              byIndex.set(index, op);
            }
          }
        }
        for (const [position, [email, entry]] of entries.entries()) {
          for (const p of entry.members) {
            const common = {
              attempts: outcome.attempts,
              durationMs,
              droppedFields: p.droppedFields,
              details: { batchSize: entries.length },
            };
            if (!outcome.ok) {
              results.set(
                p,
                failedResult(outcome.error.toInfo(), { ...common, remoteId: p.item.remoteId }),
              );
              continue;
            }
            // An item Notifuse refused while parsing comes back with `email: ""` and is named
            // only by its index in the request (`invalid contact at index <i>`).
            const op = ops.get(email) ?? byIndex.get(position);
            const action = readAction(op?.action);
            if (action === 'CREATED' || action === 'UPDATED') {
              results.set(p, writeResult(action, { ...common, remoteId: email }));
            } else {
              results.set(
                p,
                failedResult(
                  op
                    ? {
                        code: /invalid contact/i.test(op.error ?? '')
                          ? 'BAD_REQUEST'
                          : 'UPSTREAM_HTTP_ERROR',
                        message: `Notifuse rejected the contact: ${op.error ?? 'no reason given'}${
                          /^invalid contact at index/i.test(op.error ?? '')
                            ? ' (Notifuse reports every item it cannot parse so; check the email address and the custom field types)'
                            : ''
                        }`,
                        httpStatus: 200,
                        retryable: !/invalid contact/i.test(op.error ?? ''),
                      }
                    : {
                        code: 'UPSTREAM_BAD_RESPONSE',
                        message: 'Notifuse import returned no result for this contact',
                        httpStatus: 200,
                        retryable: true,
                      },
                  { ...common, remoteId: p.item.remoteId },
                ),
              );
            }
          }
        }
      }),
    );
    return group.map(
      (p) =>
        results.get(p) ??
        failedResult({
          code: 'INTERNAL',
          message: 'Notifuse import lost an item',
          retryable: false,
        }),
    );
  }

  async function write(
    items: readonly WriteItem[],
    ctx: CallContext,
    forceSingle: boolean,
  ): Promise<WriteResult[]> {
    const prepared = items.map(prepare);
    const out = new Map<WriteItem, WriteResult>();
    const singles: Job[] = [];
    const groups = new Map<string, Job[]>();
    for (const p of prepared) {
      if (!('item' in p)) {
        continue;
      }
      if (forceSingle || items.length === 1 || p.clears) {
        singles.push(p);
      } else {
        const key = JSON.stringify([...p.lists].sort());
        const group = groups.get(key);
        if (group) {
          group.push(p);
        } else {
          groups.set(key, [p]);
        }
      }
    }
    const limit = pLimit(SINGLE_CONCURRENCY);
    await Promise.all([
      ...singles.map((p) =>
        limit(async () => {
          out.set(p.item, await runSingle(p, ctx));
        }),
      ),
      ...[...groups.values()].map(async (group) => {
        const results = await runImport(group, group[0]?.lists ?? [], ctx);
        group.forEach((p, i) => {
          out.set(p.item, results[i]!);
        });
      }),
    ]);
    return items.map((item, i) => {
      const p = prepared[i]!;
      return 'item' in p ? out.get(item)! : p;
    });
  }

  return {
    id: 'NOTIFUSE',
    baseUrl: http.baseUrl,
    capabilities: {
      maxBatchSize: batchSize,
      acceptedFields: NOTIFUSE_ACCEPTED_FIELDS,
      clearableFields: NOTIFUSE_CLEARABLE_FIELDS,
      readKeys: ['email', 'externalId'],
    },

    planWrite(item) {
      const p = prepare(item);
      if (!('item' in p)) {
        return refusalOf(p);
      }
      const { req, droppedFields } = singleRequest(p);
      return { ok: true, request: client.describe(req), droppedFields };
    },

    upsertMany(items, ctx) {
      return write(items, ctx, false);
    },

    // A linked contact is addressed by the email it is stored under (its remote id); single
    // upserts so that null clears.
    updateMany(items, ctx) {
      return write(items, ctx, true);
    },

    async readMany(keys: readonly ReadKey[], ctx) {
      const limit = pLimit(config.readConcurrency);
      return Promise.all(
        keys.map((key) =>
          limit(async (): Promise<ReadResult | null | ReturnType<typeof toProviderErrorInfo>> => {
            const by = key.by === 'externalId' ? 'externalId' : 'email';
            const outcome = await deps.policy.execute(
              { provider: 'NOTIFUSE', idempotent: true },
              () => client.get(by, key.value, ctx.stats, ctx.signal),
            );
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
