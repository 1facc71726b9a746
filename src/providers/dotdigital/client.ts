import type { CallStats, HttpClient, HttpRequest, HttpResponse } from '../../http/client.js';
import { clipMessage, retryAfterMs } from '../../http/status.js';
import { answeredError, type UpstreamError } from '../../model/errors.js';

import { answersOf, sender, withSignal } from '../wire.js';
import type { Lookup } from './mapping.js';
import {
  ContactSchema,
  type CreateDataFieldBody,
  DataFieldListSchema,
  ErrorBodySchema,
  ImportAcceptedSchema,
  type ImportBody,
  ImportStatusSchema,
  type QueryMergeOption,
  type UpdateContactBody,
  type WireContact,
} from './wire.js';

export const DOTDIGITAL_PATHS = {
  contact: (lookup: Lookup) =>
    `/contacts/v3/${lookup.identifier}/${encodeURIComponent(lookup.value)}`,
  import: '/contacts/v3/import',
  dataFields: '/v2/data-fields',
  importStatus: (importId: string) => `/contacts/v3/import/${encodeURIComponent(importId)}`,
} as const;

/** `x-ratelimit-reset` above this is a Unix time in seconds, below it a number of seconds to wait. */
const EPOCH_SECONDS_FLOOR = 1e9;

/**
 * The tiered rate-limit headers of a 429 (names from the official PHP SDK). `x-ratelimit-reset` is
 * "seconds until reset" for the SDK and a Unix timestamp for a third-party summary, so a value above
 * 10^9 is read as epoch seconds and anything else as a delta. `retryAfterMs` prefers `Retry-After`.
 */
export function rateLimitDetails(
  headers: Record<string, string>,
  now = Date.now(),
): Record<string, unknown> | null {
  const details: Record<string, unknown> = {};
  const scope = headers['x-ratelimit-scope'];
  if (scope !== undefined) {
    details['rateLimitScope'] = scope;
  }
  const limit = Number(headers['x-ratelimit-limit']);
  if (headers['x-ratelimit-limit'] !== undefined && Number.isFinite(limit)) {
    details['rateLimitLimit'] = limit;
  }
  const rawReset = headers['x-ratelimit-reset'];
  const reset = Number(rawReset);
  let resetWaitMs: number | null = null;
  if (rawReset !== undefined && rawReset.trim() !== '' && Number.isFinite(reset)) {
    details['rateLimitReset'] = reset;
    const at = reset > EPOCH_SECONDS_FLOOR ? reset * 1000 : now + reset * 1000;
    resetWaitMs = Math.max(0, Math.round(at - now));
    details['rateLimitResetAt'] = new Date(at).toISOString();
  }
  const wait = retryAfterMs(headers, now) ?? resetWaitMs;
  if (wait !== null) {
    details['retryAfterMs'] = wait;
  }
  return Object.keys(details).length > 0 ? details : null;
}

/**
 * Dotdigital v3 errors are `{errorCode, description, details: [{item, description}]}` (some pages
 * say `error` instead of `description` in the details). The provider's `errorCode` becomes the
 * outcome code (`contacts:idAlreadyExists`); retryability follows the status: 409 and other 4xx
 * never, 429 and 5xx yes. 401 has no body at all.
 */
export function dotdigitalError(res: HttpResponse): UpstreamError {
  const parsed = ErrorBodySchema.safeParse(res.json);
  const body = parsed.success ? parsed.data : null;
  const description = body?.description ?? body?.message ?? (body ? null : res.text.trim());
  const items = (body?.details ?? [])
    .map((d) => {
      const text = d.description ?? d.error ?? '';
      const item = typeof d.item === 'string' || typeof d.item === 'number' ? String(d.item) : '';
      return item && text ? `${item}: ${text}` : item || text;
    })
    .filter((s) => s !== '');
  const message = [description || `HTTP ${res.status}`, ...items].join('; ');
  const details: Record<string, unknown> = {};
  if (res.status === 429 || res.headers['retry-after'] !== undefined) {
    Object.assign(details, rateLimitDetails(res.headers));
  }
  if (items.length > 0) {
    details['items'] = items.map(clipMessage);
  }
  return answeredError('DOTDIGITAL', {
    ...(body?.errorCode ? { code: body.errorCode } : {}),
    message: `Dotdigital answered ${res.status}: ${clipMessage(message)}`,
    httpStatus: res.status,
    details: Object.keys(details).length > 0 ? details : null,
  });
}

