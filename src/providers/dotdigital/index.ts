import { setTimeout as sleep } from 'node:timers/promises';
import pLimit from 'p-limit';
import type { Dispatcher } from 'undici';
import { createHttpClient, type HttpOptions } from '../../http/client.js';
import type { CallPolicy } from '../../http/policy.js';
import type { ProviderErrorInfo } from '../../model/errors.js';
import type { Outcome, WritePlan } from '../../model/outcome.js';
import {
  callsOf,
  createWriteEngine,
  type Entry,
  elapsed,
  fanOut,
  type Job,
  outcomesOf,
  refused,
  withDetails,
} from '../engine.js';
import { withBodyPassThrough } from '../pass-through.js';
import type { CallContext, ProviderAdapter, ReadKey, WriteItem } from '../types.js';
import { createDotdigitalClient } from './client.js';
import type { DotdigitalConfig } from './config.js';
import { createDataFieldCache } from './data-fields.js';
import { importOutcomes } from './import.js';
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
import { dotdigitalValidators } from './openapi.js';
import { type ImportContact, type ImportStatus, readImportState } from './wire.js';

/** Longest pause between two polls of an import. */
export const IMPORT_POLL_MAX_INTERVAL_MS = 5_000;

export interface DotdigitalAdapterDeps {
  http: HttpOptions;
  policy: CallPolicy;
  dispatcher?: Dispatcher;
}

