/**
 * SFMC's auth and Contacts REST hosts on one server (SF-x name
 * Salesforce's documentation pages). Where the docs are silent the sandbox decides, and says so beside the
 * code.
 *
 * A REST call goes through: token check (401) → throttle (429) → route (404/405) → scope (403) →
 * content type (415) → JSON body (400) → the endpoint. Throttling comes after the token check
 * because SF-9 throttles "the business unit or user causing this issue", which needs the token to
 * tell.
 */

import { createRouter } from '../shared/router.js';
import type { RecordedRequest, SandboxHandler, SandboxResponse } from '../shared/types.js';

import type { AttributeValue } from './attribute-sets.js';
import {
  ATTRIBUTE_SET_NAMES,
  canonicalAttributeName,
  canonicalSetName,
  checkContact,
  checkRequestSets,
  checkValue,
} from './attribute-sets.js';
import type { TokenEndpointOptions } from './auth.js';
import { handleTokenRequest, SCOPE_READ, SCOPE_WRITE, TOKEN_PATH, tokenFailure } from './auth.js';
import type { SalesforceMcContact, SalesforceMcStore } from './store.js';
import { mergeAttributeSets } from './store.js';
import type { Throttle } from './throttle.js';
import type { RestErrorBody } from './wire.js';
import {
  ErrorCode,
  field,
  isRecord,
  json,
  oauthError,
  restError,
  restErrorBody,
  serviceMessageIds,
  timestamp,
  validationError,
} from './wire.js';

export interface SalesforceMcRoutesOptions extends TokenEndpointOptions {
  store: SalesforceMcStore;
  throttle: Throttle;
}

interface Context extends SalesforceMcRoutesOptions {
  nextOperationId: () => number;
}

/** A JSON request body (an object). */
type Body = Record<string, unknown>;

interface RestRoute {
  /** The token needs one of these (SF-13). */
  readonly scopes: readonly string[];
  readonly run: (body: Body, req: RecordedRequest, ctx: Context) => SandboxResponse;
}

export const CONTACTS_PATH = '/contacts/v1/contacts';
export const EMAIL_SEARCH_PATH = '/contacts/v1/addresses/email/search';
export const DELETE_PATH = '/contacts/v1/contacts/actions/delete';
export const CONTACT_KEY_SEARCH_PATH = '/contacts/v1/addresses/search/ContactKey';

/**
 * Paths match exactly: `rest_instance_url` ends in `/`, so a client that appends `/contacts/…` to
 * it asks for `//contacts/…` and gets a 404 here (real SFMC's handling of that is unknown).
 */
const router = createRouter<RestRoute>()
  .on('POST', CONTACTS_PATH, {
    scopes: [SCOPE_WRITE],
    run: (body, _req, ctx) => writeContact('create', body, ctx),
  })
  .on('PATCH', CONTACTS_PATH, {
    scopes: [SCOPE_WRITE],
    run: (body, _req, ctx) => writeContact('update', body, ctx),
  })
  // SF-13 lists email search under both the read and the write scope.
  .on('POST', EMAIL_SEARCH_PATH, { scopes: [SCOPE_READ, SCOPE_WRITE], run: searchByEmail })
  .on('POST', DELETE_PATH, { scopes: [SCOPE_WRITE], run: deleteContacts })
  // SF-13: "Contacts > Audiences > Read" → audiences_read.
  .on('POST', CONTACT_KEY_SEARCH_PATH, { scopes: ['audiences_read'], run: searchByContactKey });

