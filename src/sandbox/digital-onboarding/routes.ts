/**
 * Digital Onboarding partner contacts API v2 over HTTP, as documented in DO-1 (`POST
 * /v2/partner/contacts`), DO-2 (`PATCH /v2/partner/contacts/{id}`), DO-AUTH and DO-OVR (the
 * partner API documentation). Where the docs are silent, each decision is noted
 * where it is made.
 *
 * Order of checks for every request: bearer token (401) → route (404/405) → scope (401
 * `scope_missing`, DO-AUTH: "the router checks them before the handler runs") → on writes:
 * query parameters (400) → `Idempotency-Key` format (400) → `X-Operator-Override` syntax (400)
 * and permission (403) →
 * idempotent replay/conflict → body → resource.
 */

import { createHash } from 'node:crypto';
import { stringify } from 'safe-stable-stringify';
import { createRouter, type RouteParams } from '../shared/router.js';
import type { RecordedRequest, SandboxHandler, SandboxResponse } from '../shared/types.js';

import type { Overrides, TokenRegistry } from './access.js';
import { CONTACT_SCOPES, canonicalOverrides, parseOverrides } from './access.js';
import type { DigitalOnboardingContact } from './contact.js';
import { isPlainObject, validateContact } from './contact.js';
import type { DoError } from './errors.js';
import { doError, errorResponse, notFound } from './errors.js';
import { TOKEN_PATH, type TokenIssuer } from './oauth.js';
import type { DigitalOnboardingStore } from './store.js';

export interface DigitalOnboardingRoutesOptions {
  store: DigitalOnboardingStore;
  tokens: TokenRegistry;
  maxBulkItems: number;
  /** `POST /oauth2/token` and the life of the tokens it issued. */
  issuer?: TokenIssuer;
}

interface Ctx extends DigitalOnboardingRoutesOptions {
  token: string;
}

type Handler = (
  req: RecordedRequest,
  params: Readonly<Record<string, string>>,
  ctx: Ctx,
) => SandboxResponse;

interface Route {
  scope: string;
  handler: Handler;
}

export const CONTACTS_PATH = '/v2/partner/contacts';

/** Any RFC 4122 UUID layout, for ids and idempotency keys. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** List page size (no list endpoint is documented: §1.5; sandbox decision). */
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

const router = createRouter<Route>()
  .on('POST', CONTACTS_PATH, { scope: CONTACT_SCOPES.write, handler: createOrBulkUpsert })
  .on('GET', CONTACTS_PATH, { scope: CONTACT_SCOPES.read, handler: listContacts })
  .on('GET', `${CONTACTS_PATH}/:id`, { scope: CONTACT_SCOPES.read, handler: getContact })
  .on('PATCH', `${CONTACTS_PATH}/:id`, { scope: CONTACT_SCOPES.write, handler: updateContact })
  .on('DELETE', `${CONTACTS_PATH}/:id`, { scope: CONTACT_SCOPES.delete, handler: deleteContact });

export function createDigitalOnboardingHandler(
  opts: DigitalOnboardingRoutesOptions,
): SandboxHandler {
  return (req) => {
    if (req.path === TOKEN_PATH && opts.issuer) {
      return opts.issuer.handle(req);
    }
    const token = bearerToken(req.headers['authorization']);
    if (token === undefined) {
      return errorResponse(
        401,
        doError(
          'unauthorized',
          'Unauthorized',
          'send the partner token as Authorization: Bearer <token>',
        ),
        { 'www-authenticate': 'Bearer realm="digital-onboarding"' },
      );
    }
    // v1 answers an expired token `{"error":"invalid_token"}` (DO-V1); v2 uses the errors envelope
    // everywhere, so the sandbox keeps the code and wraps it. The sandbox has no expiry: an unknown
    // token stands for an expired or revoked one.
    // An issued token past its life: DO-V1's exact answer.
    if (opts.issuer?.isExpired(token)) {
      return {
        status: 401,
        headers: {
          'www-authenticate': 'Bearer realm="digital-onboarding", error="invalid_token"',
        },
        body: { error: 'invalid_token' },
      };
    }
    if (!opts.tokens.has(token)) {
      return errorResponse(
        401,
        doError('invalid_token', 'Unauthorized', 'the bearer token is unknown, expired or revoked'),
        { 'www-authenticate': 'Bearer realm="digital-onboarding", error="invalid_token"' },
      );
    }
    const match = router.match(req.method, req.path);
    if (match.kind === 'not-found') {
      return notFound(`no route for ${req.method} ${req.path}`);
    }
    if (match.kind === 'method-not-allowed') {
      return errorResponse(
        405,
        doError(
          'method_not_allowed',
          'Method Not Allowed',
          `${req.method} is not allowed on ${req.path}`,
          {
            allow: match.allow,
          },
        ),
        { allow: match.allow.join(', ') },
      );
    }
    const { scope, handler } = match.handler;
    // DO-AUTH (and every endpoint page): "Tokens missing any required scope return 401
    // scope_missing". DO-1's 403 text also lists "scope insufficient"; the sandbox follows the
    // explicit 401 for scopes and uses 403 `scope_insufficient` for override flags (see write()).
    if (!opts.tokens.hasScope(token, scope)) {
      return errorResponse(
        401,
        doError('scope_missing', 'Scope missing', `this token lacks the scope ${scope}`, {
          required_scope: scope,
        }),
        {
          'www-authenticate': `Bearer realm="digital-onboarding", error="insufficient_scope", scope="${scope}"`,
        },
      );
    }
    return handler(req, match.params, { ...opts, token });
  };
}