/** Whose writes these are (the write engine's failures name it). */
const OWNER = { provider: 'DOTDIGITAL', name: 'Dotdigital' } as const;

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
    shown: { authorization: 'Basic [redacted]' },
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

  const { writeResult, failedResult, failedAll } = outcomesOf('DOTDIGITAL');
  const { call, timed } = callsOf(deps.policy, 'DOTDIGITAL');
  type DdJob = Job<Plan>;

  function plan(item: WriteItem): WritePlan<Plan> {
    // `providerOptions.dotdigital.passThrough` merged into the PATCH body, checked with DD-OAS.
    const mapped = withBodyPassThrough(
      toWireContact(item, map, dataFields.check),
      item.options.dotdigital?.passThrough,
      {
        field: 'providerOptions.dotdigital.passThrough',
        key: 'body',
        validate: dotdigitalValidators().updateContact,
        keepReasons: true,
      },
    );
    return mapped.ok ? mapped : { ...mapped, details: dropDetails(mapped.droppedFieldReasons) };
  }

  /** Outcome details of an item: the reasons of its drops (`droppedFieldReasons`). */
  const itemDetails = (p: DdJob) => dropDetails(p.plan.droppedFieldReasons);

  function singleRequest(plan: Plan) {
    return client.patchRequest(plan.lookup, toQueryMergeOption(plan.mergeOption), plan.body);
  }

  async function sendOne(p: DdJob, ctx: CallContext): Promise<Outcome> {
    const { answer: outcome, common: timing } = await timed(() =>
      client.patch(singleRequest(p.plan), ctx.stats, ctx.signal),
    );
    const common = { ...timing, droppedFields: p.plan.droppedFields, details: itemDetails(p) };
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
      // The wait that takes what is left of the budget is the last one: after it, one more poll
      // and no other (a timer may fire a little before performance.now() reaches the deadline).
      const last = delay >= remaining;
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
      const outcome = await call(() => client.importStatus(importId, ctx.stats, ctx.signal));
      if (!outcome.ok) {
        lastError = outcome.error.toInfo();
        if (!lastError.retryable || last) {
          return { status: null, lastError };
        }
        continue;
      }
      if (readImportState(outcome.value.status) !== 'RUNNING') {
        return { status: outcome.value, lastError: null };
      }
      if (last) {
        return { status: null, lastError };
      }
    }
  }

  /** One `PUT /contacts/v3/import` of contacts sharing a merge option; an outcome per entry. */
  async function sendImport(
    entries: Array<Entry<Plan, ImportContact>>,
    ctx: CallContext,
  ): Promise<Outcome[]> {
    const start = performance.now();
    const mergeOption = toImportMergeOption(entries[0]?.members[0]?.plan.mergeOption);
    const body = {
      ...(mergeOption ? { mergeOption } : {}),
      contacts: entries.map((e) => e.body),
    };
    const started = await call(() => client.startImport(body, ctx.stats, ctx.signal));
    const attempts = started.attempts;
    if (!started.ok) {
      return failedAll(entries, started.error.toInfo(), { attempts, durationMs: elapsed(start) });
    }
    const importId = started.value;
    const { status, lastError } = await waitForImport(importId, ctx);
    const common = { attempts, durationMs: elapsed(start) };
    return importOutcomes(importId, entries.map(entryKey), status, lastError, common);
  }

  const entryKey = (e: { members: DdJob[] }) => contactKey(e.members[0]!);
  const contactKey = (p: DdJob) => matchKey(p.plan.lookup.identifier, p.plan.lookup.value);

  /**
   * Re-checks imports the gateway answered QUEUED (`importMaxWaitMs` ran out): one status call
   * per import, its contacts matched back by identifier as when the import was waited for.
   */
  async function pollImports(
    items: ReadonlyArray<{ item: WriteItem; importId: string }>,
    ctx: CallContext,
  ): Promise<Outcome[]> {
    const out = new Map<WriteItem, Outcome>();
    const byImport = new Map<string, Map<string, { members: DdJob[] }>>();
    for (const { item, importId } of items) {
      const planned = plan(item);
      if (!planned.ok) {
        out.set(item, refused('DOTDIGITAL', item, planned));
        continue;
      }
      const { ok: _ok, ...rest } = planned;
      const job: DdJob = { item, plan: rest };
      const entries = byImport.get(importId) ?? new Map<string, { members: DdJob[] }>();
      byImport.set(importId, entries);
      const entry = entries.get(contactKey(job));
      if (entry) {
        entry.members.push(job);
      } else {
        entries.set(contactKey(job), { members: [job] });
      }
    }
    await Promise.all(
      [...byImport].map(async ([importId, byKey]) => {
        const { answer: polled, common } = await timed(() =>
          client.importStatus(importId, ctx.stats, ctx.signal),
        );
        const entries = [...byKey.values()];
        const answers = polled.ok
          ? importOutcomes(
              importId,
              entries.map(entryKey),
              readImportState(polled.value.status) === 'RUNNING' ? null : polled.value,
              null,
              common,
            ).map((r) =>
              // The import has ended: polling it again cannot change what it says.
              r.status === 'FAILED' && r.error?.retryable
                ? { ...r, error: { ...r.error, retryable: false } }
                : r,
            )
          : failedAll(entries, polled.error.toInfo(), { ...common, details: { importId } });
        fanOut(OWNER, entries, answers, itemDetails).forEach((results, i) => {
          entries[i]!.members.forEach((job, k) => {
            out.set(job.item, results[k]!);
          });
        });
      }),
    );
    return items.map(({ item }) => out.get(item)!);
  }

  const writes = createWriteEngine<Plan, ImportContact>({
    ...OWNER,
    // The account's data fields first (cached), and those to create (DOTDIGITAL_CREATE_DATA_FIELDS).
    async beforePlan(items, ctx) {
      await dataFields.load(ctx);
      await dataFields.createMissing((check) => {
        for (const item of items) {
          toWireContact(item, map, check);
        }
      }, ctx);
    },
    plan,
    contactKey,
    sendOne,
    bulk: {
      groupKey: (p) => p.plan.mergeOption ?? '',
      body: (p) => toImportContact(p.plan),
      // One entry per contact key: Dotdigital fails every copy of a duplicate identifier.
      merge: (a, b) => mergeImportContacts(a, b, map),
      maxBatch: batchSize,
      // A group of one gains nothing from an import (one call plus polls): PATCH it.
      minBatch: 2,
      send: sendImport,
    },
    itemDetails,
    concurrency,
  });

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
    const outcome = await call(() => client.get(lookup, ctx.stats, ctx.signal));
    if (!outcome.ok) {
      return outcome.error.toInfo();
    }
    return outcome.value === null ? null : fromWireContact(outcome.value, map);
  }

  return {
    id: 'DOTDIGITAL',
    name: OWNER.name,
    baseUrl: http.baseUrl,
    capabilities: {
      maxBatchSize: batchSize,
      acceptedFields: fields.acceptedFields,
      clearableFields: fields.clearableFields,
      readKeys: ['email'],
    },

    planWrite(item) {
      const planned = plan(item);
      if (!planned.ok) {
        return planned;
      }
      const details = withDetails(
        dropDetails(planned.droppedFieldReasons),
        dataFields.loaded
          ? null
          : {
              dataFieldsUnchecked:
                "the account's data fields are read on the first write; until then a dry run cannot tell which ones it lacks",
            },
      );
      return {
        ok: true,
        request: http.describe(singleRequest(planned)),
        droppedFields: planned.droppedFields,
        ...(details ? { details } : {}),
      };
    },

    // Updates address a linked contact by its contactId (the remote id), one PATCH each.
    ...writes,

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
