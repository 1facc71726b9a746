import type { CallStats, HttpClient, HttpRequest, HttpResponse } from '../../http/client.js';
import { redactText } from '../../http/redact.js';
import { clipMessage, retryAfterMs } from '../../http/status.js';
import { answeredError, type UpstreamError } from '../../model/errors.js';

import { answersOf, sender, withSignal } from '../wire.js';
import {
  BulkEntrySchema,
  ContactSchema,
  type DoBulkBody,
  type DoBulkEntry,
  type DoContactBody,
  type DoErrorObject,
  type DoWireContact,
  ErrorBodySchema,
} from './wire.js';

export const DO_PATHS = {
  contacts: '/v2/partner/contacts',
  contact: (id: string) => `/v2/partner/contacts/${encodeURIComponent(id)}`,
} as const;

/** Header names as the adapter sends them (and as a dry run shows them). */
export const IDEMPOTENCY_HEADER = 'idempotency-key';
export const OVERRIDE_HEADER = 'x-operator-override';

const MAX_META_CHARS = 1_000;

function errorList(json: unknown): DoErrorObject[] {
  const parsed = ErrorBodySchema.safeParse(json);
  if (!parsed.success) {
    return [];
  }
  const body = parsed.data;
  if (body.errors && body.errors.length > 0) {
    return body.errors;
  }
  // v1: `{"error": "invalid_token"}`; also tolerate `{"error": {code, …}}`.
  if (typeof body.error === 'string') {
    return [{ code: body.error, title: body.message ?? null }];
  }
  if (body.error) {
    return [body.error];
  }
  return [];
}

/** The machine-readable parts of one error object, clipped, for `ProviderError.details`. */
function describeError(e: DoErrorObject): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (e.code) {
    out['code'] = e.code;
  }
  if (e.title) {
    out['title'] = clipMessage(redactText(e.title));
  }
  if (e.detail) {
    out['detail'] = clipMessage(redactText(e.detail));
  }
  if (e.meta && Object.keys(e.meta).length > 0) {
    const text = JSON.stringify(e.meta);
    if (text.length <= MAX_META_CHARS) {
      out['meta'] = e.meta;
    }
  }
  return out;
}

function errorText(e: DoErrorObject): string {
  const words = [e.title, e.detail].filter((s): s is string => typeof s === 'string' && s !== '');
  return redactText(words.join(': '));
}

/** `RateLimit-*` (IETF draft names, DO-IOP says only "RateLimit-* headers") and `Retry-After`. */
function rateLimitDetails(headers: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [header, key] of [
    ['ratelimit-limit', 'rateLimitLimit'],
    ['ratelimit-remaining', 'rateLimitRemaining'],
    ['ratelimit-reset', 'rateLimitReset'],
  ] as const) {
    const raw = headers[header];
    if (raw !== undefined && raw.trim() !== '' && Number.isFinite(Number(raw))) {
      out[key] = Number(raw);
    }
  }
  const wait = retryAfterMs(headers);
  if (wait !== null) {
    out['retryAfterMs'] = wait;
  } else if (typeof out['rateLimitReset'] === 'number') {
    out['retryAfterMs'] = Math.max(0, (out['rateLimitReset'] as number) * 1000);
  }
  return out;
}

/**
 * Digital Onboarding's `{errors: [{code, title, detail, meta}]}` → `UpstreamError` with the
 * provider's own code (`scope_missing`, `override_required`, `bulk_override_required`, …). Whether
 * a retry can help follows the status: 401 (scope or token), 403 (override, scope, resource) and
 * every other 4xx never, 408/429/5xx yes. `meta.required_scope` is lifted into the details.
 */