function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer +(\S+) *$/i.exec(header ?? '');
  return m?.[1];
}

function header(req: RecordedRequest, name: string): string | undefined {
  return req.headers[name];
}

/**
 * The common part of every write: `Idempotency-Key`, `X-Operator-Override`, dry run.
 *
 * Idempotency (§1.0: required?, format, replay, conflict rule, TTL and scope are all undocumented;
 * sandbox decisions):
 * - the header is optional: the contact pages show it only in the example request, the batch
 *   pages call a UUID v4 "recommended";
 * - when sent it must be a UUID (any version; v4 is what the docs recommend) → else 400
 *   `idempotency_key_invalid`;
 * - keys are scoped to the bearer token; the fingerprint is method + path + the canonical override
 *   flags + the body as JSON with sorted keys (so whitespace and key order do not matter);
 * - only 2xx answers are kept (for 24 h): a failed request wrote nothing and may be retried under
 *   the same key;
 * - same key + same fingerprint → the stored answer again (same status, headers and body, plus
 *   `Idempotent-Replayed: true`), nothing written;
 * - same key + another fingerprint → 409 `idempotency_conflict` (the template's 409 "idempotency
 *   conflict").
 *
 * `dry_run` (DO-OVR): the real code path runs and its changes are rolled back; the answer gets
 * `X-Dry-Run: true`. DO-OVR says the header comes with the would-be response; the sandbox also adds
 * it to the error answers of a dry run.
 */
function write(
  req: RecordedRequest,
  ctx: Ctx,
  run: (overrides: Overrides) => SandboxResponse,
): SandboxResponse {
  // DO-1's parameter table has one row, the `X-Operator-Override` *header*; DO-2 has the path id
  // only. A query parameter (`?destructive=true`) is not a way to send a flag: refused, never ignored.
  const parameter = Object.keys(req.query)[0];
  if (parameter !== undefined) {
    return errorResponse(
      400,
      doError(
        'parameter_unknown',
        'Bad Request',
        `${req.method} ${req.path} takes no query parameter ${JSON.stringify(parameter)}; override flags (destructive, bulk, force, bypass_validation, dry_run) go in the X-Operator-Override header`,
        { parameter },
      ),
    );
  }
  const key = header(req, 'idempotency-key');
  if (key !== undefined && !UUID.test(key.trim())) {
    return errorResponse(
      400,
      doError(
        'idempotency_key_invalid',
        'Invalid Idempotency-Key',
        'Idempotency-Key must be a UUID (a client-generated UUID v4 is recommended)',
        { header: 'Idempotency-Key' },
      ),
    );
  }
  const parsed = parseOverrides(header(req, 'x-operator-override'));
  if (!parsed.ok) {
    return errorResponse(400, parsed.error);
  }
  const overrides = parsed.value;
  // The token may not use this flag: DO-1's 403 "scope insufficient" kind.
  const refused = ctx.tokens.forbiddenOverride(ctx.token, overrides);
  if (refused !== undefined) {
    return errorResponse(
      403,
      doError('scope_insufficient', 'Forbidden', `this token may not use the override ${refused}`, {
        override: refused,
      }),
    );
  }

  let scopedKey: string | undefined;
  let fingerprint = '';
  if (key !== undefined) {
    scopedKey = `${ctx.token}\n${key.trim().toLowerCase()}`;
    const body = req.body === undefined ? `raw:${req.rawBody}` : `json:${stringify(req.body)}`;
    fingerprint = createHash('sha256')
      .update(`${req.method} ${req.path}\n${canonicalOverrides(overrides)}\n${body}`)
      .digest('hex');
    const found = ctx.store.lookupIdempotency(scopedKey, fingerprint);
    if (found.kind === 'replay') {
      return {
        ...found.response,
        headers: { ...found.response.headers, 'idempotent-replayed': 'true' },
      };
    }
    if (found.kind === 'conflict') {
      return errorResponse(
        409,
        doError(
          'idempotency_conflict',
          'Conflict',
          'this Idempotency-Key was already used for a different request; use a new key for a new write',
          { idempotency_key: key },
        ),
      );
    }
  }

  const dryRun = overrides.flags.has('dry_run');
  let response = dryRun ? ctx.store.dryRun(() => run(overrides)) : run(overrides);
  if (dryRun) {
    response = { ...response, headers: { ...response.headers, 'x-dry-run': 'true' } };
  }
  if (scopedKey !== undefined && response.status >= 200 && response.status < 300) {
    ctx.store.saveIdempotency(scopedKey, fingerprint, response);
  }
  return response;
}

