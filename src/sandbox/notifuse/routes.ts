/**
 * Notifuse's contact endpoints over HTTP, answering as the server code does (HEAD d8f31f81:
 * `internal/http/contact_handler.go`, `middleware/auth.go`, `service/contact_service.go`).
 * Where the OpenAPI document or the docs say otherwise, the code wins; each such place is noted.
 */

import { createRouter } from '../shared/router.js';
import type { RecordedRequest, SandboxHandler, SandboxResponse } from '../shared/types.js';

import type { ContactInput, ContactListStatus } from './contact.js';
import { parseContact } from './contact.js';
import { isEmail, normalizeEmail } from './email.js';
import { goHttpError, goJson, goJsonError } from './go-json.js';
import type { ListQuery, NotifuseStore } from './store.js';
import { BULK_IMPORT_CHUNK_SIZE, LIST_TEXT_FILTERS } from './store.js';

export interface NotifuseRoutesOptions {
  apiKey: string;
  workspaceId: string;
  store: NotifuseStore;
}

type Route = (req: RecordedRequest, ctx: NotifuseRoutesOptions) => SandboxResponse;

const LIST_PATH = '/api/contacts.list';

/** Import result entry (`domain.UpsertContactOperation`; `error` is omitempty). */
interface Operation {
  email: string;
  action: 'create' | 'update' | 'error';
  error?: string;
}

/**
 * Every path is registered for its one method. The handlers check the method themselves, after
 * the auth middleware, so a wrong method without credentials is a 401, not a 405.
 */
const router = createRouter<Route>()
  .on('POST', '/api/contacts.upsert', upsert)
  .on('POST', '/api/contacts.import', importContacts)
  .on('GET', '/api/contacts.getByEmail', getByEmail)
  .on('GET', '/api/contacts.getByExternalID', getByExternalId)
  .on('GET', LIST_PATH, list)
  .on('POST', '/api/contacts.delete', deleteContact)
  .on('GET', '/api/contacts.count', count)
  .on('POST', '/api/contactLists.updateStatus', updateListStatus);

export function createNotifuseHandler(opts: NotifuseRoutesOptions): SandboxHandler {
  return (req) => {
    const match = router.match(req.method, req.path);
    if (match.kind === 'not-found') {
      // Go's ServeMux default.
      return goHttpError(404, '404 page not found');
    }
    const { authorization } = req.headers;
    const authError = authenticate(authorization, opts.apiKey);
    if (authError !== undefined) {
      return goJsonError(401, authError);
    }
    if (match.kind === 'method-not-allowed') {
      // contacts.list answers through http.Error (text/plain), the others through WriteJSONError.
      return match.pattern === LIST_PATH
        ? goHttpError(405, 'Method not allowed')
        : goJsonError(405, 'Method not allowed');
    }
    return match.handler(req, opts);
  };
}

/**
 * `middleware.RequireAuth`. Real API keys are HS256 JWTs; the sandbox accepts exactly its
 * configured key and words rejections as jwt/v5 would for a non-JWT or a wrongly signed one.
 */
function authenticate(header: string | undefined, apiKey: string): string | undefined {
  if (header === undefined || header === '') {
    return 'Authorization header is required';
  }
  const parts = header.split(' ');
  if (parts.length !== 2 || parts[0] !== 'Bearer') {
    return 'Invalid authorization header format';
  }
  const token = parts[1] ?? '';
  if (token === apiKey) {
    return undefined;
  }
  return token.split('.').length === 3
    ? 'Invalid token: token signature is invalid: signature is invalid'
    : 'Invalid token: token is malformed: token contains an invalid number of segments';
}

/** The message a failed `AuthenticateUserForWorkspace` carries for an unknown workspace. */
function workspaceNotFound(workspaceId: string): string {
  return `workspace not found: ${workspaceId}`;
}

type GoBody = Record<string, unknown> | 'invalid';

/**
 * `json.Unmarshal(body, &struct)`: the body must be one JSON value; `null` gives the zero struct;
 * arrays and scalars fail. Go matches field names case-insensitively (last match wins).
 */
function decodeGoStruct(req: RecordedRequest): GoBody {
  const body = req.body;
  if (body === undefined) {
    return 'invalid';
  }
  if (body === null) {
    return {};
  }
  return typeof body === 'object' && !Array.isArray(body)
    ? (body as Record<string, unknown>)
    : 'invalid';
}