export function createSalesforceMcHandler(opts: SalesforceMcRoutesOptions): SandboxHandler {
  let operationId = 0;
  const ctx: Context = { ...opts, nextOperationId: () => ++operationId };
  return (req) => {
    if (req.path === TOKEN_PATH) {
      return req.method === 'POST'
        ? handleTokenRequest(req, ctx)
        : oauthError(405, 'invalid_request', 'Use POST to request a token.', { allow: 'POST' });
    }
    const token = ctx.issuer.check(req);
    if (!token.ok) {
      return tokenFailure(token.reason);
    }
    const throttled = ctx.throttle.take();
    if (throttled !== undefined) {
      return throttled;
    }
    const match = router.match(req.method, req.path);
    // SF-10 has no row for an unknown route or a wrong method. The sandbox answers 404 with
    // 30003 ("object not found") and 405 with 10000 ("generic"), in the REST error shape.
    if (match.kind === 'not-found') {
      return restError(
        404,
        ErrorCode.objectNotFound,
        `No resource matches ${req.method} ${req.path}.`,
      );
    }
    if (match.kind === 'method-not-allowed') {
      return restError(
        405,
        ErrorCode.generic,
        `The requested resource does not support http method '${req.method}'.`,
        { allow: match.allow.join(', ') },
      );
    }
    const route = match.handler;
    if (!route.scopes.some((s) => token.scopes.has(s))) {
      return restError(
        403,
        ErrorCode.insufficientPrivileges,
        `Insufficient privileges: the access token lacks the ${route.scopes.join(' or ')} scope.`,
      );
    }
    const body = readJsonBody(req);
    return 'status' in body ? body : route.run(body.value, req, ctx);
  };
}

/**
 * SF-10: 415 for an unsupported media type (no errorcode documented; the sandbox sends 10000).
 * A body without a content type is read as JSON. Unparsable JSON is 10004 ("invalid message
 * format, unbalanced JSON"); an empty body is read as `{}` so the endpoint names what is missing.
 */
function readJsonBody(req: RecordedRequest): SandboxResponse | { value: Record<string, unknown> } {
  const contentType = req.headers['content-type'];
  if (req.rawBody.trim() === '') {
    return { value: {} };
  }
  if (contentType !== undefined && !/^application\/([\w.+-]+\+)?json\b/i.test(contentType.trim())) {
    return restError(
      415,
      ErrorCode.generic,
      `Unsupported media type '${contentType}'. Send application/json.`,
    );
  }
  if (req.body === undefined) {
    return restError(400, ErrorCode.invalidMessageFormat, 'The request body is not valid JSON.');
  }
  if (!isRecord(req.body)) {
    return restError(
      400,
      ErrorCode.invalidMessageFormat,
      'The request body must be a JSON object.',
    );
  }
  return { value: req.body };
}

interface ContactWrite {
  contactKey: string | undefined;
  contactId: number | undefined;
  sets: Map<string, Map<string, AttributeValue | null>>;
}

/**
 * `POST` (create) and `PATCH` (update) `/contacts/v1/contacts`, SF-1 and SF-2. The body nests
 * values as `attributeSets[].items[].values[]` (the examples' shape; the tables say
 * `attributeSets.values`). Validation failures answer 400 in the REST error shape: the docs do not
 * say whether SFMC sends them as 400 or as 200 with `hasErrors` (open question 13).
 *
 * Decisions where SF-1/SF-2 are silent:
 * - POST on an existing key updates the contact and answers `isNewContactKey: false`
 *   (open question 10; SF-1's own 200 example shows `isNewContactKey: false`).
 * - PATCH on an unknown key or ID changes nothing and answers 200 with `hasErrors: true`,
 *   `operationStatus: "Fail"` and one result message (open question 11), the response shape
 *   SF-2.6 says to treat as a failure.
 * - POST needs `contactKey` to create (SF-1 "You must also include values for contactKey");
 *   a `contactID` must name an existing contact.
 */