type Body = { ok: true; value: unknown } | { ok: false; response: SandboxResponse };

/** DO-1/DO-2: "Request body Required". No content-type check (docs silent; sandbox decision). */
function jsonBody(req: RecordedRequest): Body {
  if (req.rawBody.trim() === '') {
    return {
      ok: false,
      response: errorResponse(
        400,
        doError('body_required', 'Bad Request', 'a JSON request body is required'),
      ),
    };
  }
  if (req.body === undefined) {
    return {
      ok: false,
      response: errorResponse(
        400,
        doError('invalid_json', 'Bad Request', 'the request body is not valid JSON'),
      ),
    };
  }
  return { ok: true, value: req.body };
}

/** 403 `code`: the request needs `X-Operator-Override: <flag>` (DO-OVR). */
function overrideRequired(code: string, flag: string, detail: string, more = {}): SandboxResponse {
  return errorResponse(
    403,
    doError(code, 'Override required', detail, { required_override: flag, ...more }),
  );
}

function invalidBody(detail: string, field = 'body'): SandboxResponse {
  return errorResponse(400, doError('invalid_body', 'Bad Request', detail, { field }));
}

function contactResponse(status: number, contact: DigitalOnboardingContact): SandboxResponse {
  return { status, body: contact };
}

/**
 * `POST /v2/partner/contacts` (DO-1), body `oneOf<items | object>`.
 * - One contact object → upsert (see `DigitalOnboardingStore.upsert` for the match rule): 201 with
 *   the contact and `Location`, whether it was created or an existing one was updated — DO-1 lists
 *   201 as the only success status; a client tells the two apart by `inserted_at` vs `updated_at`.
 * - `{ "items": [ … ] }` (the gateway's shape) or a bare JSON array (the provider notes ask the
 *   sandbox to take it too) → bulk upsert. See `bulkUpsert`.
 */
function createOrBulkUpsert(req: RecordedRequest, _params: unknown, ctx: Ctx): SandboxResponse {
  return write(req, ctx, (overrides) => {
    const body = jsonBody(req);
    if (!body.ok) {
      return body.response;
    }
    const value = body.value;
    if (Array.isArray(value)) {
      return bulkUpsert(value, overrides, ctx);
    }
    if (!isPlainObject(value)) {
      return invalidBody('the body must be a contact object or {"items": [contact, …]}');
    }
    if (Object.hasOwn(value, 'items')) {
      const items = value['items'];
      if (!Array.isArray(items)) {
        return invalidBody('items must be an array of contacts', 'items');
      }
      const extra = Object.keys(value).find((k) => k !== 'items');
      if (extra !== undefined) {
        return invalidBody(`a bulk body carries only items; unexpected member ${extra}`, extra);
      }
      return bulkUpsert(items, overrides, ctx);
    }
    const checked = validateContact(value, {
      prefix: '',
      bypass: overrides.bypass,
      teamId: ctx.store.teamId,
    });
    if (!checked.ok) {
      return errorResponse(checked.status, checked.errors);
    }
    const outcome = ctx.store.upsert(checked.patch);
    if (!outcome.ok) {
      return errorResponse(outcome.status, outcome.error);
    }
    // 201 whether the contact was created or updated: DO-1 lists no other success status. What
    // happened shows in the contact itself (`inserted_at === updated_at` only right after a create).
    return {
      status: 201,
      headers: { location: `${CONTACTS_PATH}/${outcome.contact.id}` },
      body: outcome.contact,
    };
  });
}

