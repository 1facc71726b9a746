import { setTimeout as sleep } from 'node:timers/promises';
import pLimit from 'p-limit';
import type { Dispatcher } from 'undici';
import type { DotdigitalConfig, HttpOptions } from '../../config.js';
import { createHttpClient } from '../../http/client.js';
import type { CallPolicy } from '../../http/policy.js';
import type { ProviderErrorInfo } from '../../model/errors.js';
import type { WriteResult } from '../../model/outcome.js';
import { chunk } from '../align.js';
import { elapsed, failedResult, prepareWrite, refusalOf, writeResult } from '../results.js';
import type { CallContext, ProviderAdapter, ReadKey, WriteItem } from '../types.js';
import { createDotdigitalClient } from './client.js';
import { createDataFieldCache } from './data-fields.js';
import {
  dotdigitalFields,
  dropDetails,
  fromWireContact,
  type Lookup,
  matchKey,
  mergeImportContacts,
  type Plan,
  resolveDataFieldMap,
  toImportContact,
  toImportMergeOption,
  toQueryMergeOption,
  toWireContact,
} from './mapping.js';
import {
  type ImportContact,
  type ImportContactReference,
  type ImportFailure,
  type ImportStatus,
  readImportState,
} from './wire.js';

/** Longest pause between two polls of an import. */
export const IMPORT_POLL_MAX_INTERVAL_MS = 5_000;

export interface DotdigitalAdapterDeps {
  http: HttpOptions;
  policy: CallPolicy;
  dispatcher?: Dispatcher;
}

interface Job {
  item: WriteItem;
  plan: Plan;
}

/**
 * Dotdigital API v3: `PATCH /contacts/v3/{identifier}/{value}` for a single write (201 created,
 * 200 updated) and for updates by contactId; `PUT /contacts/v3/import` for batches, polled until
 * finished (or `importMaxWaitMs`, after which its contacts are QUEUED), results matched back by
 * identifier; `GET /contacts/v3/{identifier}/{value}` for reads. HTTP Basic on every call.
 */