function writeContact(mode: 'create' | 'update', body: Body, ctx: Context): SandboxResponse {
  const parsed = parseContactWrite(body);
  if ('errors' in parsed) {
    return validationError(parsed.errors);
  }
  const write = parsed.write;
  let target: SalesforceMcContact | undefined;
  if (write.contactId !== undefined) {
    target = ctx.store.getById(write.contactId);
    if (target === undefined && mode === 'create') {
      return validationError([
        restErrorBody(
          ErrorCode.invalidValue,
          `No contact has contactID ${write.contactId}. Omit contactID to create a contact.`,
        ),
      ]);
    }
    if (
      target !== undefined &&
      write.contactKey !== undefined &&
      target.contactKey !== write.contactKey
    ) {
      return validationError([
        restErrorBody(
          ErrorCode.invalidValue,
          `contactKey '${write.contactKey}' does not belong to contactID ${write.contactId}.`,
        ),
      ]);
    }
  } else if (write.contactKey !== undefined) {
    target = ctx.store.get(write.contactKey);
  }
  const contactKey = target?.contactKey ?? write.contactKey;
  if (target === undefined && mode === 'update') {
    return contactNotFound(write);
  }
  if (contactKey === undefined) {
    // Unreachable after the checks above; kept so the types need no assertion.
    return validationError([
      restErrorBody(ErrorCode.missingRequiredField, 'Provide a value for contactKey.'),
    ]);
  }
  const merged = mergeAttributeSets(target?.attributeSets ?? {}, write.sets);
  const errors = [...checkRequestSets(write.sets.keys()), ...checkContact(merged)];
  if (errors.length > 0) {
    return validationError(errors);
  }
  const { contact, isNew } = ctx.store.save(contactKey, merged);
  const ids = serviceMessageIds();
  // SF-1/SF-2 example keys, spelled as documented: `rowsAffetcted` (sic), `contactId`,
  // `contactTypeID`. Live-tested clients read `rowsAffected`/`contactID` (open question 12); the
  // sandbox sends only the documented spellings so an adapter must accept them.
  // `responseDateTime` is in the Ballerina model (SF-BAL), not in the doc example.
  return json(200, {
    operationStatus: 'OK',
    rowsAffetcted: 1,
    contactKey: contact.contactKey,
    contactId: contact.contactId,
    contactTypeID: contact.contactTypeId,
    isNewContactKey: isNew,
    requestServiceMessageID: ids.requestServiceMessageID,
    responseDateTime: timestamp(),
    hasErrors: false,
    resultMessages: [],
    serviceMessageID: ids.serviceMessageID,
  });
}

/**
 * The sandbox's answer to PATCH on a contact that does not exist. The `resultMessages` item shape
 * follows the community model quoted in the provider file (`resultType`, `resultCode`,
 * `resultClass`, `message`); the values are the sandbox's.
 */
function contactNotFound(write: ContactWrite): SandboxResponse {
  const ids = serviceMessageIds();
  const addressed =
    write.contactId === undefined
      ? `contactKey '${write.contactKey}'`
      : `contactID ${write.contactId}`;
  return json(200, {
    operationStatus: 'Fail',
    rowsAffetcted: 0,
    ...(write.contactKey === undefined ? {} : { contactKey: write.contactKey }),
    ...(write.contactId === undefined ? {} : { contactId: write.contactId }),
    contactTypeID: 0,
    isNewContactKey: false,
    requestServiceMessageID: ids.requestServiceMessageID,
    responseDateTime: timestamp(),
    hasErrors: true,
    resultMessages: [
      {
        resultType: 'Contacts',
        resultCode: 'ContactNotFound',
        resultClass: 'Error',
        message: `No contact exists with ${addressed}. Use POST to create it.`,
      },
    ],
    serviceMessageID: ids.serviceMessageID,
  });
}

