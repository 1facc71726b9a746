import { describe, expect, it } from 'vitest';
import { Secret } from '../../../../src/config.js';
import type { ContactPatch } from '../../../../src/model/contact.js';
import type { WritePlan } from '../../../../src/model/outcome.js';
import {
  normaliseRestUrl,
  tokenLifetimeSeconds,
  tokenRequestBody,
} from '../../../../src/providers/salesforce-mc/auth.js';
import { guessRestBase, sfmcError } from '../../../../src/providers/salesforce-mc/client.js';
import type {
  SalesforceMcAttributeTarget,
  SalesforceMcOptions,
} from '../../../../src/providers/salesforce-mc/config.js';
import {
  chooseContactKey,
  fromSearchHit,
  indexEmailSearch,
  type Plan,
  pickHit,
  readWriteAnswer,
  resolveAttributeMap,
  sfmcFields,
  toWireContact,
} from '../../../../src/providers/salesforce-mc/mapping.js';
import type { AttributeSet } from '../../../../src/providers/salesforce-mc/wire.js';
import { contactBody } from '../../../helpers/salesforce-mc.js';

interface Extra {
  known?: ContactPatch;
  remoteId?: string | null;
  contactKey?: SalesforceMcOptions['contactKey'];
  attributeMap?: Record<string, SalesforceMcAttributeTarget | null>;
}

function map(patch: ContactPatch, extra: Extra = {}): WritePlan<Plan> {
  return toWireContact(
    { patch, known: extra.known ?? {}, remoteId: extra.remoteId ?? null },
    {
      map: resolveAttributeMap(extra.attributeMap ?? {}),
      contactKey: extra.contactKey ?? 'externalId',
      defaultLocale: 'US',
    },
  );
}

function plan(patch: ContactPatch, extra: Extra = {}): Plan {
  const r = map(patch, extra);
  if (!r.ok) {
    throw new Error(r.error.message);
  }
  return r;
}

/** attributeSets → { set: { attribute: value } } for readable expectations. */
function sets(list: AttributeSet[] | undefined): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const s of list ?? []) {
    expect(s.items).toHaveLength(1);
    out[s.name] = Object.fromEntries(s.items[0]!.values.map((v) => [v.name, v.value]));
  }
  return out;
}

const EMAIL_ADDRESSES = 'Email Addresses';
const DEMOGRAPHICS = 'Email Demographics';
const MOBILE = 'MobileConnect Demographics';

