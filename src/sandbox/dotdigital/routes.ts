/**
 * Dotdigital API v3 contacts endpoints over HTTP (DD-OAS 3.4.3 and the reference pages DD-1..DD-10
 * of Dotdigital's documentation). Emulated: PATCH/GET/DELETE
 * `/contacts/v3/{identifier}/{value}`, PUT `/contacts/v3/import`, GET `/contacts/v3/import/{id}`.
 * Not emulated (404/405): POST `/contacts/v3` (create), PUT `/contacts/v3/{identifier}/{value}`
 * (replace), GET `/contacts/v3` (list), the bulk delete.
 */

import { Buffer } from 'node:buffer';
import { createRouter, type RouteParams } from '../shared/router.js';
import type { RecordedRequest, SandboxHandler, SandboxResponse } from '../shared/types.js';

import type { MergeOption } from './contact.js';
import { createDataField, listDataFields } from './data-fields.js';
import { badJson, contactNotFound, errorResponse, invalidContacts, invalidId } from './errors.js';
import {
  IDENTIFIER_PATTERN,
  identifierValueProblem,
  isIdentifierName,
  parseContactId,
} from './identifiers.js';
import type { ImportQueue } from './imports.js';
import { MAX_ACTIVE_IMPORTS } from './imports.js';
import type { RateLimitTier, TieredRateLimiter } from './rate-limit.js';
import { describeProblem, readIdentifiers, toContactWrite } from './request.js';
import { getValidators, toDetails } from './schema.js';
import type { ContactMatch, DotdigitalStore } from './store.js';

export interface DotdigitalRoutesOptions {
  username: string;
  password: string;
  store: DotdigitalStore;
  imports: ImportQueue;
  limiter: TieredRateLimiter;
  /** Read when an import is accepted. */
  importProcessingMs: () => number;
}

type Handler = (
  req: RecordedRequest,
  params: RouteParams,
  ctx: DotdigitalRoutesOptions,
) => SandboxResponse;

interface Route {
  /**
   * DD-7 says each call's tier is on its reference page, but those pages were not readable (open
   * question 1). These tiers are the third-party guess in api-evangelist/dotdigital
   * `rate-limits/dotdigital-rate-limits.yml`: single writes Medium, single reads High, bulk
   * import (and its status) Low. Unverified.
   */
  tier: RateLimitTier;
  handle: Handler;
}

const CONTACT = '/contacts/v3/:identifier/:value';

/**
 * `import/:importId` is registered first: a GET of `/contacts/v3/import/<id>` is an import status,
 * while PATCH and DELETE of the same path fall through to the contact routes (identifier `import`,
 * which the sandbox account does not have).
 */
const router = createRouter<Route>()
  .on('PUT', '/contacts/v3/import', { tier: 'Low', handle: importContacts })
  .on('GET', '/contacts/v3/import/:importId', { tier: 'Low', handle: getImportStatus })
  .on('GET', CONTACT, { tier: 'High', handle: getContact })
  .on('PATCH', CONTACT, { tier: 'Medium', handle: patchContact })
  .on('DELETE', CONTACT, { tier: 'Medium', handle: deleteContact })
  .on('GET', '/v2/data-fields', {
    tier: 'High',
    handle: (_r, _p, c) => listDataFields(c.store.dataFields),
  })
  .on('POST', '/v2/data-fields', {
    tier: 'Medium',
    handle: (req, _p, c) => createDataField(c.store.dataFields, parseJsonOrNull(req.rawBody)),
  });

export function createDotdigitalHandler(ctx: DotdigitalRoutesOptions): SandboxHandler {
  return (req) => {
    ctx.imports.settleDue();
    // DD-OAS: every operation is under basicAuth, and its 401 has no body. The sandbox checks
    // credentials before routing, so even an unknown path needs them (undocumented either way).
    if (!isAuthorised(req.headers['authorization'], ctx.username, ctx.password)) {
      return { status: 401, headers: { 'www-authenticate': 'Basic realm="Dotdigital API"' } };
    }
    const match = router.match(req.method, req.path);
    if (match.kind === 'not-found') {
      // Neither code is documented; they keep the `contacts:` errorResponse shape (DD-10).
      return errorResponse(404, 'contacts:notFound', `No resource at ${req.method} ${req.path}`);
    }
    if (match.kind === 'method-not-allowed') {
      return errorResponse(
        405,
        'contacts:methodNotAllowed',
        `The method ${req.method} is not allowed on ${req.path}`,
        undefined,
        { allow: match.allow.join(', ') },
      );
    }
    const refusal = ctx.limiter.take(match.handler.tier, Date.now());
    if (refusal !== undefined) {
      // DD-6/DD-7: tiered limits answer 429. The headers are the ones the official PHP SDK reads
      // (TooManyRequestsException), with x-ratelimit-reset in seconds until the reset as its
      // CHANGELOG says. The errorCode is not documented anywhere; this one is the sandbox's.
      return errorResponse(
        429,
        'contacts:tooManyRequests',
        `The ${refusal.tier} tier call rate limit of ${refusal.limit} has been exceeded`,
        undefined,
        {
          'x-ratelimit-scope': refusal.tier,
          'x-ratelimit-limit': String(refusal.limit),
          'x-ratelimit-reset': String(refusal.resetSeconds),
        },
      );
    }
    return match.handler.handle(req, match.params, ctx);
  };
}