function goField(obj: Record<string, unknown>, name: string): unknown {
  let value: unknown;
  for (const key of Object.keys(obj)) {
    if (key.toLowerCase() === name) {
      value = obj[key];
    }
  }
  return value;
}

/** A Go `string` field: absent or null → "", a string → itself, anything else fails decoding. */
function goStringField(obj: Record<string, unknown>, name: string): string | 'invalid' {
  const value = goField(obj, name);
  if (value === undefined || value === null) {
    return '';
  }
  return typeof value === 'string' ? value : 'invalid';
}

function firstQuery(req: RecordedRequest, name: string): string {
  const value = req.query[name];
  return (Array.isArray(value) ? value[0] : value) ?? '';
}

const LIST_STATUSES: readonly string[] = [
  'active',
  'pending',
  'unsubscribed',
  'bounced',
  'complained',
];

/**
 * `POST /api/contactLists.updateStatus` `{workspace_id, email, list_id, status}`: the 400 messages
 * of the OpenAPI examples, checked in the order of its `required` list; only an existing membership
 * changes. A missing one is 200 `{success: true, message: "contact not in list", found: false}`
 * as the code answers (the OpenAPI documents 404 `contact list not found`).
 */
function updateListStatus(req: RecordedRequest, ctx: NotifuseRoutesOptions): SandboxResponse {
  const body = decodeGoStruct(req);
  const fields =
    body === 'invalid'
      ? 'invalid'
      : (['workspace_id', 'email', 'list_id', 'status'] as const).map((name) => ({
          name,
          value: goStringField(body, name),
        }));
  if (fields === 'invalid' || fields.some((f) => f.value === 'invalid')) {
    return goJsonError(400, 'Invalid request body');
  }
  const missing = fields.find((f) => f.value === '');
  if (missing !== undefined) {
    return goJsonError(400, `${missing.name} is required`);
  }
  const [workspaceId, email, listId, status] = fields.map((f) => f.value);
  if (!LIST_STATUSES.includes(status!)) {
    return goJsonError(400, 'invalid status value');
  }
  if (workspaceId !== ctx.workspaceId) {
    return goJsonError(400, workspaceNotFound(workspaceId!));
  }
  const found = ctx.store.updateMembership(email!, listId!, status as ContactListStatus);
  return goJson(
    200,
    found
      ? { success: true, message: 'status updated successfully', found: true }
      : { success: true, message: 'contact not in list', found: false },
  );
}

function upsert(req: RecordedRequest, ctx: NotifuseRoutesOptions): SandboxResponse {
  const body = decodeGoStruct(req);
  const workspaceId = body === 'invalid' ? 'invalid' : goStringField(body, 'workspace_id');
  if (body === 'invalid' || workspaceId === 'invalid') {
    return goJsonError(400, 'Invalid request body');
  }
  if (workspaceId === '') {
    return goJsonError(400, 'workspace_id is required');
  }
  // `contact` is a json.RawMessage: absent → "contact field is required"; null is parsed (and
  // then lacks an email). OAS says `contact is required`; the code wins.
  const rawContact = goField(body, 'contact');
  if (rawContact === undefined) {
    return goJsonError(400, 'contact field is required');
  }
  const parsed = parseContact(rawContact);
  if (!parsed.ok) {
    return goJsonError(400, `invalid contact: ${parsed.error}`);
  }
  // Permission failures on upsert are 400 with the auth error text (no 403 in this code).
  if (workspaceId !== ctx.workspaceId) {
    return goJsonError(400, workspaceNotFound(workspaceId));
  }
  const outcome = ctx.store.upsert(parsed.contact);
  if (!outcome.ok) {
    // A database error (e.g. over-long value) is a 400, never a 200 with action "error".
    return goJsonError(400, outcome.error);
  }
  // `error` is omitempty in the code although the OAS example shows `"error": null`.
  return goJson(200, { email: parsed.contact.email, action: outcome.action });
}