describe('SFMC mapping: the POST body of a new contact', () => {
  it.each<[string, ContactPatch, Extra, Record<string, Record<string, unknown>>]>([
    [
      'email only: Email Addresses with HTML Enabled defaulting to true',
      { email: 'ada@example.com' },
      {},
      { [EMAIL_ADDRESSES]: { 'Email Address': 'ada@example.com', 'HTML Enabled': true } },
    ],
    [
      'names go to Email Demographics (default map)',
      { email: 'ada@example.com', firstName: 'Ada', lastName: 'Lovelace' },
      {},
      {
        [EMAIL_ADDRESSES]: { 'Email Address': 'ada@example.com', 'HTML Enabled': true },
        [DEMOGRAPHICS]: { 'First Name': 'Ada', 'Last Name': 'Lovelace' },
      },
    ],
    [
      'emailFormat PLAIN_TEXT → HTML Enabled false',
      { email: 'a@x.io', emailFormat: 'PLAIN_TEXT' },
      {},
      { [EMAIL_ADDRESSES]: { 'Email Address': 'a@x.io', 'HTML Enabled': false } },
    ],
    [
      'emailFormat known from the identity map is used for HTML Enabled',
      { email: 'a@x.io' },
      { known: { emailFormat: 'PLAIN_TEXT' } },
      { [EMAIL_ADDRESSES]: { 'Email Address': 'a@x.io', 'HTML Enabled': false } },
    ],
    [
      'phone: MobileConnect with digits, Locale from the number, Status 1',
      { email: 'a@x.io', phone: '+447123123123' },
      {},
      {
        [EMAIL_ADDRESSES]: { 'Email Address': 'a@x.io', 'HTML Enabled': true },
        [MOBILE]: { 'Mobile Number': '447123123123', Locale: 'GB', Status: 1 },
      },
    ],
    [
      'phone only (keyed by externalId): MobileConnect alone',
      { externalId: 'crm-9', phone: '+14155550123' },
      {},
      { [MOBILE]: { 'Mobile Number': '14155550123', Locale: 'US', Status: 1 } },
    ],
    [
      'the known email fills Email Addresses when the patch has none',
      { externalId: 'crm-1', firstName: 'Ada' },
      { known: { email: 'ada@example.com' } },
      {
        [EMAIL_ADDRESSES]: { 'Email Address': 'ada@example.com', 'HTML Enabled': true },
        [DEMOGRAPHICS]: { 'First Name': 'Ada' },
      },
    ],
  ])('%s', (_name, patch, extra, expected) => {
    const p = plan(patch, extra);
    expect(p.create).not.toBeNull();
    expect(sets(p.create!.body.attributeSets)).toEqual(expected);
    expect(p.create!.droppedFields).toEqual([]);
  });

  it('sends the sets in a stable order: Email Addresses, Email Demographics, MobileConnect, custom', () => {
    const p = plan(
      { phone: '+447123123123', customFields: { tier: 'gold' }, lastName: 'L', email: 'a@x.io' },
      { attributeMap: { 'customFields.tier': { set: 'Loyalty', attribute: 'Tier' } } },
    );
    expect(p.create!.body.attributeSets.map((s) => s.name)).toEqual([
      EMAIL_ADDRESSES,
      DEMOGRAPHICS,
      MOBILE,
      'Loyalty',
    ]);
  });

  it('without an email, Email Demographics cannot be sent (SF-1): its fields are dropped', () => {
    const p = plan({ externalId: 'crm-2', phone: '+447123123123', firstName: 'Ada' });
    expect(sets(p.create!.body.attributeSets)).toEqual({
      [MOBILE]: { 'Mobile Number': '447123123123', Locale: 'GB', Status: 1 },
    });
    expect(p.create!.droppedFields).toEqual(['firstName']);
  });

  it('Locale falls back to the address country, then to the configured default', () => {
    // +800 (international freephone) belongs to no country.
    const fromAddress = plan({
      email: 'a@x.io',
      phone: '+80012345678',
      address: { country: 'ca' },
    });
    expect(sets(fromAddress.create!.body.attributeSets)[MOBILE]).toMatchObject({ Locale: 'CA' });
    const fallback = plan({ email: 'a@x.io', phone: '+80012345678' });
    expect(sets(fallback.create!.body.attributeSets)[MOBILE]).toMatchObject({ Locale: 'US' });
  });

  it('skips a contact with neither email nor phone (nothing SFMC can create)', () => {
    const r = map({ externalId: 'crm-3', firstName: 'Nobody' });
    expect(r).toMatchObject({
      ok: false,
      status: 'SKIPPED',
      error: { code: 'MISSING_REQUIRED_FIELD' },
    });
  });

  it('skips a contact without any key', () => {
    expect(map({ firstName: 'Nobody', phone: '+447123123123' })).toMatchObject({
      ok: false,
      status: 'SKIPPED',
      error: { code: 'MISSING_REQUIRED_FIELD' },
    });
    expect(map({ externalId: 'x', phone: '+447123123123' }, { contactKey: 'email' })).toMatchObject(
      { ok: false, status: 'SKIPPED', droppedFields: ['externalId'] },
    );
  });
});

describe('SFMC mapping: the contact key', () => {
  it.each<[string, ContactPatch, Extra, string | null]>([
    ['externalId when given', { externalId: 'crm-1', email: 'a@x.io' }, {}, 'crm-1'],
    ['else the email', { email: 'a@x.io' }, {}, 'a@x.io'],
    [
      'the known externalId',
      { firstName: 'A' },
      { known: { externalId: 'crm-k', email: 'k@x.io' } },
      'crm-k',
    ],
    [
      'a null externalId in the patch is not replaced by the known one',
      { externalId: null, email: 'a@x.io' },
      { known: { externalId: 'crm-old' } },
      'a@x.io',
    ],
    [
      'email mode ignores externalId',
      { externalId: 'crm-1', email: 'a@x.io' },
      { contactKey: 'email' },
      'a@x.io',
    ],
    [
      'a linked contact keeps its remote id',
      { externalId: 'crm-new', email: 'b@x.io' },
      { remoteId: 'crm-old' },
      'crm-old',
    ],
    ['nothing to key by', { phone: '+447123123123' }, {}, null],
  ])('%s', (_name, patch, extra, expected) => {
    const key = chooseContactKey(
      { patch, known: extra.known ?? {}, remoteId: extra.remoteId ?? null },
      extra.contactKey ?? 'externalId',
    );
    expect(key?.contactKey ?? null).toBe(expected);
  });
});