/**
 * The bulk branch. The docs publish neither its answer nor a limit (§1.2, §1.8 q1/q3); sandbox
 * decisions:
 * - an empty list → 400 `invalid_body`;
 * - DO-OVR: "bulk — required when an operation touches more rows than the endpoint's bulk
 *   threshold", threshold unpublished: the sandbox treats every bulk-form request as over it, so
 *   without `bulk` → 403 `bulk_override_required` with `meta.row_count` (DO-OVR) — even for one item;
 * - more than `maxBulkItems` items → 400 `bulk_limit_exceeded` (`meta.max_items`, `meta.row_count`),
 *   checked after the override;
 * - items are upserted one after another in request order (a later item sees an earlier one, so
 *   two items with the same `unique_id` give "created" then "updated");
 * - one bad item fails alone: the answer is always 200 `{ "items": [ … ] }` in request order, each
 *   entry the contact, or `{ "errors": [ … ] }` whose errors carry `meta.index`, `meta.status` (the
 *   status the item would have had alone: 422, 409 or 403) and `meta.field` as `items[i].<field>`;
 * - per item, created vs updated shows as `inserted_at === updated_at` (see the store's clock).
 */
function bulkUpsert(items: readonly unknown[], overrides: Overrides, ctx: Ctx): SandboxResponse {
  if (items.length === 0) {
    return invalidBody('items must contain at least one contact', 'items');
  }
  if (!overrides.flags.has('bulk')) {
    return overrideRequired(
      'bulk_override_required',
      'bulk',
      `a bulk upsert (${items.length} rows) needs X-Operator-Override: bulk`,
      { row_count: items.length },
    );
  }
  if (items.length > ctx.maxBulkItems) {
    return errorResponse(
      400,
      doError(
        'bulk_limit_exceeded',
        'Too many items',
        `a bulk upsert takes at most ${ctx.maxBulkItems} items; this one has ${items.length}`,
        { field: 'items', max_items: ctx.maxBulkItems, row_count: items.length },
      ),
    );
  }
  const results = items.map((item, index): DigitalOnboardingContact | { errors: DoError[] } => {
    const prefix = `items[${index}].`;
    const checked = validateContact(item, {
      prefix,
      bypass: overrides.bypass,
      teamId: ctx.store.teamId,
    });
    if (!checked.ok) {
      return { errors: checked.errors.map((e) => itemError(e, index, checked.status)) };
    }
    const outcome = ctx.store.upsert(checked.patch, prefix);
    return outcome.ok
      ? outcome.contact
      : { errors: [itemError(outcome.error, index, outcome.status)] };
  });
  return { status: 200, body: { items: results } };
}

function itemError(error: DoError, index: number, status: number): DoError {
  return { ...error, meta: { ...error.meta, index, status } };
}

/**
 * `PATCH /v2/partner/contacts/{id}` (DO-2) → 200 with the contact. DO-2 leaves the semantics open
 * (§1.3); sandbox decisions: a merge — omitted members are kept, `null` clears a string column,
 * `meta_public` is an RFC 7396 merge patch; an unknown or non-UUID id → 404 `not_found` (template
 * 404), checked before the body. DO-2 lists no `X-Operator-Override` parameter; the sandbox takes
 * the standard set anyway (flags are cross-cutting per DO-OVR) so `dry_run` and
 * `bypass_validation` work on updates; `bulk`, `destructive` and `force` change nothing here.
 */
function updateContact(req: RecordedRequest, params: RouteParams, ctx: Ctx): SandboxResponse {
  const id = params['id'] ?? '';
  return write(req, ctx, (overrides) => {
    if (ctx.store.get(id) === undefined) {
      return notFound(`contact ${id} not found`);
    }
    const body = jsonBody(req);
    if (!body.ok) {
      return body.response;
    }
    if (!isPlainObject(body.value)) {
      return invalidBody('the body must be a contact object');
    }
    const checked = validateContact(body.value, {
      prefix: '',
      bypass: overrides.bypass,
      teamId: ctx.store.teamId,
    });
    if (!checked.ok) {
      return errorResponse(checked.status, checked.errors);
    }
    const outcome = ctx.store.update(id, checked.patch);
    if (outcome === undefined) {
      return notFound(`contact ${id} not found`);
    }
    return outcome.ok
      ? contactResponse(200, outcome.contact)
      : errorResponse(outcome.status, outcome.error);
  });
}