function importContacts(req: RecordedRequest, ctx: NotifuseRoutesOptions): SandboxResponse {
  const body = decodeGoStruct(req);
  const workspaceId = body === 'invalid' ? 'invalid' : goStringField(body, 'workspace_id');
  const lists =
    body === 'invalid' ? 'invalid' : decodeStringSlice(goField(body, 'subscribe_to_lists'));
  if (body === 'invalid' || workspaceId === 'invalid' || lists === 'invalid') {
    return goJsonError(400, 'Invalid request body');
  }
  // Messages per the code; the OAS documents `contacts is required` and
  // `contacts array cannot be empty`.
  if (workspaceId === '') {
    return goJsonError(400, 'workspace_id is required');
  }
  const rawContacts = goField(body, 'contacts');
  if (!Array.isArray(rawContacts)) {
    return goJsonError(400, 'contacts must be an array');
  }
  if (rawContacts.length === 0) {
    return goJsonError(400, 'contacts array is empty');
  }
  // Permission failures on import are 500 (OAS: 400).
  if (workspaceId !== ctx.workspaceId) {
    return goJsonError(500, `failed to authenticate user: ${workspaceNotFound(workspaceId)}`);
  }

  const operations: Operation[] = [];
  // An item that fails parsing becomes an empty contact, so its reported reason is always
  // "email is required" and its email "", whatever was actually wrong with it.
  const valid: { contact: ContactInput; index: number }[] = [];
  rawContacts.forEach((raw: unknown, index) => {
    const parsed = parseContact(raw);
    if (parsed.ok) {
      valid.push({ contact: parsed.contact, index });
    } else {
      operations.push({
        email: '',
        action: 'error',
        error: `invalid contact at index ${index}: email is required`,
      });
    }
  });

  // De-duplicate by email, last occurrence wins; earlier duplicates get no result at all.
  const lastIndex = new Map<string, number>();
  for (const [i, item] of valid.entries()) {
    lastIndex.set(item.contact.email, i);
  }
  const unique = valid.filter((item, i) => lastIndex.get(item.contact.email) === i);

  const upserted: string[] = [];
  for (let start = 0; start < unique.length; start += BULK_IMPORT_CHUNK_SIZE) {
    const chunk = unique.slice(start, start + BULK_IMPORT_CHUNK_SIZE);
    const outcome = ctx.store.bulkUpsert(chunk.map((item) => item.contact));
    if (!outcome.ok) {
      for (const item of chunk) {
        operations.push({
          email: item.contact.email,
          action: 'error',
          error: `failed to upsert contact at index ${item.index}: ${outcome.error}`,
        });
      }
      continue;
    }
    for (const result of outcome.results) {
      operations.push({ email: result.email, action: result.isNew ? 'create' : 'update' });
      upserted.push(result.email);
    }
  }
  if (lists.length > 0 && upserted.length > 0) {
    ctx.store.subscribe(upserted, lists);
  }
  return goJson(200, { operations });
}

/** A Go `[]string` field: null elements decode to "". */
function decodeStringSlice(value: unknown): string[] | 'invalid' {
  if (value === undefined || value === null) {
    return [];
  }
  if (!Array.isArray(value)) {
    return 'invalid';
  }
  const out: string[] = [];
  for (const item of value as unknown[]) {
    if (item === null) {
      out.push('');
    } else if (typeof item === 'string') {
      out.push(item);
    } else {
      return 'invalid';
    }
  }
  return out;
}

function getByEmail(req: RecordedRequest, ctx: NotifuseRoutesOptions): SandboxResponse {
  return getContactBy(req, ctx, 'email', 'email', (email) =>
    ctx.store.findByEmail(normalizeEmail(email)),
  );
}

function getByExternalId(req: RecordedRequest, ctx: NotifuseRoutesOptions): SandboxResponse {
  return getContactBy(req, ctx, 'external_id', 'external ID', (id) =>
    ctx.store.findByExternalId(id),
  );
}

/** `contacts.getBy…`: the workspace, then the key `param` (`name` in messages), then the contact. */
function getContactBy(
  req: RecordedRequest,
  ctx: NotifuseRoutesOptions,
  param: string,
  name: string,
  find: (value: string) => unknown,
): SandboxResponse {
  const workspaceId = firstQuery(req, 'workspace_id');
  if (workspaceId === '') {
    return goJsonError(400, 'Missing workspace ID');
  }
  const value = firstQuery(req, param);
  if (value === '') {
    return goJsonError(400, `Missing ${name}`);
  }
  if (workspaceId !== ctx.workspaceId) {
    return goJsonError(500, `Failed to get contact by ${name}`);
  }
  const contact = find(value);
  return contact === undefined ? goJsonError(404, 'Contact not found') : goJson(200, { contact });
}

const GO_BOOL: Readonly<Record<string, boolean>> = {
  '1': true,
  t: true,
  T: true,
  TRUE: true,
  true: true,
  True: true,
  '0': false,
  f: false,
  F: false,
  FALSE: false,
  false: false,
  False: false,
};