describe('SFMC mapping: the PATCH body of a linked contact', () => {
  const linked = { remoteId: 'crm-1', known: { email: 'ada@example.com', phone: '+447123123123' } };

  it('carries only what the patch touches (no create defaults), Email Demographics with Email Addresses', () => {
    const p = plan({ lastName: 'King' }, linked);
    // SF-1 / seed 004, per call: Email Demographics needs Email Addresses (the address alone).
    expect(p.update!.body).toEqual(
      contactBody('crm-1', {
        [EMAIL_ADDRESSES]: { 'Email Address': 'ada@example.com' },
        [DEMOGRAPHICS]: { 'Last Name': 'King' },
      }),
    );
    expect(p.keySource).toBe('remoteId');
  });

  it('null clears a mapped attribute with value null', () => {
    const p = plan({ firstName: null, lastName: 'K' }, linked);
    expect(sets(p.update!.body.attributeSets)).toEqual({
      [EMAIL_ADDRESSES]: { 'Email Address': 'ada@example.com' },
      [DEMOGRAPHICS]: { 'First Name': null, 'Last Name': 'K' },
    });
    expect(p.update!.droppedFields).toEqual([]);
  });

  it.each<[string, ContactPatch]>([
    ['email (the channel address)', { email: null, firstName: 'A' }],
    ['phone (the channel address)', { phone: null, firstName: 'A' }],
    ['emailFormat (HTML Enabled is a required boolean)', { emailFormat: null, firstName: 'A' }],
    ['externalId (the contact key)', { externalId: null, firstName: 'A' }],
  ])('never clears %s: dropped, not sent', (_name, patch) => {
    const p = plan(patch, linked);
    expect(p.update!.droppedFields).toEqual([Object.keys(patch)[0]]);
    expect(p.update!.droppedFieldReasons[Object.keys(patch)[0]!]).toEqual(expect.any(String));
    expect(sets(p.update!.body.attributeSets)).toEqual({
      [EMAIL_ADDRESSES]: { 'Email Address': 'ada@example.com' },
      [DEMOGRAPHICS]: { 'First Name': 'A' },
    });
  });

  it('a new email address is written to Email Address; the key stays', () => {
    const p = plan({ email: 'new@example.com' }, linked);
    expect(p.update!.body).toEqual(
      contactBody('crm-1', { [EMAIL_ADDRESSES]: { 'Email Address': 'new@example.com' } }),
    );
  });

  it('another externalId than the key of a linked contact is dropped', () => {
    const p = plan({ externalId: 'crm-2', firstName: 'A' }, linked);
    expect(p.update!.droppedFields).toEqual(['externalId']);
    expect(plan({ externalId: 'crm-1', firstName: 'A' }, linked).update!.droppedFields).toEqual([]);
  });

  it('a first email on a phone-only contact also sends HTML Enabled', () => {
    const p = plan(
      { email: 'first@example.com' },
      { remoteId: 'crm-1', known: { phone: '+447123123123' } },
    );
    expect(sets(p.update!.body.attributeSets)).toEqual({
      [EMAIL_ADDRESSES]: { 'Email Address': 'first@example.com', 'HTML Enabled': true },
    });
  });

  it('a changed mobile number takes its Locale along; a first one also gets Status 1', () => {
    const changed = plan({ phone: '+33612345678' }, linked);
    expect(sets(changed.update!.body.attributeSets)).toEqual({
      [MOBILE]: { 'Mobile Number': '33612345678', Locale: 'FR' },
    });
    const first = plan(
      { phone: '+33612345678' },
      { remoteId: 'crm-1', known: { email: 'a@x.io' } },
    );
    expect(sets(first.update!.body.attributeSets)).toEqual({
      [MOBILE]: { 'Mobile Number': '33612345678', Locale: 'FR', Status: 1 },
    });
  });

  it('emailFormat alone becomes HTML Enabled alone', () => {
    expect(sets(plan({ emailFormat: 'HTML' }, linked).update!.body.attributeSets)).toEqual({
      [EMAIL_ADDRESSES]: { 'HTML Enabled': true },
    });
  });

  it('a patch of fields SFMC does not store has no PATCH body and lists them dropped', () => {
    const p = plan({ birthdate: '1990-01-01', jobTitle: 'Eng' }, linked);
    expect(p.update).toBeNull();
    expect(p.droppedFields).toEqual(['birthdate', 'jobTitle']);
  });
});

