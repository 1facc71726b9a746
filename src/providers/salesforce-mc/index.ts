import pLimit from 'p-limit';
import type { Dispatcher } from 'undici';
import type { HttpOptions } from '../../http/client.js';
import type { CallPolicy } from '../../http/policy.js';
import { secretScrubber } from '../../http/redact.js';
import { missingRequired, type ProviderErrorInfo } from '../../model/errors.js';
import type { Outcome, WritePlan } from '../../model/outcome.js';
import { chunk } from '../align.js';
import {
  callsOf,
  createWriteEngine,
  type Job as EngineJob,
  elapsed,
  outcomesOf,
} from '../engine.js';
import { passThroughError, withPassThrough } from '../pass-through.js';
import type {
  CallContext,
  ProviderAdapter,
  ProviderCapabilities,
  ReadKey,
  ReadResult,
  WriteItem,
} from '../types.js';
import { createSfmcClient, type SendCounter } from './client.js';
import type { SalesforceMcConfig } from './config.js';
import {
  type BodyPlan,
  fromSearchHit,
  indexEmailSearch,
  type Plan,
  pickHit,
  readWriteAnswer,
  resolveAttributeMap,
  type SearchHit,
  sfmcFields,
  toWireContact,
} from './mapping.js';
import { mergeAttributeSetPassThrough } from './pass-through.js';
import { type ContactKeySearchResponse, resultMessageText } from './wire.js';

const EMAIL_TEXT = /^[^\s@]+@[^\s@]+$/;

/**
 * What a contact key search says SFMC holds for a key: null when nobody has it, else its email
 * address (when an address of type 1 shows one) and which channel rows it has.
 */
export function readExisting(
  res: ContactKeySearchResponse,
): { email: string | null; hasEmail: boolean; hasMobile: boolean } | null {
  const addresses = res.addresses ?? [];
  if (addresses.length === 0) {
    return null;
  }
  let email: string | null = null;
  let hasEmail = false;
  let hasMobile = false;
  for (const a of addresses) {
    const type = Number(a.addressTypeID);
    if (type === 1) {
      hasEmail = true;
      for (const set of a.valueSets ?? []) {
        for (const v of set.values ?? []) {
          if (email === null && typeof v.value === 'string' && EMAIL_TEXT.test(v.value)) {
            email = v.value.trim().toLowerCase();
          }
        }
      }
    } else if (type === 4) {
      hasMobile = true;
    }
  }
  return { email, hasEmail, hasMobile };
}

/** `droppedFieldReasons` as outcome details. */
function reasonDetails(reasons: Record<string, string> | undefined): Record<string, unknown> {
  return reasons && Object.keys(reasons).length > 0 ? { droppedFieldReasons: { ...reasons } } : {};
}

/**
 * Most writes or reads one DataLoader batch hands the adapter. SFMC has no bulk contacts route
 * (one contact per request, SF-1/SF-2), so this only bounds a batch: writes run `concurrency` at a
 * time, reads go `searchBatchSize` emails per search.
 */
export const SFMC_MAX_BATCH = 1000;
/** Contact keys asked per address in an email search (an address can belong to several). */
export const SEARCH_MAXIMUM_COUNT = 10;
/**
 * The only unified fields a read returns: the email search gives the address and the contact key
 * (an external id when contacts are keyed by it), no attribute values. `ProviderCapabilities` has
 * no place for this yet; the read merge should not treat `acceptedFields` as read back for SFMC.
 */
export const SFMC_READABLE_FIELDS: readonly string[] = ['email', 'externalId'];

export interface SalesforceMcAdapterDeps {
  http: HttpOptions;
  policy: CallPolicy;
  dispatcher?: Dispatcher;
}

const KEY_EXISTS = /already exists|exists already|duplicate/i;
const KEY_UNKNOWN = /not\s*found|does not exist|doesn't exist|no contact exists/i;
const EMAILISH = /^[^\s@]+@[^\s@]+$/;

/**
 * A POST refused because the contact key exists. The docs do not say what happens (open
 * question 10); SF-10 has 409/30004 "object already exists", so that, or a 400 saying so, is read
 * as "exists". (The sandbox, like SF-1's own example, updates instead and answers
 * `isNewContactKey: false`, which needs no second call.)
 */
function keyExists(error: ProviderErrorInfo): boolean {
  const errorcode = error.details?.['errorcode'];
  return (
    error.httpStatus === 409 ||
    errorcode === 30004 ||
    ((error.httpStatus === 400 || error.httpStatus === 200) &&
      (KEY_EXISTS.test(error.code) || KEY_EXISTS.test(error.message)))
  );
}