/** `GetContactsRequest.FromQueryParams` + `Validate`; every error here is text/plain. */
function list(req: RecordedRequest, ctx: NotifuseRoutesOptions): SandboxResponse {
  const workspaceId = firstQuery(req, 'workspace_id');
  if (workspaceId === '') {
    return goHttpError(400, 'Invalid request: workspace_id is required');
  }
  let limit = 20;
  const limitText = firstQuery(req, 'limit');
  if (limitText !== '') {
    if (!/^[+-]?\d+$/.test(limitText)) {
      return goHttpError(
        400,
        `Invalid request: invalid limit: strconv.Atoi: parsing ${JSON.stringify(limitText)}: invalid syntax`,
      );
    }
    limit = Number(limitText);
    if (limit < 1 || limit > 100) {
      return goHttpError(400, 'Invalid request: limit must be between 1 and 100');
    }
  }
  let withContactLists = false;
  const withText = firstQuery(req, 'with_contact_lists');
  if (withText !== '') {
    const parsed = GO_BOOL[withText];
    if (parsed === undefined) {
      return goHttpError(
        400,
        `Invalid request: invalid with_contact_lists: strconv.ParseBool: parsing ${JSON.stringify(withText)}: invalid syntax`,
      );
    }
    withContactLists = parsed;
  }
  // Permission failures on list are a 500 in text/plain.
  if (workspaceId !== ctx.workspaceId) {
    return goHttpError(500, 'Failed to get contacts');
  }
  const query: ListQuery = { filters: {}, withContactLists, limit };
  for (const name of LIST_TEXT_FILTERS) {
    const value = firstQuery(req, name);
    if (value !== '') {
      query.filters[name] = value;
    }
  }
  const listId = firstQuery(req, 'list_id');
  if (listId !== '') {
    query.listId = listId;
  }
  const status = firstQuery(req, 'contact_list_status');
  if (status !== '') {
    query.contactListStatus = status;
  }
  const segments = req.query['segments[]'];
  if (segments !== undefined) {
    query.segments = Array.isArray(segments) ? segments : [segments];
  }
  const cursor = firstQuery(req, 'cursor');
  if (cursor !== '') {
    query.cursor = cursor;
  }
  const outcome = ctx.store.list(query);
  if (!outcome.ok) {
    // A malformed cursor fails in the repository: 500 text/plain (the OAS example says a 400
    // `invalid cursor encoding` in JSON; the code wins).
    return goHttpError(500, 'Failed to get contacts');
  }
  // `next_cursor` is omitempty: absent on the last page (OAS: nullable).
  return goJson(
    200,
    outcome.nextCursor === undefined
      ? { contacts: outcome.contacts }
      : { contacts: outcome.contacts, next_cursor: outcome.nextCursor },
  );
}

function deleteContact(req: RecordedRequest, ctx: NotifuseRoutesOptions): SandboxResponse {
  const body = decodeGoStruct(req);
  const workspaceId = body === 'invalid' ? 'invalid' : goStringField(body, 'workspace_id');
  const email = body === 'invalid' ? 'invalid' : goStringField(body, 'email');
  if (body === 'invalid' || workspaceId === 'invalid' || email === 'invalid') {
    return goJsonError(400, 'Invalid request body');
  }
  if (workspaceId === '') {
    return goJsonError(400, 'workspace_id is required');
  }
  if (email === '') {
    return goJsonError(400, 'email is required');
  }
  // Checked before normalisation, so surrounding spaces are an invalid format here.
  if (!isEmail(email)) {
    return goJsonError(400, 'invalid email format');
  }
  if (workspaceId !== ctx.workspaceId) {
    return goJsonError(500, 'Failed to delete contact');
  }
  return ctx.store.delete(normalizeEmail(email))
    ? goJson(200, { success: true })
    : goJsonError(404, 'Contact not found');
}

function count(req: RecordedRequest, ctx: NotifuseRoutesOptions): SandboxResponse {
  const workspaceId = firstQuery(req, 'workspace_id');
  if (workspaceId === '') {
    return goJsonError(400, 'Missing workspace ID');
  }
  if (workspaceId !== ctx.workspaceId) {
    return goJsonError(500, 'Failed to count contacts');
  }
  return goJson(200, { total_contacts: ctx.store.count() });
}