describe('SFMC mapping: custom attribute map', () => {
  const attributeMap = {
    jobTitle: { set: DEMOGRAPHICS, attribute: 'Job Title' },
    'customFields.plan': { set: 'Loyalty', attribute: 'Plan' },
    'customFields.points': { set: 'Loyalty', attribute: 'Points' },
    lastName: null,
  };

  it('maps unified and custom fields, and null removes a default', () => {
    const p = plan(
      {
        email: 'a@x.io',
        jobTitle: 'Engineer',
        lastName: 'Gone',
        customFields: { plan: 'gold', points: 12, unmapped: 'x', nested: { a: 1 } },
      },
      { attributeMap },
    );
    expect(sets(p.create!.body.attributeSets)).toEqual({
      [EMAIL_ADDRESSES]: { 'Email Address': 'a@x.io', 'HTML Enabled': true },
      [DEMOGRAPHICS]: { 'Job Title': 'Engineer' },
      Loyalty: { Plan: 'gold', Points: 12 },
    });
    expect(p.create!.droppedFields).toEqual([
      'lastName',
      'customFields.unmapped',
      'customFields.nested',
    ]);
  });

  it('customFields: null clears every mapped custom attribute', () => {
    const p = plan(
      { customFields: null },
      { attributeMap, remoteId: 'k', known: { email: 'a@x.io' } },
    );
    expect(sets(p.update!.body.attributeSets)).toEqual({ Loyalty: { Plan: null, Points: null } });
  });

  it('an object value of a mapped custom field is dropped, not sent', () => {
    const p = plan(
      { customFields: { plan: { tier: 'gold' } } },
      { attributeMap, remoteId: 'k', known: { email: 'a@x.io' } },
    );
    expect(p.update).toBeNull();
    expect(p.droppedFields).toEqual(['customFields.plan']);
  });

  it('externalId can be stored in an attribute (email-keyed contacts)', () => {
    const p = plan(
      { email: 'a@x.io', externalId: 'crm-7' },
      {
        contactKey: 'email',
        attributeMap: { externalId: { set: DEMOGRAPHICS, attribute: 'CRM Id' } },
      },
    );
    expect(p.contactKey).toBe('a@x.io');
    expect(sets(p.create!.body.attributeSets)[DEMOGRAPHICS]).toEqual({ 'CRM Id': 'crm-7' });
    expect(
      plan({ email: 'a@x.io', externalId: 'crm-7' }, { contactKey: 'email' }).droppedFields,
    ).toEqual(['externalId']);
  });

  it('resolveAttributeMap ignores unknown keys, channel fields and targets the adapter writes itself', () => {
    expect(
      resolveAttributeMap({
        nonsense: { set: 'X', attribute: 'Y' },
        email: { set: 'X', attribute: 'Y' },
        'address.city': { set: EMAIL_ADDRESSES, attribute: 'Email Address' },
        'address.state': { set: MOBILE, attribute: 'Mobile Number' },
        'address.county': { set: DEMOGRAPHICS, attribute: 'County' },
      }),
    ).toEqual({
      firstName: { set: DEMOGRAPHICS, attribute: 'First Name' },
      lastName: { set: DEMOGRAPHICS, attribute: 'Last Name' },
      'address.county': { set: DEMOGRAPHICS, attribute: 'County' },
    });
  });

  it('capabilities follow the map and the key mode', () => {
    expect(sfmcFields(resolveAttributeMap(), 'externalId')).toEqual({
      acceptedFields: ['externalId', 'email', 'phone', 'firstName', 'lastName', 'emailFormat'],
      clearableFields: ['firstName', 'lastName'],
    });
    expect(sfmcFields(resolveAttributeMap(attributeMap), 'email')).toEqual({
      acceptedFields: ['email', 'phone', 'firstName', 'jobTitle', 'emailFormat', 'customFields'],
      clearableFields: ['firstName', 'jobTitle', 'customFields'],
    });
  });
});