/**
 * A PATCH refused because the key is unknown (open question 11): SF-10's 30003 "object not found",
 * or a 200 `hasErrors` / 400 / 404 answer saying so (the sandbox: 200, `operationStatus: "Fail"`,
 * `resultCode: "ContactNotFound"`).
 */
function keyUnknown(error: ProviderErrorInfo): boolean {
  const errorcode = error.details?.['errorcode'];
  return (
    errorcode === 30003 ||
    ((error.httpStatus === 200 || error.httpStatus === 400 || error.httpStatus === 404) &&
      (KEY_UNKNOWN.test(error.code) || KEY_UNKNOWN.test(error.message)))
  );
}

/**
 * Salesforce Marketing Cloud Contacts REST: one `POST /contacts/v1/contacts` (new key) or `PATCH`
 * (key known to exist: the identity map has its remote id) per contact, `concurrency` at a time
 * across every batch of this adapter; reads by email through
 * `POST /contacts/v1/addresses/email/search`, `searchBatchSize` emails per call. OAuth 2 client
 * credentials, token cached and refreshed single-flight, one refresh and retry on a 401.
 */
export function createSalesforceMcAdapter(
  config: SalesforceMcConfig,
  deps: SalesforceMcAdapterDeps,
): ProviderAdapter {
  const client = createSfmcClient(config, {
    http: deps.http,
    ...(deps.dispatcher ? { dispatcher: deps.dispatcher } : {}),
  });
  const map = resolveAttributeMap(config.attributeMap);
  const fields = sfmcFields(map, config.contactKey);
  const limit = pLimit(Math.max(1, config.concurrency));
  const searchBatchSize = Math.max(1, config.searchBatchSize);
  const mapping = { map, contactKey: config.contactKey, defaultLocale: config.defaultLocale };

  // Belt and braces: provider messages are about our request and never carry the secret, but
  // an error text that did (an echoing proxy, a misconfigured tenant) is scrubbed before it leaves.
  const scrub = secretScrubber(config.clientSecret.reveal());

  const { writeResult, failedResult } = outcomesOf('SALESFORCE_MC');
  const { call } = callsOf(deps.policy, 'SALESFORCE_MC');
  type Job = EngineJob<Plan>;

  /** `providerOptions.salesforceMc.passThrough` merged into both bodies (no OpenAPI exists). */
  function withSfmcPassThrough(
    item: WriteItem,
    mapped: ReturnType<typeof toWireContact>,
  ): ReturnType<typeof toWireContact> {
    const field = 'providerOptions.salesforceMc.passThrough';
    return withPassThrough(mapped, item.options.salesforceMc?.passThrough, (m, extra) => {
      const out = { ...m };
      for (const which of ['create', 'update'] as const) {
        const target = m[which];
        if (target === null) {
          continue;
        }
        const merged = mergeAttributeSetPassThrough(target.body, extra, field);
        if (!merged.ok) {
          return { ok: false, error: passThroughError(merged) };
        }
        out[which] = { ...target, body: merged.body };
      }
      return out;
    });
  }

  function plan(item: WriteItem): WritePlan<Plan> {
    const mapped = withSfmcPassThrough(item, toWireContact(item, mapping));
    if (mapped.ok) {
      return mapped;
    }
    const details = reasonDetails(mapped.droppedFieldReasons);
    return { ...mapped, details: Object.keys(details).length > 0 ? details : null };
  }

  /**
   * A POST for a key the gateway has not linked could meet a contact made elsewhere, and its
   * create defaults (HTML Enabled, MobileConnect Status) would reset that contact's values. So the
   * key is looked up first (`POST /contacts/v1/addresses/search/ContactKey`, scope
   * `audiences_read`): a known key gets a PATCH of the patch alone, planned with the channels SFMC
   * holds. Null: nobody has the key (POST); an error: the check failed (nothing is written).
   */
  async function lookUpKey(
    p: Job,
    ctx: CallContext,
    counter: SendCounter,
  ): Promise<
    { attempts: number; plan: Plan | null } | { attempts: number; error: ProviderErrorInfo }
  > {
    const outcome = await call(() =>
      client.searchContactKey(p.plan.contactKey, ctx.stats, ctx.signal, counter),
    );
    if (!outcome.ok) {
      return { attempts: outcome.attempts, error: outcome.error.toInfo() };
    }
    const existing = readExisting(outcome.value);
    if (existing === null) {
      return { attempts: outcome.attempts, plan: null };
    }
    const mapped = withSfmcPassThrough(p.item, toWireContact({ ...p.item, existing }, mapping));
    return { attempts: outcome.attempts, plan: mapped.ok ? mapped : null };
  }

  function nothingToWrite(p: Job, attempts = 0): Outcome {
    return writeResult('SKIPPED', {
      attempts,
      remoteId: p.plan.contactKey,
      droppedFields: p.plan.droppedFields,
      error: missingRequired(
        'Nothing in this patch is stored at Salesforce MC (attributeSets would be empty), so it was not called',
      ),
    });
  }

  /**
   * One contact: POST for a new key, PATCH for one known to exist. A POST that SFMC refuses
   * because the key exists is sent again as a PATCH of the patch alone (no create defaults, so
   * HTML Enabled and MobileConnect Status of the existing contact are not overwritten); an upsert
   * PATCH of a key SFMC does not know is sent again as a POST with the create body.
   * `attempts` counts the contact requests sent (a 401 retry and the POST/PATCH switch included,
   * token requests not).
   */
  async function runOne(
    p: Job,
    ctx: CallContext,
    mode: 'upsert' | 'update',
    exists: boolean,
  ): Promise<Outcome> {
    const start = performance.now();
    const counter: SendCounter = { sent: 0 };
    let attempts = 0;
    let method: 'POST' | 'PATCH' = exists || p.plan.keySource === 'remoteId' ? 'PATCH' : 'POST';
    let switched = false;
    let plan = p.plan;
    if (method === 'POST' && p.plan.create !== null && config.keyLookup !== false) {
      const found = await lookUpKey(p, ctx, counter);
      attempts += found.attempts;
      if ('error' in found) {
        return failedResult(
          scrub({
            ...found.error,
            message: `Salesforce MC: could not check whether contact key exists before creating it (${found.error.message})`,
          }),
          {
            attempts: Math.max(attempts, counter.sent),
            durationMs: elapsed(start),
            droppedFields: p.plan.droppedFields,
            remoteId: p.item.remoteId,
          },
        );
      }
      if (found.plan !== null) {
        plan = found.plan;
        method = 'PATCH';
        switched = true;
      }
    }
    for (;;) {
      const target: BodyPlan | null = method === 'POST' ? plan.create : plan.update;
      if (target === null) {
        if (method === 'PATCH') {
          return nothingToWrite(p, Math.max(attempts, counter.sent));
        }
        return failedResult(p.plan.createError!, {
          attempts: Math.max(attempts, counter.sent),
          durationMs: elapsed(start),
          droppedFields: p.plan.droppedFields,
          remoteId: p.item.remoteId,
        });
      }
      const req = client.writeRequest(method, target.body);
      // Idempotent by contact key: a repeated POST finds the key and becomes a PATCH.
      const outcome = await call(() => client.write(req, ctx.stats, ctx.signal, counter));
      attempts += outcome.attempts;
      const common = () => ({
        attempts: Math.max(attempts, counter.sent),
        durationMs: elapsed(start),
        droppedFields: target.droppedFields,
      });
      const reasons = reasonDetails(target.droppedFieldReasons);
      let error: ProviderErrorInfo;
      if (outcome.ok) {
        const answer = readWriteAnswer(outcome.value, method);
        if (answer.status !== 'FAILED') {
          return writeResult(answer.status, {
            ...common(),
            remoteId: answer.contactKey ?? p.plan.contactKey,
            details: {
              method,
              contactId: answer.contactId,
              rowsAffected: answer.rowsAffected,
              ...reasons,
            },
          });
        }
        error = {
          code: answer.firstCode ?? 'UPSTREAM_HTTP_ERROR',
          message: `Salesforce MC did not apply the contact: ${answer.messages.join('; ') || 'hasErrors without result messages'}`,
          httpStatus: 200,
          retryable: false,
          details: { resultMessages: answer.messages },
        };
      } else {
        error = outcome.error.toInfo();
      }
      if (!switched && method === 'POST' && keyExists(error)) {
        switched = true;
        method = 'PATCH';
        continue;
      }
      if (!switched && method === 'PATCH' && mode === 'upsert' && keyUnknown(error)) {
        switched = true;
        method = 'POST';
        continue;
      }
      return failedResult(scrub(error), {
        ...common(),
        remoteId: p.item.remoteId,
        ...(Object.keys(reasons).length > 0 ? { details: reasons } : {}),
      });
    }
  }

  // Items with the same contact key run one after another, in input order (the engine), so the
  // last one wins deterministically; after the first success the key is known and the rest PATCH.
  const writes = createWriteEngine<Plan>({
    provider: 'SALESFORCE_MC',
    name: 'Salesforce MC',
    plan,
    contactKey: (p) => p.plan.contactKey,
    sendOne: (p, ctx, how) => runOne(p, ctx, how.op, how.keyKnown),
    concurrency: limit,
  });

  function unreadable(key: ReadKey): ProviderErrorInfo {
    return {
      code: 'BAD_REQUEST',
      message:
        key.by === 'externalId'
          ? 'Salesforce MC contacts cannot be read by externalId: the Contacts API documents a search by email address only'
          : 'Salesforce MC has no documented read by contact key; only contact keys that are email addresses can be found (by email search)',
      httpStatus: null,
      retryable: false,
      details: null,
    };
  }

  async function readMany(
    keys: readonly ReadKey[],
    ctx: CallContext,
  ): Promise<Array<ReadResult | null | ProviderErrorInfo>> {
    const out: Array<ReadResult | null | ProviderErrorInfo> = keys.map(() => null);
    const wanted = new Map<string, number[]>();
    keys.forEach((key, i) => {
      const value = key.value.trim();
      if (key.by === 'email' || (key.by === 'remoteId' && EMAILISH.test(value))) {
        const email = value.toLowerCase();
        wanted.set(email, [...(wanted.get(email) ?? []), i]);
      } else {
        out[i] = unreadable(key);
      }
    });
    await Promise.all(
      chunk([...wanted.keys()], searchBatchSize).map((batch) =>
        limit(async () => {
          const outcome = await call(() =>
            client.searchEmails(
              { channelAddressList: batch, maximumCount: SEARCH_MAXIMUM_COUNT },
              ctx.stats,
              ctx.signal,
            ),
          );
          let failure: ProviderErrorInfo | null = null;
          if (!outcome.ok) {
            failure = scrub(outcome.error.toInfo());
          } else if (outcome.value.hasErrors === true) {
            const messages = (outcome.value.resultMessages ?? []).map(resultMessageText);
            failure = scrub({
              code: 'UPSTREAM_HTTP_ERROR',
              message: `Salesforce MC email search reported errors: ${messages.join('; ') || 'no result messages'}`,
              httpStatus: 200,
              retryable: false,
              details: { resultMessages: messages },
            });
          }
          const index = outcome.ok
            ? indexEmailSearch(outcome.value)
            : new Map<string, SearchHit[]>();
          for (const email of batch) {
            const hits = index.get(email) ?? [];
            for (const i of wanted.get(email) ?? []) {
              if (failure) {
                out[i] = failure;
                continue;
              }
              const key = keys[i]!;
              const hit =
                key.by === 'email'
                  ? pickHit(email, hits)
                  : (hits.find((h) => h.contactKey === key.value.trim()) ?? null);
              out[i] = hit ? fromSearchHit(email, hit, config.contactKey) : null;
            }
          }
        }),
      ),
    );
    return out;
  }

  const capabilities: ProviderCapabilities = {
    maxBatchSize: SFMC_MAX_BATCH,
    acceptedFields: fields.acceptedFields,
    clearableFields: fields.clearableFields,
    readKeys: ['email'],
    // The email search is the only documented read; it answers the email and the contact key.
    readableFields: SFMC_READABLE_FIELDS,
    readsByRemoteId: false,
    // One contact per write request; `searchBatchSize` emails per read (call budget).
    writeBatchSize: 1,
    readBatchSize: searchBatchSize,
  };

  return {
    id: 'SALESFORCE_MC',
    name: 'Salesforce MC',
    get baseUrl() {
      return client.restBase;
    },
    capabilities,

    planWrite(item) {
      const planned = plan(item);
      if (!planned.ok) {
        return planned;
      }
      const method = planned.keySource === 'remoteId' ? 'PATCH' : 'POST';
      const target = method === 'POST' ? planned.create : planned.update;
      if (target === null) {
        const skipped = nothingToWrite({ item, plan: planned });
        return {
          ok: false,
          status: 'SKIPPED',
          error: skipped.error!,
          droppedFields: skipped.droppedFields,
        };
      }
      const details = reasonDetails(target.droppedFieldReasons);
      return {
        ok: true,
        request: client.describe(client.writeRequest(method, target.body)),
        droppedFields: target.droppedFields,
        ...(Object.keys(details).length > 0 ? { details } : {}),
      };
    },

    // A linked contact is addressed by its contact key (the remote id), one PATCH each.
    ...writes,

    readMany,

    close() {
      return client.close();
    },
  };
}