/** DD-OAS `basicAuth` / DD-PHP: `Authorization: Basic base64(user:password)`. */
function isAuthorised(header: string | undefined, username: string, password: string): boolean {
  const m = /^basic\s+(\S+)\s*$/i.exec(header ?? '');
  if (m === null) {
    return false;
  }
  const decoded = Buffer.from(m[1] ?? '', 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return (
    colon >= 0 && decoded.slice(0, colon) === username && decoded.slice(colon + 1) === password
  );
}

type Target = { ok: true; match: ContactMatch } | { ok: false; response: SandboxResponse };

/**
 * The `{identifier}/{value}` path parameters (DD-OAS): the shared router has percent-decoded the
 * value once (`%2B` → `+`, while a literal `+` stays `+`, as path segments are not form-encoded).
 * Sandbox decision: an identifier name outside the DD-OAS pattern, and a custom identifier (the
 * account has none), are refused like a bad value, with `contacts:invalidId`.
 */
function readTarget(params: RouteParams): Target {
  const identifier = params['identifier'] ?? '';
  const value = params['value'] ?? '';
  if (!IDENTIFIER_PATTERN.test(identifier) || !isIdentifierName(identifier)) {
    return {
      ok: false,
      response: invalidId(
        identifier,
        value,
        `Unknown identifier '${identifier}': use contactId, email or mobileNumber (the sandbox defines no custom identifiers)`,
      ),
    };
  }
  const problem = identifierValueProblem(identifier, value);
  if (problem !== undefined) {
    return { ok: false, response: invalidId(identifier, value, problem) };
  }
  return {
    ok: true,
    match: { identifier, value: identifier === 'contactId' ? (parseContactId(value) ?? 0) : value },
  };
}

function getContact(_req: RecordedRequest, params: RouteParams, ctx: DotdigitalRoutesOptions) {
  const target = readTarget(params);
  if (!target.ok) {
    return target.response;
  }
  // Open question 7: the single GET has no `include` parameter in DD-OAS; the sandbox always
  // answers channelProperties, lists, preferences and consentRecords.
  const contact = ctx.store.findLive(target.match);
  return contact === undefined ? notFound(target.match, params) : { status: 200, body: contact };
}

function deleteContact(_req: RecordedRequest, params: RouteParams, ctx: DotdigitalRoutesOptions) {
  const target = readTarget(params);
  if (!target.ok) {
    return target.response;
  }
  // DD-OAS deleteContact: 200 `{contactId}`; DD-1: the contact goes to the recycle bin.
  const contactId = ctx.store.delete(target.match.identifier, target.match.value);
  return contactId === undefined
    ? notFound(target.match, params)
    : { status: 200, body: { contactId } };
}

function notFound(match: ContactMatch, params: RouteParams): SandboxResponse {
  return contactNotFound(match.identifier, params['value'] ?? String(match.value));
}

/** DD-OAS `merge-option` query values, and their camelCase import spelling. */
const MERGE_OPTIONS: Readonly<Record<string, MergeOption>> = {
  overwrite: 'overwrite',
  'overwrite-if-not-empty': 'overwriteIfNotEmpty',
  'overwrite-if-empty': 'overwriteIfEmpty',
};

function patchContact(req: RecordedRequest, params: RouteParams, ctx: DotdigitalRoutesOptions) {
  const target = readTarget(params);
  if (!target.ok) {
    return target.response;
  }
  const query = req.query['merge-option'];
  const mergeOption = query === undefined ? 'overwrite' : MERGE_OPTIONS[String(query)];
  if (mergeOption === undefined || Array.isArray(query)) {
    // An invalid query value is a 400 (DD-OAS declares the enum); the errorCode is the sandbox's.
    return errorResponse(400, 'contacts:invalidParameter', 'The merge-option is invalid', [
      {
        item: 'merge-option',
        description: `must be one of ${Object.keys(MERGE_OPTIONS).join(', ')}; got ${JSON.stringify(query)}`,
      },
    ]);
  }
  const parsed = parseJson(req.rawBody);
  if (!parsed.ok) {
    return badJson(parsed.why);
  }
  const validate = getValidators().updateContact;
  if (!validate(parsed.value)) {
    return invalidContacts(toDetails(validate.errors ?? []));
  }
  const body = parsed.value as Record<string, unknown>;
  const read = readIdentifiers(body['identifiers']);
  if (!read.ok) {
    const { problem } = read;
    return problem.kind === 'syntax'
      ? invalidId(problem.name, problem.value, problem.why)
      : invalidContacts([
          { item: `/identifiers/${problem.name}`, description: describeProblem(problem) },
        ]);
  }
  if (read.contactId !== undefined) {
    // DD-OAS importContact requestBody: "It is not possible to modify the contactId field".
    return invalidContacts([
      { item: '/identifiers/contactId', description: 'The contactId cannot be set or changed' },
    ]);
  }

  const unknown = ctx.store.dataFields.unknown(body['dataFields'] as Record<string, unknown>);
  if (unknown.length > 0) {
    // A real account refuses the whole contact (#15 item 3); DD-10's invalidContacts shape.
    return invalidContacts(unknown.map(unknownDataField));
  }
  const outcome = ctx.store.write(
    target.match,
    toContactWrite(body, read.identifiers),
    mergeOption,
  );
  if (!outcome.ok) {
    if (outcome.reason === 'contactNotFound') {
      // DD-1: a new contact is created from email or mobileNumber; a contactId cannot create.
      return notFound(target.match, params);
    }
    // DD-OAS 409 example wording (its missing quote restored).
    return errorResponse(
      409,
      'contacts:idAlreadyExists',
      `The id value '${outcome.value}' for the identifier '${outcome.identifier}' already exists. All identifiers must be unique!`,
      [
        {
          item: outcome.identifier,
          description: `'${outcome.value}' already belongs to another contact`,
        },
      ],
    );
  }
  // DD-OAS: 201 created, 200 updated. Open question 3: an undeleted contact's status is not
  // documented; the sandbox answers 200 (the contactId is the old one, so it is an update).
  return { status: outcome.action === 'created' ? 201 : 200, body: outcome.contact };
}

/** DD-3: bodies up to 50 MB; 25 active imports per account. */
function importContacts(req: RecordedRequest, _params: RouteParams, ctx: DotdigitalRoutesOptions) {
  const parsed = parseJson(req.rawBody);
  if (!parsed.ok) {
    return badJson(parsed.why);
  }
  const validate = getValidators().importBody;
  const errors = validate(parsed.value) ? [] : (validate.errors ?? []);
  // Sandbox decision: a body whose outline is wrong (not an object, no or empty `contacts`, an
  // unknown mergeOption) is refused whole with 400; a schema error inside one contact fails only
  // that contact, with DD-4's ApiSchemaViolation, once the import runs.
  const perContact = new Map<number, typeof errors>();
  const outline = errors.filter((e) => {
    const m = /^\/contacts\/(\d+)(?:\/|$)/.exec(e.instancePath);
    if (m === null) {
      return true;
    }
    const index = Number(m[1]);
    perContact.set(index, [...(perContact.get(index) ?? []), e]);
    return false;
  });
  if (outline.length > 0) {
    return invalidContacts(toDetails(outline));
  }
  if (ctx.imports.activeCount() >= MAX_ACTIVE_IMPORTS) {
    // DD-OAS importContacts 429 example, word for word.
    return errorResponse(
      429,
      'contacts:tooManyActiveImports',
      'Your import request cannot be accepted as too many imports are being processed for you account. Please wait for an import to complete and then resubmit.',
    );
  }
  const body = parsed.value as { mergeOption?: MergeOption; contacts: unknown[] };
  const importId = ctx.imports.accept(
    body.mergeOption ?? 'overwrite',
    body.contacts,
    perContact,
    ctx.importProcessingMs(),
  );
  return { status: 202, body: { importId } };
}

function getImportStatus(_req: RecordedRequest, params: RouteParams, ctx: DotdigitalRoutesOptions) {
  const importId = params['importId'] ?? '';
  // Sandbox decision: any unknown id, GUID-shaped or not, is a 404 (DD-OAS also lists a 400,
  // with an example copied from another operation).
  const status = ctx.imports.status(importId);
  return status === undefined
    ? errorResponse(
        404,
        'contacts:importNotFound',
        `The import request '${importId}' could not be found!`,
      )
    : { status: 200, body: status };
}

/** The detail of a data field the account does not have. */
export function unknownDataField(name: string): { item: string; description: string } {
  return {
    item: `dataFields.${name}`,
    description: `The data field '${name}' does not exist in the account`,
  };
}

function parseJsonOrNull(text: string): unknown {
  const parsed = parseJson(text);
  return parsed.ok ? parsed.value : null;
}

type Parsed = { ok: true; value: unknown } | { ok: false; why: string };

function parseJson(text: string): Parsed {
  if (text.trim() === '') {
    return { ok: false, why: 'The request body is empty' };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, why: err instanceof Error ? err.message : String(err) };
  }
}