describe('SFMC mapping: answers → outcome', () => {
  const ok = { operationStatus: 'OK', hasErrors: false, resultMessages: [] };
  it.each<[string, Record<string, unknown>, 'POST' | 'PATCH', Record<string, unknown>]>([
    [
      'documented spellings (rowsAffetcted, contactId), isNewContactKey true',
      { ...ok, rowsAffetcted: 1, contactKey: 'k', contactId: 12345678, isNewContactKey: true },
      'POST',
      { status: 'CREATED', contactKey: 'k', contactId: '12345678', rowsAffected: 1 },
    ],
    [
      'live spellings (rowsAffected, contactID), isNewContactKey false',
      { ...ok, rowsAffected: 1, contactKey: 'k', contactID: '77', isNewContactKey: false },
      'POST',
      { status: 'UPDATED', contactId: '77', rowsAffected: 1 },
    ],
    ['no isNewContactKey: POST means created', { ...ok }, 'POST', { status: 'CREATED' }],
    ['no isNewContactKey: PATCH means updated', { ...ok }, 'PATCH', { status: 'UPDATED' }],
    [
      'hasErrors true with HTTP 200 is a failure with the result messages',
      {
        operationStatus: 'OK',
        hasErrors: true,
        resultMessages: [
          { resultCode: 'InvalidValue', message: 'Locale is invalid' },
          { message: 'second' },
        ],
      },
      'POST',
      {
        status: 'FAILED',
        messages: ['InvalidValue: Locale is invalid', 'second'],
        firstCode: 'InvalidValue',
      },
    ],
    [
      'an operationStatus other than OK is a failure',
      { operationStatus: 'Fail', resultMessages: [] },
      'PATCH',
      { status: 'FAILED', messages: [] },
    ],
  ])('%s', (_name, body, method, expected) => {
    expect(readWriteAnswer(body, method)).toMatchObject(expected);
  });
});

describe('SFMC mapping: email search → unified view', () => {
  const res = {
    channelAddressResponseEntities: [
      {
        channelAddress: 'Ada@Example.com',
        contactKeyDetails: [
          { contactKey: 'crm-late', createDate: '2024-05-02T00:00:00Z' },
          { contactKey: 'crm-early', createDate: '2024-05-01T00:00:00Z' },
        ],
      },
      {
        channelAddress: 'own@example.com',
        contactKeyDetails: [{ contactKey: 'x' }, { contactKey: 'own@example.com' }],
      },
      { channelAddress: 'none@example.com', contactKeyDetails: [] },
    ],
  };

  it('indexes by lower-cased address; the email-keyed contact wins, else the oldest', () => {
    const index = indexEmailSearch(res);
    expect([...index.keys()]).toEqual(['ada@example.com', 'own@example.com', 'none@example.com']);
    expect(pickHit('ada@example.com', index.get('ada@example.com')!)?.contactKey).toBe('crm-early');
    expect(pickHit('own@example.com', index.get('own@example.com')!)?.contactKey).toBe(
      'own@example.com',
    );
    expect(pickHit('none@example.com', index.get('none@example.com')!)).toBeNull();
  });

  it('gives the email, and the key as externalId when contacts are keyed by it', () => {
    const hit = { contactKey: 'crm-early', createDate: '2024-05-01T00:00:00Z' };
    expect(fromSearchHit('Ada@Example.com', hit, 'externalId')).toEqual({
      remoteId: 'crm-early',
      contact: { email: 'ada@example.com', externalId: 'crm-early' },
      createdAt: '2024-05-01T00:00:00.000Z',
      updatedAt: null,
    });
    expect(fromSearchHit('ada@example.com', hit, 'email').contact).toEqual({
      email: 'ada@example.com',
    });
    expect(
      fromSearchHit('a@x.io', { contactKey: 'a@x.io', createDate: 'not a date' }, 'externalId'),
    ).toEqual({
      remoteId: 'a@x.io',
      contact: { email: 'a@x.io' },
      createdAt: null,
      updatedAt: null,
    });
  });
});