export function digitalOnboardingError(res: HttpResponse): UpstreamError {
  const errors = errorList(res.json);
  const first = errors[0];
  const code = first?.code || undefined;
  const texts = errors.map(errorText).filter((t) => t !== '');
  const fallback = errors.length === 0 && !res.malformed ? res.text.trim() : '';
  const message = texts.join('; ') || redactText(fallback) || `HTTP ${res.status}`;
  const details: Record<string, unknown> = {};
  if (errors.length > 0) {
    details['errors'] = errors.slice(0, 20).map(describeError);
  }
  const scope = first?.meta?.['required_scope'];
  if (typeof scope === 'string') {
    details['requiredScope'] = scope;
  }
  if (res.status === 429 || res.status === 503 || res.headers['retry-after'] !== undefined) {
    Object.assign(details, rateLimitDetails(res.headers));
  }
  const expired =
    res.status === 401 && code === 'invalid_token'
      ? ' — the partner token expired or was refused (tokens last about an hour; with DIGITAL_ONBOARDING_CLIENT_ID and DIGITAL_ONBOARDING_CLIENT_SECRET the gateway renews them itself)'
      : '';
  return answeredError('DIGITAL_ONBOARDING', {
    ...(code ? { code } : {}),
    message: `Digital Onboarding answered ${res.status}${first?.code ? ` ${first.code}` : ''}: ${clipMessage(message)}${expired}`,
    httpStatus: res.status,
    details: Object.keys(details).length > 0 ? details : null,
  });
}

/** Error objects of a failed response, for naming the bulk items they blame. */
export function responseErrors(res: HttpResponse): DoErrorObject[] {
  return errorList(res.json);
}

/** One error object as `ProviderError` details and message text (shared with bulk entries). */
export function errorObjectInfo(e: DoErrorObject): {
  text: string;
  details: Record<string, unknown>;
} {
  return { text: errorText(e), details: describeError(e) };
}

const { malformed } = answersOf('DIGITAL_ONBOARDING', 'Digital Onboarding');

/** A Contact at the top of the body, or wrapped in `data` / `contact`. */
export function readContact(json: unknown): DoWireContact | null {
  for (const candidate of [
    json,
    (json as { data?: unknown } | null)?.data,
    (json as { contact?: unknown } | null)?.contact,
  ]) {
    const parsed = ContactSchema.safeParse(candidate);
    if (parsed.success) {
      return parsed.data;
    }
  }
  return null;
}

/**
 * The entries of a bulk answer, whatever the wrapping: a bare array, or an object holding the array
 * under `items`, `results`, `data` or `contacts`. Entries that are not objects are kept as `null`
 * so positions stay meaningful. `null` when no list can be found.
 */
export function readBulkEntries(json: unknown): Array<DoBulkEntry | null> | null {
  let list: unknown;
  if (Array.isArray(json)) {
    list = json;
  } else if (json && typeof json === 'object') {
    const o = json as Record<string, unknown>;
    list = [o['items'], o['results'], o['data'], o['contacts']].find(Array.isArray);
  }
  if (!Array.isArray(list)) {
    return null;
  }
  return list.map((entry) => {
    const parsed = BulkEntrySchema.safeParse(entry);
    return parsed.success ? parsed.data : null;
  });
}

export interface OutgoingHeaders {
  idempotencyKey: string;
  overrides: string | null;
}