export function createDotdigitalAdapter(
  config: DotdigitalConfig,
  deps: DotdigitalAdapterDeps,
): ProviderAdapter {
  const http = createHttpClient({
    provider: 'DOTDIGITAL',
    baseUrl: config.url,
    http: deps.http,
    headers: () => ({
      authorization: `Basic ${Buffer.from(`${config.username}:${config.password.reveal()}`).toString('base64')}`,
    }),
    ...(deps.dispatcher ? { dispatcher: deps.dispatcher } : {}),
  });
  const client = createDotdigitalClient(http);
  const map = resolveDataFieldMap(config.dataFieldMap);
  const fields = dotdigitalFields(map);
  const batchSize = Math.max(1, config.batchSize);
  const concurrency = Math.max(1, config.concurrency);

  const dataFields = createDataFieldCache({
    client,
    policy: deps.policy,
    map,
    ttlMs: config.dataFieldsTtlMs ?? 300_000,
    create: config.createDataFields ?? false,
  });

  function prepare(item: WriteItem): Job | WriteResult {
    const mapped = toWireContact(item, map, dataFields.check);
    const prepared = prepareWrite(item, mapped);
    if (!mapped.ok && 'status' in prepared) {
      prepared.details = dropDetails(mapped.droppedFieldReasons);
    }
    return prepared;
  }

  /** Outcome details: the reasons of the drops, then what the call adds (`importId` …). */
  function detailsOf(p: Job, extra: Record<string, unknown> = {}) {
    const details = { ...extra, ...dropDetails(p.plan.droppedFieldReasons) };
    return Object.keys(details).length > 0 ? details : null;
  }

  function singleRequest(plan: Plan) {
    return client.patchRequest(plan.lookup, toQueryMergeOption(plan.mergeOption), plan.body);
  }

  async function runSingle(p: Job, ctx: CallContext): Promise<WriteResult> {
    const start = performance.now();
    const outcome = await deps.policy.execute({ provider: 'DOTDIGITAL', idempotent: true }, () =>
      client.patch(singleRequest(p.plan), ctx.stats, ctx.signal),
    );
    const common = {
      attempts: outcome.attempts,
      durationMs: elapsed(start),
      droppedFields: p.plan.droppedFields,
      details: detailsOf(p),
    };
    if (!outcome.ok) {
      return failedResult(outcome.error.toInfo(), { ...common, remoteId: p.item.remoteId });
    }
    const read = fromWireContact(outcome.value.contact, map);
    return writeResult(outcome.value.created ? 'CREATED' : 'UPDATED', {
      ...common,
      remoteId: read.remoteId,
      contact: read.contact,
    });
  }

  /** Where an import's answer says a contact went, by every identifier it names. */
  function indexImport(status: ImportStatus) {
    const results = new Map<string, { kind: 'CREATED' | 'UPDATED'; ref: ImportContactReference }>();
    const failures = new Map<string, ImportFailure>();
    const keysOf = (ids: Record<string, unknown> | null | undefined, contactId?: unknown) => {
      const keys: string[] = [];
      for (const [name, value] of Object.entries(ids ?? {})) {
        if (typeof value === 'string' || typeof value === 'number') {
          keys.push(matchKey(name, value));
        }
      }
      if (typeof contactId === 'number') {
        keys.push(matchKey('contactId', contactId));
      }
      return keys;
    };
    for (const [kind, refs] of [
      ['CREATED', status.created],
      ['UPDATED', status.updated],
    ] as const) {
      for (const ref of refs ?? []) {
        for (const key of keysOf(ref.identifiers, ref.contactId)) {
          results.set(key, { kind, ref });
        }
      }
    }
    for (const failure of status.failures ?? []) {
      // The identifier it was matched by first, so that a shared secondary one cannot mislead.
      const match = failure.matchIdentifier ?? '';
      const primary = match === 'contactId' ? failure.contactId : failure.identifiers?.[match];
      const keys = keysOf(failure.identifiers, failure.contactId);
      if (typeof primary === 'string' || typeof primary === 'number') {
        keys.unshift(matchKey(match, primary));
      }
      for (const key of keys) {
        if (!failures.has(key)) {
          failures.set(key, failure);
        }
      }
    }
    return { results, failures };
  }

  function failureInfo(failure: ImportFailure): ProviderErrorInfo {
    const list = (failure.failures ?? []).map((f) => ({
      code: f.failureCode ?? 'unknown',
      description: f.description ?? '',
    }));
    const first = list[0];
    return {
      code: first?.code ?? 'UPSTREAM_HTTP_ERROR',
      message: `Dotdigital did not import the contact: ${
        list.map((f) => (f.description ? `${f.code} (${f.description})` : f.code)).join('; ') ||
        'no reason given'
      }`,
      httpStatus: 200,
      retryable: false,
      details: { failures: list },
    };
  }

  /** Polls with backoff until the import ends or `importMaxWaitMs` is spent; null = still running. */
  async function waitForImport(
    importId: string,
    ctx: CallContext,
  ): Promise<{ status: ImportStatus | null; lastError: ProviderErrorInfo | null }> {
    const deadline = performance.now() + config.importMaxWaitMs;
    let delay = Math.max(1, config.importPollIntervalMs);
    let lastError: ProviderErrorInfo | null = null;
    for (;;) {
      const remaining = deadline - performance.now();
      if (remaining <= 0 || ctx.signal?.aborted) {
        return { status: null, lastError };
      }
      try {
        await sleep(
          Math.min(delay, remaining),
          undefined,
          ctx.signal ? { signal: ctx.signal } : {},
        );
      } catch {
        return { status: null, lastError };
      }
      delay = Math.min(delay * 2, IMPORT_POLL_MAX_INTERVAL_MS);
      const outcome = await deps.policy.execute({ provider: 'DOTDIGITAL', idempotent: true }, () =>
        client.importStatus(importId, ctx.stats, ctx.signal),
      );
      if (!outcome.ok) {
        lastError = outcome.error.toInfo();
        if (!lastError.retryable) {
          return { status: null, lastError };
        }
        continue;
      }
      if (readImportState(outcome.value.status) !== 'RUNNING') {
        return { status: outcome.value, lastError: null };
      }
    }
  }

  /** One `PUT /contacts/v3/import` of contacts sharing a merge option, then its outcome per item. */
  async function runImport(group: readonly Job[], ctx: CallContext): Promise<WriteResult[]> {
    const start = performance.now();
    // One entry per contact key: Dotdigital fails every copy of a duplicate identifier.
    const entries = new Map<string, { contact: ImportContact; members: Job[] }>();
    for (const p of group) {
      const key = matchKey(p.plan.lookup.identifier, p.plan.lookup.value);
      const contact = toImportContact(p.plan);
      const entry = entries.get(key);
      if (entry) {
        entry.contact = mergeImportContacts(entry.contact, contact, map);
        entry.members.push(p);
      } else {
        entries.set(key, { contact, members: [p] });
      }
    }
    const mergeOption = toImportMergeOption(group[0]?.plan.mergeOption);
    const body = {
      ...(mergeOption ? { mergeOption } : {}),
      contacts: [...entries.values()].map((e) => e.contact),
    };
    const started = await deps.policy.execute({ provider: 'DOTDIGITAL', idempotent: true }, () =>
      client.startImport(body, ctx.stats, ctx.signal),
    );
    const attempts = started.attempts;
    if (!started.ok) {
      const error = started.error.toInfo();
      const durationMs = elapsed(start);
      return group.map((p) =>
        failedResult(error, {
          attempts,
          durationMs,
          droppedFields: p.plan.droppedFields,
          details: detailsOf(p),
          remoteId: p.item.remoteId,
        }),
      );
    }
    const importId = started.value;
    const { status, lastError } = await waitForImport(importId, ctx);
    const durationMs = elapsed(start);
    const common = (p: Job) => ({ attempts, durationMs, droppedFields: p.plan.droppedFields });
    const out = importOutcomes(importId, entries, status, lastError, common);
    return group.map(
      (p) =>
        out.get(p) ??
        failedResult({
          code: 'INTERNAL',
          message: 'Dotdigital import lost an item',
          retryable: false,
        }),
    );
  }

  /**
   * Each entry's outcome from an import's status: QUEUED while it runs (`status` null), else what
   * its report says of the contact (created, updated, or its failures, e.g. globallySuppressed).
   */
  function importOutcomes(
    importId: string,
    entries: ReadonlyMap<string, { members: Job[] }>,
    status: ImportStatus | null,
    lastError: ProviderErrorInfo | null,
    common: (p: Job) => { attempts: number; durationMs: number; droppedFields: string[] },
  ): Map<Job, WriteResult> {
    const out = new Map<Job, WriteResult>();
    if (status === null) {
      for (const entry of entries.values()) {
        for (const p of entry.members) {
          out.set(
            p,
            writeResult('QUEUED', {
              ...common(p),
              remoteId: p.item.remoteId,
              details: detailsOf(p, { importId }),
              error: lastError,
            }),
          );
        }
      }
      return out;
    }
    const state = readImportState(status.status);
    const { results, failures } = indexImport(status);
    for (const [key, entry] of entries) {
      const hit = results.get(key);
      const failure = failures.get(key);
      for (const p of entry.members) {
        const details = detailsOf(p, {
          importId,
          ...(entry.members.length > 1 ? { mergedWith: entry.members.length - 1 } : {}),
        });
        if (hit) {
          // Written; a data set of it (lists, preferences, consent) may still have failed.
          out.set(
            p,
            writeResult(hit.kind, {
              ...common(p),
              remoteId: String(hit.ref.contactId),
              details,
              error: failure ? failureInfo(failure) : null,
            }),
          );
        } else if (failure) {
          out.set(
            p,
            failedResult(failureInfo(failure), {
              ...common(p),
              remoteId: p.item.remoteId,
              details,
            }),
          );
        } else {
          out.set(
            p,
            failedResult(
              state === 'FAILED'
                ? {
                    code: status.status,
                    message: `Dotdigital import ${importId} ended with status ${status.status}`,
                    httpStatus: 200,
                    retryable: status.status.toLowerCase() === 'failed',
                    details: null,
                  }
                : {
                    code: 'UPSTREAM_BAD_RESPONSE',
                    message: `Dotdigital import ${importId} reported nothing for this contact`,
                    httpStatus: 200,
                    retryable: true,
                    details: null,
                  },
              { ...common(p), remoteId: p.item.remoteId, details },
            ),
          );
        }
      }
    }
    return out;
  }

  /**
   * Re-checks imports the gateway answered QUEUED (`importMaxWaitMs` ran out): one status call
   * per import, its contacts matched back by identifier as when the import was waited for.
   */
  async function pollImports(
    items: ReadonlyArray<{ item: WriteItem; importId: string }>,
    ctx: CallContext,
  ): Promise<WriteResult[]> {
    const byImport = new Map<string, Map<string, { members: Job[] }>>();
    const prepared = items.map(({ item, importId }) => {
      const p = prepare(item);
      if ('item' in p) {
        const entries = byImport.get(importId) ?? new Map<string, { members: Job[] }>();
        byImport.set(importId, entries);
        const key = matchKey(p.plan.lookup.identifier, p.plan.lookup.value);
        const entry = entries.get(key);
        if (entry) {
          entry.members.push(p);
        } else {
          entries.set(key, { members: [p] });
        }
      }
      return p;
    });
    const out = new Map<Job, WriteResult>();
    await Promise.all(
      [...byImport].map(async ([importId, entries]) => {
        const start = performance.now();
        const polled = await deps.policy.execute({ provider: 'DOTDIGITAL', idempotent: true }, () =>
          client.importStatus(importId, ctx.stats, ctx.signal),
        );
        const running = polled.ok && readImportState(polled.value.status) === 'RUNNING';
        const common = (p: Job) => ({
          attempts: polled.attempts,
          durationMs: elapsed(start),
          droppedFields: p.plan.droppedFields,
        });
        if (!polled.ok) {
          const error = polled.error.toInfo();
          for (const entry of entries.values()) {
            for (const p of entry.members) {
              out.set(
                p,
                failedResult(error, {
                  ...common(p),
                  remoteId: p.item.remoteId,
                  details: { importId },
                }),
              );
            }
          }
          return;
        }
        for (const [p, r] of importOutcomes(
          importId,
          entries,
          running ? null : polled.value,
          null,
          common,
        )) {
          // The import has ended: polling it again cannot change what it says.
          out.set(
            p,
            r.status === 'FAILED' && r.error?.retryable
              ? { ...r, error: { ...r.error, retryable: false } }
              : r,
          );
        }
      }),
    );
    return prepared.map(
      (p) =>
        ('item' in p ? out.get(p) : p) ??
        failedResult({
          code: 'INTERNAL',
          message: 'Dotdigital poll lost an item',
          retryable: false,
        }),
    );
  }

  async function write(
    items: readonly WriteItem[],
    ctx: CallContext,
    forceSingle: boolean,
  ): Promise<WriteResult[]> {
    // The account's data fields first (cached), and those to create (DOTDIGITAL_CREATE_DATA_FIELDS).
    await dataFields.load(ctx);
    await dataFields.createMissing((check) => {
      for (const item of items) {
        toWireContact(item, map, check);
      }
    }, ctx);
    const prepared = items.map(prepare);
    const out = new Map<WriteItem, WriteResult>();
    const groups = new Map<string, Job[]>();
    const singles: Job[] = [];
    for (const p of prepared) {
      if (!('item' in p)) {
        continue;
      }
      if (forceSingle || items.length === 1) {
        singles.push(p);
      } else {
        const key = p.plan.mergeOption ?? '';
        const group = groups.get(key);
        if (group) {
          group.push(p);
        } else {
          groups.set(key, [p]);
        }
      }
    }
    const batches: Job[][] = [];
    for (const group of groups.values()) {
      // A group of one gains nothing from an import (one call plus polls): PATCH it.
      if (group.length === 1) {
        singles.push(group[0]!);
      } else {
        batches.push(...chunk(group, batchSize));
      }
    }
    const limit = pLimit(concurrency);
    await Promise.all([
      ...singles.map((p) =>
        limit(async () => {
          out.set(p.item, await runSingle(p, ctx));
        }),
      ),
      ...batches.map(async (batch) => {
        const results = await runImport(batch, ctx);
        batch.forEach((p, i) => {
          out.set(p.item, results[i]!);
        });
      }),
    ]);
    return items.map((item, i) => {
      const p = prepared[i]!;
      return 'item' in p ? out.get(item)! : p;
    });
  }

  async function readOne(key: ReadKey, ctx: CallContext) {
    let lookup: Lookup;
    if (key.by === 'remoteId') {
      lookup = { identifier: 'contactId', value: key.value };
    } else if (key.by === 'email') {
      lookup = { identifier: 'email', value: key.value };
    } else {
      return {
        code: 'BAD_REQUEST',
        message: 'Dotdigital contacts cannot be read by externalId',
        httpStatus: null,
        retryable: false,
        details: null,
      } satisfies ProviderErrorInfo;
    }
    const outcome = await deps.policy.execute({ provider: 'DOTDIGITAL', idempotent: true }, () =>
      client.get(lookup, ctx.stats, ctx.signal),
    );
    if (!outcome.ok) {
      return outcome.error.toInfo();
    }
    return outcome.value === null ? null : fromWireContact(outcome.value, map);
  }

  return {
    id: 'DOTDIGITAL',
    baseUrl: http.baseUrl,
    capabilities: {
      maxBatchSize: batchSize,
      acceptedFields: fields.acceptedFields,
      clearableFields: fields.clearableFields,
      readKeys: ['email'],
    },

    planWrite(item) {
      const p = prepare(item);
      if (!('item' in p)) {
        return refusalOf(p);
      }
      const details = detailsOf(
        p,
        dataFields.loaded
          ? {}
          : {
              dataFieldsUnchecked:
                "the account's data fields are read on the first write; until then a dry run cannot tell which ones it lacks",
            },
      );
      return {
        ok: true,
        request: client.describe(singleRequest(p.plan)),
        droppedFields: p.plan.droppedFields,
        ...(details ? { details } : {}),
      };
    },

    upsertMany(items, ctx) {
      return write(items, ctx, false);
    },

    // A linked contact is addressed by its contactId (the remote id), one PATCH each.
    updateMany(items, ctx) {
      return write(items, ctx, true);
    },

    pollMany(items, ctx) {
      return pollImports(items, ctx);
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