describe('SFMC errors', () => {
  const res = (status: number, json: unknown, headers: Record<string, string> = {}) => ({
    status,
    headers,
    json,
    text: json === undefined ? '' : JSON.stringify(json),
    malformed: false,
  });
  const doc = 'https://developer.salesforce.com/docs';

  it.each<[string, ReturnType<typeof res>, Record<string, unknown>]>([
    [
      '429/50100: retryable, Retry-After kept',
      res(
        429,
        { message: 'Rate limit exceeded', errorcode: 50100, retryAfter: 7, documentation: doc },
        { 'retry-after': '3' },
      ),
      {
        code: '50100',
        retryable: true,
        httpStatus: 429,
        details: { errorcode: 50100, retryAfterMs: 3000 },
      },
    ],
    [
      '429/50100 without the header: the body retryAfter (seconds)',
      res(429, {
        message: 'Rate limit exceeded',
        errorcode: 50100,
        retryAfter: 7,
        documentation: doc,
      }),
      { code: '50100', retryable: true, details: { errorcode: 50100, retryAfterMs: 7000 } },
    ],
    [
      '429/50200: temporarily blocked, not retryable',
      res(429, { message: 'Too many concurrent requests', errorcode: 50200, documentation: doc }),
      { code: '50200', retryable: false, details: { errorcode: 50200 } },
    ],
    [
      '503/50300: retryable',
      res(
        503,
        { message: 'Unavailable', errorcode: 50300, documentation: doc },
        { 'retry-after': '1' },
      ),
      { code: '50300', retryable: true, details: { errorcode: 50300, retryAfterMs: 1000 } },
    ],
    [
      '401/0: the gateway code, not "0"',
      res(401, { message: 'Not Authorized', errorcode: 0, documentation: doc }),
      { code: 'UNAUTHORIZED', retryable: false },
    ],
    [
      '400 aggregate: every additional error named',
      res(400, {
        message: 'The request has 2 validation errors.',
        errorcode: 10006,
        documentation: doc,
        additionalErrors: [
          { message: 'Locale missing', errorcode: 10002, documentation: doc },
          { message: 'bad email', errorcode: 10003, documentation: doc },
        ],
      }),
      { code: '10006', retryable: false, httpStatus: 400 },
    ],
    [
      '596: service not found, not retryable',
      res(596, undefined),
      { code: 'UPSTREAM_HTTP_ERROR', retryable: false },
    ],
    [
      '500 without a body: retryable',
      res(500, undefined),
      { code: 'UPSTREAM_HTTP_ERROR', retryable: true },
    ],
  ])('%s', (_name, response, expected) => {
    expect(sfmcError(response).toInfo()).toMatchObject(expected);
  });

  it('names the aggregate errors in the message', () => {
    const err = sfmcError(
      res(400, {
        message: 'The request has 2 validation errors.',
        errorcode: 10006,
        additionalErrors: [{ message: 'Locale missing', errorcode: 10002 }],
      }),
    );
    expect(err.message).toBe(
      'Salesforce MC answered 400 (errorcode 10006): The request has 2 validation errors.; 10002: Locale missing',
    );
  });
});

describe('SFMC auth helpers', () => {
  it.each([
    ['https://mc1.rest.marketingcloudapis.com/', 'https://mc1.rest.marketingcloudapis.com'],
    ['mc1.rest.marketingcloudapis.com', 'https://mc1.rest.marketingcloudapis.com'],
    ['http://127.0.0.1:4000//', 'http://127.0.0.1:4000'],
    ['https://host/base/', 'https://host/base'],
  ])('normalises rest_instance_url %s', (raw, expected) => {
    expect(normaliseRestUrl(raw)).toBe(expected);
  });

  it('refuses a rest_instance_url with credentials or another scheme', () => {
    expect(() => normaliseRestUrl('https://u:p@host/')).toThrow();
    expect(() => normaliseRestUrl('ftp://host/')).toThrow();
  });

  it('uses a token until expires_in minus the skew, at least half of expires_in', () => {
    expect(tokenLifetimeSeconds(1080, 60)).toBe(1020);
    expect(tokenLifetimeSeconds(2, 60)).toBe(1);
  });

  it('sends account_id as a number when it is one', () => {
    const base = {
      authUrl: 'https://x',
      clientId: 'id',
      clientSecret: new Secret('s'),
      contactKey: 'externalId' as const,
      attributeMap: {},
      concurrency: 1,
      searchBatchSize: 1,
      defaultLocale: 'US',
      tokenRefreshSkewSeconds: 60,
    };
    expect(tokenRequestBody({ ...base, accountId: '514009876' })).toEqual({
      grant_type: 'client_credentials',
      client_id: 'id',
      client_secret: 's',
      account_id: 514009876,
    });
    expect(tokenRequestBody({ ...base, accountId: null })).not.toHaveProperty('account_id');
  });

  it('guesses the tenant REST host before the first token', () => {
    expect(guessRestBase('https://mcabc123.auth.marketingcloudapis.com/')).toBe(
      'https://mcabc123.rest.marketingcloudapis.com',
    );
    expect(guessRestBase('http://127.0.0.1:5000/')).toBe('http://127.0.0.1:5000');
  });
});