function parseContactWrite(body: Body): { write: ContactWrite } | { errors: RestErrorBody[] } {
  const errors: RestErrorBody[] = [];

  const rawKey = field(body, 'contactKey');
  let contactKey: string | undefined;
  if (typeof rawKey === 'string' && rawKey !== '') {
    contactKey = rawKey;
  } else if (rawKey !== undefined && rawKey !== null && rawKey !== '') {
    errors.push(restErrorBody(ErrorCode.invalidDataType, 'contactKey must be a string.'));
  }

  // SF-1's table types contactID as a string, its examples send a number: both are accepted.
  const rawId = field(body, 'contactID');
  let contactId: number | undefined;
  if (typeof rawId === 'number' && Number.isSafeInteger(rawId) && rawId > 0) {
    contactId = rawId;
  } else if (typeof rawId === 'string' && /^\d+$/.test(rawId) && Number(rawId) > 0) {
    contactId = Number(rawId);
  } else if (rawId !== undefined && rawId !== null && rawId !== '') {
    errors.push(restErrorBody(ErrorCode.invalidDataType, 'contactID must be a positive integer.'));
  }
  if (contactKey === undefined && contactId === undefined && errors.length === 0) {
    errors.push(
      restErrorBody(ErrorCode.missingRequiredField, 'Provide a value for contactKey or contactID.'),
    );
  }

  const sets = new Map<string, Map<string, AttributeValue | null>>();
  const rawSets = field(body, 'attributeSets');
  if (rawSets === undefined || rawSets === null) {
    errors.push(restErrorBody(ErrorCode.missingRequiredField, 'attributeSets is required.'));
  } else if (!Array.isArray(rawSets)) {
    errors.push(restErrorBody(ErrorCode.invalidDataType, 'attributeSets must be an array.'));
  } else if (rawSets.length === 0) {
    errors.push(
      restErrorBody(
        ErrorCode.missingRequiredField,
        'attributeSets must include at least one attribute set.',
      ),
    );
  } else {
    rawSets.forEach((rawSet: unknown, index) => {
      parseAttributeSet(rawSet, index, sets, errors);
    });
  }
  return errors.length > 0 ? { errors } : { write: { contactKey, contactId, sets } };
}

function parseAttributeSet(
  rawSet: unknown,
  index: number,
  sets: Map<string, Map<string, AttributeValue | null>>,
  errors: RestErrorBody[],
): void {
  if (!isRecord(rawSet)) {
    errors.push(
      restErrorBody(ErrorCode.invalidDataType, `attributeSets[${index}] must be an object.`),
    );
    return;
  }
  const rawName = field(rawSet, 'name');
  if (typeof rawName !== 'string' || rawName === '') {
    errors.push(
      restErrorBody(ErrorCode.missingRequiredField, `attributeSets[${index}].name is required.`),
    );
    return;
  }
  // Which names exist depends on the account's data model (SF-13 attributeSetDefinitions); the
  // sandbox has SF-1's default sets and rejects others with 10005.
  const setName = canonicalSetName(rawName);
  if (setName === undefined) {
    errors.push(
      restErrorBody(
        ErrorCode.invalidValue,
        `Attribute set '${rawName}' does not exist. Known attribute sets: ${ATTRIBUTE_SET_NAMES.join(', ')}.`,
      ),
    );
    return;
  }
  // SF-1: "Each call accepts only one instance of each attribute set": a repeated set and a set
  // with several items are both refused.
  if (sets.has(setName)) {
    errors.push(
      restErrorBody(
        ErrorCode.invalidValue,
        `Attribute set '${setName}' appears more than once; each call accepts one instance of each attribute set.`,
      ),
    );
    return;
  }
  const items = field(rawSet, 'items');
  if (!Array.isArray(items) || items.length === 0) {
    errors.push(
      restErrorBody(
        ErrorCode.missingRequiredField,
        `Attribute set '${setName}' must have items[0].values.`,
      ),
    );
    return;
  }
  if (items.length > 1) {
    errors.push(
      restErrorBody(
        ErrorCode.invalidValue,
        `Attribute set '${setName}' has ${items.length} items; each call accepts one instance of each attribute set.`,
      ),
    );
    return;
  }
  const item: unknown = items[0];
  const values = isRecord(item) ? field(item, 'values') : undefined;
  if (!Array.isArray(values) || values.length === 0) {
    errors.push(
      restErrorBody(
        ErrorCode.missingRequiredField,
        `Attribute set '${setName}' must have items[0].values with at least one value.`,
      ),
    );
    return;
  }
  const row = new Map<string, AttributeValue | null>();
  values.forEach((entry: unknown, position) => {
    const where = `attribute set '${setName}', values[${position}]`;
    if (!isRecord(entry)) {
      errors.push(
        restErrorBody(ErrorCode.invalidDataType, `In ${where}: each value must be an object.`),
      );
      return;
    }
    const rawAttribute = field(entry, 'name');
    if (typeof rawAttribute !== 'string' || rawAttribute === '') {
      errors.push(restErrorBody(ErrorCode.missingRequiredField, `In ${where}: name is required.`));
      return;
    }
    const attribute = canonicalAttributeName(setName, rawAttribute);
    if (attribute === undefined) {
      errors.push(
        restErrorBody(
          ErrorCode.invalidValue,
          `Attribute '${rawAttribute}' does not exist in attribute set '${setName}'.`,
        ),
      );
      return;
    }
    if (row.has(attribute)) {
      errors.push(
        restErrorBody(
          ErrorCode.invalidValue,
          `Attribute '${attribute}' appears more than once in attribute set '${setName}'.`,
        ),
      );
      return;
    }
    const value = field(entry, 'value');
    if (value === undefined) {
      errors.push(
        restErrorBody(
          ErrorCode.missingRequiredField,
          `In ${where}: value is required (send null to clear '${attribute}').`,
        ),
      );
      return;
    }
    if (value === null) {
      row.set(attribute, null);
      return;
    }
    const checked = checkValue(setName, attribute, value);
    if (checked.ok) {
      row.set(attribute, checked.value);
    } else {
      errors.push(checked.error);
    }
  });
  sets.set(setName, row);
}