/**
 * `DELETE /v2/partner/contacts/{id}` (no endpoint page; DO-OVR and DO-AUTH describe it): scope
 * `partner:contacts:delete`, `X-Operator-Override: destructive` or 403 `override_required`, then
 * 204 No Content, or 404 for an unknown id.
 */
function deleteContact(req: RecordedRequest, params: RouteParams, ctx: Ctx): SandboxResponse {
  const id = params['id'] ?? '';
  return write(req, ctx, (overrides) => {
    if (!overrides.flags.has('destructive')) {
      return overrideRequired(
        'override_required',
        'destructive',
        'deleting a contact needs X-Operator-Override: destructive',
      );
    }
    return ctx.store.delete(id) ? { status: 204 } : notFound(`contact ${id} not found`);
  });
}

/**
 * `GET /v2/partner/contacts/{id}`. No read endpoint page exists (§1.5); the scope
 * `partner:contacts:read` does (DO-AUTH). Sandbox decision: 200 with the contact, else 404.
 */
function getContact(
  _req: RecordedRequest,
  params: Readonly<Record<string, string>>,
  ctx: Ctx,
): SandboxResponse {
  const id = params['id'] ?? '';
  const contact = UUID.test(id) ? ctx.store.get(id) : undefined;
  return contact === undefined
    ? notFound(`contact ${id} not found`)
    : contactResponse(200, contact);
}

const LIST_FILTERS: Readonly<Record<string, 'unique_id' | 'email'>> = {
  unique_id: 'unique_id',
  'filter[unique_id]': 'unique_id',
  email: 'email',
  'filter[email]': 'email',
};

function badQuery(code: string, detail: string, parameter: string): SandboxResponse {
  return errorResponse(400, doError(code, 'Bad Request', detail, { parameter }));
}

/**
 * `GET /v2/partner/contacts` — undocumented (§1.5; the 400 template mentions "sort/filter, or
 * window" errors, so lists exist). Sandbox decision:
 * - filters `unique_id=` and `email=` (also spelt `filter[unique_id]=` / `filter[email]=`), exact,
 *   email case-insensitive, combined with AND;
 * - `limit` 1..100 (default 50) and an opaque `cursor` from the previous page;
 * - answer `{ "items": [contact…], "next_cursor": string | null }`, oldest first;
 * - any other parameter, a repeated one, a bad limit or cursor → 400 (`invalid_filter`,
 *   `invalid_window`).
 */
function listContacts(req: RecordedRequest, _params: unknown, ctx: Ctx): SandboxResponse {
  const filters: { unique_id?: string; email?: string } = {};
  let limit = DEFAULT_PAGE_SIZE;
  let offset = 0;
  for (const [name, raw] of Object.entries(req.query)) {
    if (Array.isArray(raw)) {
      return badQuery('invalid_filter', `query parameter ${name} is given more than once`, name);
    }
    const filter = LIST_FILTERS[name];
    if (filter !== undefined) {
      filters[filter] = raw;
    } else if (name === 'limit') {
      limit = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
      if (!(limit >= 1 && limit <= MAX_PAGE_SIZE)) {
        return badQuery(
          'invalid_window',
          `limit must be an integer from 1 to ${MAX_PAGE_SIZE}`,
          name,
        );
      }
    } else if (name === 'cursor') {
      const decoded = decodeCursor(raw);
      if (decoded === undefined) {
        return badQuery('invalid_window', 'cursor is not one this API returned', name);
      }
      offset = decoded;
    } else {
      return badQuery(
        'invalid_filter',
        `unknown query parameter ${name}; filters: unique_id, email; paging: limit, cursor`,
        name,
      );
    }
  }
  const email = filters.email?.toLowerCase();
  const matching = ctx.store
    .all()
    .filter(
      (c) =>
        (filters.unique_id === undefined || c.unique_id === filters.unique_id) &&
        (email === undefined || c.email?.toLowerCase() === email),
    );
  const page = matching.slice(offset, offset + limit);
  const next = offset + limit < matching.length ? encodeCursor(offset + limit) : null;
  return { status: 200, body: { items: page, next_cursor: next } };
}

function encodeCursor(offset: number): string {
  return Buffer.from(`o:${offset}`).toString('base64url');
}

function decodeCursor(cursor: string): number | undefined {
  const m = /^o:(\d{1,9})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  return m ? Number(m[1]) : undefined;
}