/** v2 errors are `{message: "… ERROR_CODE"}`: the trailing upper-case word is the code. */
function dotdigitalV2Error(res: HttpResponse): UpstreamError {
  const message =
    res.json && typeof res.json === 'object' && 'message' in res.json
      ? String((res.json as { message: unknown }).message)
      : res.text.trim();
  const code = /\b(ERROR_[A-Z_]+)\s*$/.exec(message)?.[1];
  return answeredError('DOTDIGITAL', {
    ...(code ? { code } : {}),
    message: `Dotdigital answered ${res.status}: ${clipMessage(message || `HTTP ${res.status}`)}`,
    httpStatus: res.status,
  });
}

const { parse } = answersOf('DOTDIGITAL', 'Dotdigital');

/** The only part of the adapter that knows Dotdigital's paths, methods and status codes. */
export function createDotdigitalClient(http: HttpClient) {
  const send = sender(http, dotdigitalError);
  const sendV2 = sender(http, dotdigitalV2Error);
  const patchRequest = (
    lookup: Lookup,
    mergeOption: QueryMergeOption | undefined,
    body: UpdateContactBody,
  ): HttpRequest => ({
    method: 'PATCH',
    path: DOTDIGITAL_PATHS.contact(lookup),
    ...(mergeOption ? { query: { 'merge-option': mergeOption } } : {}),
    body,
  });

  return {
    patchRequest,

    /** `PATCH /contacts/v3/{identifier}/{value}`: 201 created, 200 updated. */
    async patch(
      req: HttpRequest,
      stats: CallStats,
      signal?: AbortSignal,
    ): Promise<{ created: boolean; contact: WireContact }> {
      const res = await send(req, stats, signal, [200, 201]);
      return { created: res.status === 201, contact: parse(res, ContactSchema, 'a contact') };
    },

    /** `GET /contacts/v3/{identifier}/{value}`; `null` on 404 `contacts:contactNotFound`. */
    async get(lookup: Lookup, stats: CallStats, signal?: AbortSignal): Promise<WireContact | null> {
      const res = await http.request(
        withSignal({ method: 'GET', path: DOTDIGITAL_PATHS.contact(lookup) }, signal),
        stats,
      );
      if (res.status === 404) {
        const parsed = ErrorBodySchema.safeParse(res.json);
        const code = parsed.success ? (parsed.data.errorCode ?? '') : '';
        // A 404 without Dotdigital's code is a wrong path or host, not a missing contact.
        if (code.toLowerCase() === 'contacts:contactnotfound') {
          return null;
        }
      }
      if (res.status !== 200) {
        throw dotdigitalError(res);
      }
      return parse(res, ContactSchema, 'a contact');
    },

    /** v2 `GET /v2/data-fields` → the names of the account's contact data fields. */
    async listDataFields(stats: CallStats, signal?: AbortSignal): Promise<string[]> {
      const res = await sendV2({ method: 'GET', path: DOTDIGITAL_PATHS.dataFields }, stats, signal);
      return parse(res, DataFieldListSchema, 'a data field list').map((f) => f.name);
    },

    /**
     * v2 `POST /v2/data-fields` → 201. A 400 `ERROR_NON_UNIQUE_DATAFIELD` (created meanwhile) is
     * success too.
     */
    async createDataField(
      body: CreateDataFieldBody,
      stats: CallStats,
      signal?: AbortSignal,
    ): Promise<void> {
      const res = await http.request(
        withSignal({ method: 'POST', path: DOTDIGITAL_PATHS.dataFields, body }, signal),
        stats,
      );
      if (res.status === 201 || res.status === 200 || /ERROR_NON_UNIQUE_DATAFIELD/.test(res.text)) {
        return;
      }
      throw dotdigitalV2Error(res);
    },

    /** `PUT /contacts/v3/import` → 202 `{importId}`. */
    async startImport(body: ImportBody, stats: CallStats, signal?: AbortSignal): Promise<string> {
      const res = await send(
        { method: 'PUT', path: DOTDIGITAL_PATHS.import, body },
        stats,
        signal,
        [202, 200],
      );
      return parse(res, ImportAcceptedSchema, 'an import id').importId;
    },

    /** `GET /contacts/v3/import/{importId}`. */
    async importStatus(importId: string, stats: CallStats, signal?: AbortSignal) {
      const res = await send(
        { method: 'GET', path: DOTDIGITAL_PATHS.importStatus(importId) },
        stats,
        signal,
      );
      return parse(res, ImportStatusSchema, 'an import status');
    },
  };
}

export type DotdigitalClient = ReturnType<typeof createDotdigitalClient>;