/**
 * `POST /contacts/v1/addresses/email/search` (SF-3). Decisions: every requested address gets an
 * entity, in request order, with `contactKeyDetails: []` when nothing matches; matches are the
 * oldest contacts first, at most `maximumCount` per address. SF-3's response has no `hasErrors`
 * or `responseDateTime`, so neither is sent.
 */
function searchByEmail(body: Body, _req: RecordedRequest, ctx: Context): SandboxResponse {
  const list = field(body, 'channelAddressList');
  if (list === undefined || list === null || (Array.isArray(list) && list.length === 0)) {
    return validationError([
      restErrorBody(
        ErrorCode.missingRequiredField,
        'channelAddressList must list at least one email address.',
      ),
    ]);
  }
  if (!Array.isArray(list) || !list.every((a): a is string => typeof a === 'string')) {
    return validationError([
      restErrorBody(ErrorCode.invalidDataType, 'channelAddressList must be an array of strings.'),
    ]);
  }
  const rawMax = field(body, 'maximumCount');
  const maximumCount = rawMax === undefined || rawMax === null ? 1 : rawMax;
  if (typeof maximumCount !== 'number' || !Number.isSafeInteger(maximumCount) || maximumCount < 1) {
    return validationError([
      restErrorBody(ErrorCode.invalidValue, 'maximumCount must be a whole number ≥ 1.'),
    ]);
  }
  const ids = serviceMessageIds();
  return json(200, {
    channelAddressResponseEntities: list.map((address) => ({
      channelAddress: address,
      contactKeyDetails: ctx.store
        .findByEmail(address)
        .slice(0, maximumCount)
        .map((c) => ({ contactKey: c.contactKey, createDate: c.createDate })),
    })),
    requestServiceMessageID: ids.requestServiceMessageID,
    resultMessages: [],
    serviceMessageID: ids.serviceMessageID,
  });
}

/**
 * `POST /contacts/v1/addresses/search/ContactKey` `{filterConditionOperator: "Is",
 * filterConditionValue}` (SF-13 permissions table; request and answer shapes from SF-BAL, which
 * derives them from Salesforce's Postman collection: `addresses[]` with `contactKey`, `contactID`,
 * `addressTypeID` 1 = email / 4 = mobile, `valueSets[]`; paged). Only `Is` is supported (the
 * other operators are undocumented); a key nobody has answers `addresses: []`.
 */