/** The only part of the adapter that knows Digital Onboarding's paths, methods and statuses. */
export function createDigitalOnboardingClient(http: HttpClient) {
  const send = sender(http, digitalOnboardingError);
  const headersOf = (h: OutgoingHeaders): Record<string, string> => ({
    [IDEMPOTENCY_HEADER]: h.idempotencyKey,
    ...(h.overrides ? { [OVERRIDE_HEADER]: h.overrides } : {}),
  });

  /** The contact an answer carries; an answer without one is malformed. */
  const contactOf = (res: HttpResponse): DoWireContact => {
    const contact = readContact(res.json);
    if (!contact) {
      throw malformed(res, 'a body that is not a contact');
    }
    return contact;
  };

  return {
    upsertRequest(body: DoContactBody | DoBulkBody, h: OutgoingHeaders): HttpRequest {
      return { method: 'POST', path: DO_PATHS.contacts, headers: headersOf(h), body };
    },

    patchRequest(remoteId: string, body: DoContactBody, h: OutgoingHeaders): HttpRequest {
      return { method: 'PATCH', path: DO_PATHS.contact(remoteId), headers: headersOf(h), body };
    },

    /**
     * Single `POST /v2/partner/contacts`: DO-1 documents 201 (any 2xx with a contact is taken).
     * The status says nothing about created vs updated; the caller decides from the contact.
     */
    async upsertOne(
      req: HttpRequest,
      stats: CallStats,
      signal?: AbortSignal,
    ): Promise<DoWireContact> {
      const res = await send(req, stats, signal, [200, 201]);
      return contactOf(res);
    },

    /**
     * Bulk `POST /v2/partner/contacts` with `{items}`. Answers 200/201/207 give their entries;
     * anything else is returned as the response for the caller to blame items or fail the chunk.
     */
    async upsertBulk(
      req: HttpRequest,
      stats: CallStats,
      signal?: AbortSignal,
    ): Promise<
      | { ok: true; status: number; entries: Array<DoBulkEntry | null> }
      | { ok: false; res: HttpResponse }
    > {
      const res = await http.request(withSignal(req, signal), stats);
      if (res.status === 200 || res.status === 201 || res.status === 207) {
        const entries = readBulkEntries(res.json);
        if (!entries) {
          // One contact back for a one-item bulk is still an answer.
          const contact = readContact(res.json);
          if (contact) {
            return { ok: true, status: res.status, entries: [contact] };
          }
          throw malformed(res, 'a body without a list of results');
        }
        return { ok: true, status: res.status, entries };
      }
      return { ok: false, res };
    },

    /** `PATCH /v2/partner/contacts/{id}` → 200 with the contact. */
    async patch(req: HttpRequest, stats: CallStats, signal?: AbortSignal): Promise<DoWireContact> {
      const res = await send(req, stats, signal, [200, 201]);
      return contactOf(res);
    },

    /** `GET /v2/partner/contacts/{id}`; `null` on 404. */
    async get(id: string, stats: CallStats, signal?: AbortSignal): Promise<DoWireContact | null> {
      const res = await http.request(
        withSignal({ method: 'GET', path: DO_PATHS.contact(id) }, signal),
        stats,
      );
      if (res.status === 404) {
        return null;
      }
      if (res.status !== 200) {
        throw digitalOnboardingError(res);
      }
      return contactOf(res);
    },

    /**
     * `GET /v2/partner/contacts?<field>=<value>` (list filtered by a key): the first contact whose
     * key really matches, `null` when none does.
     */
    async find(
      field: 'unique_id' | 'email',
      value: string,
      stats: CallStats,
      signal?: AbortSignal,
    ): Promise<DoWireContact | null> {
      const res = await http.request(
        withSignal({ method: 'GET', path: DO_PATHS.contacts, query: { [field]: value } }, signal),
        stats,
      );
      if (res.status === 404) {
        return null;
      }
      if (res.status !== 200) {
        throw digitalOnboardingError(res);
      }
      const entries = readBulkEntries(res.json);
      const single = entries === null ? readContact(res.json) : null;
      if (entries === null && single === null) {
        throw malformed(res, 'a body without a list of contacts');
      }
      const candidates = single
        ? [single]
        : (entries ?? []).flatMap((e) => {
            const c = readContact(e);
            return c ? [c] : [];
          });
      const want = field === 'email' ? value.trim().toLowerCase() : value.trim();
      return (
        candidates.find((c) => {
          const got = c[field];
          if (typeof got !== 'string') {
            return false;
          }
          return (field === 'email' ? got.trim().toLowerCase() : got.trim()) === want;
        }) ?? null
      );
    },
  };
}

export type DigitalOnboardingClient = ReturnType<typeof createDigitalOnboardingClient>;