function searchByContactKey(body: Body, _req: RecordedRequest, ctx: Context): SandboxResponse {
  const operator = field(body, 'filterConditionOperator');
  const value = field(body, 'filterConditionValue');
  if (operator !== 'Is' || typeof value !== 'string' || value === '') {
    return validationError([
      restErrorBody(
        ErrorCode.invalidValue,
        'filterConditionOperator must be "Is" and filterConditionValue a contact key.',
      ),
    ]);
  }
  const contact = ctx.store.get(value);
  const addresses: unknown[] = [];
  if (contact !== undefined) {
    const email = contact.attributeSets['Email Addresses'];
    const mobile = contact.attributeSets['MobileConnect Demographics'];
    const entry = (addressTypeID: number, values: Record<string, unknown>) => ({
      contactKey: contact.contactKey,
      contactID: contact.contactId,
      addressTypeID,
      valueSets: [
        {
          values: Object.entries(values).map(([name, v]) => ({ definitionKey: name, value: v })),
        },
      ],
    });
    if (email !== undefined) {
      addresses.push(entry(1, email));
    }
    if (mobile !== undefined) {
      addresses.push(entry(4, mobile));
    }
    if (addresses.length === 0) {
      addresses.push({
        contactKey: contact.contactKey,
        contactID: contact.contactId,
        addressTypeID: 0,
        valueSets: [],
      });
    }
  }
  const ids = serviceMessageIds();
  return json(200, {
    addresses,
    pageNumber: 1,
    pageSize: 50,
    hasErrors: false,
    requestServiceMessageID: ids.requestServiceMessageID,
    resultMessages: [],
    serviceMessageID: ids.serviceMessageID,
  });
}

/**
 * `POST /contacts/v1/contacts/actions/delete?type=keys|ids` (SF-5). SF-5 deletes asynchronously
 * (hours, then suppression); the sandbox deletes at once so tests can observe it, and does not
 * serve the status route. `type=listReference` and `AttributesOnly` (reserved) are refused with
 * 10005. Unknown keys or IDs are ignored: the real operation only starts and reports nothing per
 * value.
 */
function deleteContacts(body: Body, req: RecordedRequest, ctx: Context): SandboxResponse {
  const rawType = req.query['type'];
  const type = Array.isArray(rawType) ? rawType[0] : rawType;
  if (type === undefined || type === '') {
    return validationError([
      restErrorBody(
        ErrorCode.missingRequiredField,
        'The type query parameter is required (keys or ids).',
      ),
    ]);
  }
  if (type !== 'keys' && type !== 'ids') {
    return validationError([
      restErrorBody(
        ErrorCode.invalidValue,
        `type '${type}' is not supported by the sandbox; use keys or ids.`,
      ),
    ]);
  }
  const operation = field(body, 'DeleteOperationType');
  if (operation === undefined || operation === null || operation === '') {
    return validationError([
      restErrorBody(
        ErrorCode.missingRequiredField,
        'DeleteOperationType is required (ContactAndAttributes).',
      ),
    ]);
  }
  if (operation !== 'ContactAndAttributes') {
    return validationError([
      restErrorBody(
        ErrorCode.invalidValue,
        `DeleteOperationType '${String(operation)}' is not supported; use ContactAndAttributes.`,
      ),
    ]);
  }
  const values = field(body, 'values');
  if (!Array.isArray(values) || values.length === 0) {
    return validationError([
      restErrorBody(ErrorCode.missingRequiredField, 'values must list at least one contact.'),
    ]);
  }
  if (type === 'keys') {
    if (!values.every((v): v is string => typeof v === 'string' && v !== '')) {
      return validationError([
        restErrorBody(
          ErrorCode.invalidDataType,
          'values must be contact keys (non-empty strings).',
        ),
      ]);
    }
    ctx.store.deleteKeys(values);
  } else {
    const contactIds = values.map((v: unknown) =>
      typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : Number.NaN,
    );
    if (!contactIds.every((id) => Number.isSafeInteger(id) && id > 0)) {
      return validationError([
        restErrorBody(ErrorCode.invalidDataType, 'values must be contact IDs (positive integers).'),
      ]);
    }
    ctx.store.deleteIds(contactIds);
  }
  const ids = serviceMessageIds();
  return json(200, {
    operationInitiated: true,
    operationID: ctx.nextOperationId(),
    requestServiceMessageID: ids.requestServiceMessageID,
    resultMessages: [],
    serviceMessageID: ids.serviceMessageID,
  });
}
