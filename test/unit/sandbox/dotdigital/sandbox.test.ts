import { setTimeout as sleep } from 'node:timers/promises';
import { beforeEach, describe, expect, it } from 'vitest';
import type { DotdigitalSandbox } from '../../../../src/sandbox/dotdigital/index.js';
import {
  DEFAULT_DATA_FIELDS,
  startDotdigitalSandbox,
} from '../../../../src/sandbox/dotdigital/index.js';
import {
  type SandboxReply as Reply,
  sandboxCall,
  useSandbox,
} from '../../../helpers/sandbox-http.js';

const USER = 'apiuser-sandbox-test@apiconnector.com';
const PASSWORD = 'dd-sandbox-P4ss';
const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const sandbox = useSandbox(() =>
  startDotdigitalSandbox({
    username: USER,
    password: PASSWORD,
    importProcessingMs: 20,
  }),
);

beforeEach(() => {
  sandbox.store.clear();
  // The data fields these tests write, besides the account's defaults.
  sandbox.store.dataFields.reset([
    ...DEFAULT_DATA_FIELDS,
    ...['X', 'A', 'B', 'C', 'D', 'E', 'KEEP', 'MORE'].map((name) => ({
      name,
      type: 'String' as const,
      visibility: 'Private' as const,
      defaultValue: null,
    })),
  ]);
  sandbox.setRateLimits(null);
  sandbox.setImportProcessingMs(20);
});

interface CallOptions {
  /** JSON-encoded unless a string (sent as is). */
  body?: unknown;
  /** Authorization header value; `null` sends none. */
  auth?: string | null;
  /** Target sandbox (default: the shared one). */
  on?: DotdigitalSandbox;
}

function call(method: string, path: string, opts: CallOptions = {}): Promise<Reply> {
  return sandboxCall((opts.on ?? sandbox).url, method, path, {
    headers: {
      accept: 'application/json',
      authorization: opts.auth === undefined ? BASIC : opts.auth,
      'content-type': opts.body === undefined ? null : 'application/json',
    },
    body: opts.body,
  });
}

const byEmail = (email: string) => `/contacts/v3/email/${encodeURIComponent(email)}`;

async function createContact(email: string, body: Record<string, unknown> = {}): Promise<number> {
  const res = await call('PATCH', byEmail(email), { body });
  expect(res.status).toBe(201);
  return res.json.contactId as number;
}

async function waitForImport(importId: string): Promise<Reply> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const res = await call('GET', `/contacts/v3/import/${importId}`);
    if (res.json?.status !== 'NotFinished') {
      return res;
    }
    await sleep(10);
  }
  throw new Error(`import ${importId} never finished`);
}

describe('auth', () => {
  it('answers 401 without a body for missing, wrong and malformed credentials', async () => {
    const wrong = `Basic ${Buffer.from(`${USER}:nope`).toString('base64')}`;
    for (const auth of [null, wrong, 'Bearer abc', 'Basic !!!', `Basic ${btoa(USER)}`]) {
      const res = await call('GET', byEmail('a@example.com'), { auth });
      expect(res.status, String(auth)).toBe(401);
      expect(res.text).toBe('');
      expect(res.headers.get('content-type')).toBeNull();
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic /);
    }
    // Also before routing: an unknown path without credentials is a 401 too.
    expect((await call('GET', '/nope', { auth: null })).status).toBe(401);
    expect(sandbox.store.size).toBe(0);
    const ok = await call('GET', byEmail('a@example.com'));
    expect(ok.status).toBe(404);
  });
});

describe('PATCH /contacts/v3/{identifier}/{value}', () => {
  it('creates with 201 and the full contact, then updates with 200 and the same contactId', async () => {
    const created = await call('PATCH', byEmail('ada@example.com'), {
      body: {
        dataFields: { FIRSTNAME: 'Ada', LASTNAME: 'Lovelace' },
        channelProperties: { email: { emailType: 'plainText', optInType: 'single' } },
      },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('content-type')).toBe('application/json');
    expect(created.json).toEqual({
      contactId: expect.any(Number),
      status: 'subscribed',
      created: expect.stringMatching(ISO),
      updated: expect.stringMatching(ISO),
      identifiers: { email: 'ada@example.com' },
      dataFields: { FIRSTNAME: 'Ada', LASTNAME: 'Lovelace' },
      channelProperties: {
        email: { emailType: 'PlainText', optInType: 'Single', status: 'subscribed' },
      },
      lists: [],
      consentRecords: [],
    });
    expect(created.json.contactId).toBeGreaterThanOrEqual(1001);

    const second = await createContact('other@example.com');
    expect(second).toBe(created.json.contactId + 1);

    const updated = await call('PATCH', byEmail('ADA@example.com'), {
      body: { dataFields: { LASTNAME: 'King' } },
    });
    expect(updated.status).toBe(200);
    expect(updated.json).toMatchObject({
      contactId: created.json.contactId,
      created: created.json.created,
      identifiers: { email: 'ada@example.com' },
      dataFields: { FIRSTNAME: 'Ada', LASTNAME: 'King' },
    });
    const read = await call('GET', byEmail('ada@example.com'));
    expect(read.status).toBe(200);
    expect(read.json).toEqual(updated.json);
    expect(sandbox.store.getByEmail('Ada@Example.com')?.dataFields).toEqual({
      FIRSTNAME: 'Ada',
      LASTNAME: 'King',
    });
  });

  it('percent-decodes the path value once: %2B is +, and a literal + stays +', async () => {
    const res = await call('PATCH', '/contacts/v3/email/first%2Btag%40example.com', { body: {} });
    expect(res.status).toBe(201);
    expect(res.json.identifiers).toEqual({ email: 'first+tag@example.com' });
    expect(sandbox.store.getByEmail('first+tag@example.com')?.contactId).toBe(res.json.contactId);
    const literal = await call('GET', '/contacts/v3/email/first+tag@example.com');
    expect(literal.status).toBe(200);
    expect(literal.json.contactId).toBe(res.json.contactId);
    // `first tag@…` would be the form-decoding of `+`: not the same contact.
    expect((await call('GET', '/contacts/v3/email/first%20tag%40example.com')).status).toBe(400);
  });

  it('answers 400 contacts:invalidId for a value that does not suit the identifier', async () => {
    const bad = await call('PATCH', '/contacts/v3/email/not-an-email', { body: {} });
    expect(bad.status).toBe(400);
    expect(bad.json).toEqual({
      errorCode: 'contacts:invalidId',
      description: "The id value 'not-an-email' is invalid for the identifier 'email'",
      details: [{ item: 'not-an-email', description: 'Not a valid email address' }],
    });
    const cases: Array<[string, string]> = [
      ['/contacts/v3/mobileNumber/%2B447123123123', '+447123123123'],
      ['/contacts/v3/mobileNumber/0712', '0712'],
      ['/contacts/v3/contactId/12ab', '12ab'],
      ['/contacts/v3/externalId/crm-1', 'crm-1'],
      ['/contacts/v3/e.mail/a%40example.com', 'a@example.com'],
      [`/contacts/v3/email/${'a'.repeat(250)}%40example.com`, `${'a'.repeat(250)}@example.com`],
    ];
    for (const [path, value] of cases) {
      const res = await call('PATCH', path, { body: {} });
      expect(res.status, path).toBe(400);
      expect(res.json.errorCode, path).toBe('contacts:invalidId');
      expect(res.json.details, path).toEqual([{ item: value, description: expect.any(String) }]);
    }
    expect(sandbox.store.size).toBe(0);
  });

  it('validates the body against updateContactRequest and refuses bad JSON', async () => {
    const invalid = await call('PATCH', byEmail('v@example.com'), {
      body: {
        channelProperties: { email: { emailType: 'Html' } },
        lists: [],
        preferences: [{ id: 1 }],
      },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.json).toEqual({
      errorCode: 'contacts:invalidContacts',
      description: 'The request contains invalid contact data',
      details: expect.arrayContaining([
        {
          item: '/channelProperties/email/emailType',
          description: 'must be equal to one of the allowed values: plainText, html',
        },
        { item: '/lists', description: 'must NOT have fewer than 1 items' },
        {
          item: '/preferences/0/isOptedIn',
          description: "must have required property 'isOptedIn'",
        },
      ]),
    });
    expect(invalid.json.details).toHaveLength(3);

    const broken = await call('PATCH', byEmail('v@example.com'), { body: '{"dataFields":' });
    expect(broken.status).toBe(400);
    expect(broken.json).toMatchObject({
      errorCode: 'contacts:badJson',
      description: 'The request JSON is badly formed',
    });
    const withId = await call('PATCH', byEmail('v@example.com'), {
      body: { identifiers: { contactId: 5 } },
    });
    expect(withId.json).toEqual({
      errorCode: 'contacts:invalidContacts',
      description: 'The request contains invalid contact data',
      details: [
        { item: '/identifiers/contactId', description: 'The contactId cannot be set or changed' },
      ],
    });
    expect(sandbox.store.size).toBe(0);

    // The OAS refuses resubscribeOptions by accident (allOf + additionalProperties: false).
    const resubscribe = await call('PATCH', byEmail('v@example.com'), {
      body: {
        channelProperties: {
          email: { status: 'subscribed', resubscribeOptions: { resubscribeWithNoChallenge: true } },
        },
      },
    });
    expect(resubscribe.status).toBe(201);
  });

  it('answers 404 contacts:contactNotFound for a missing contactId; GET has the same body', async () => {
    const patch = await call('PATCH', '/contacts/v3/contactId/999999', {
      body: { identifiers: { email: 'new@example.com' } },
    });
    expect(patch.status).toBe(404);
    expect(patch.json).toEqual({
      errorCode: 'contacts:contactNotFound',
      description: 'The following contacts could not be found',
      details: [{ item: '999999', description: "Not found using the identifier 'contactId'" }],
    });
    const get = await call('GET', byEmail('nobody@example.com'));
    expect(get.status).toBe(404);
    expect(get.json).toEqual({
      errorCode: 'contacts:contactNotFound',
      description: 'The following contacts could not be found',
      details: [
        { item: 'nobody@example.com', description: "Not found using the identifier 'email'" },
      ],
    });
    expect(sandbox.store.size).toBe(0);
  });

  it('updates by contactId, including a new email; the old email is gone', async () => {
    const id = await createContact('old@example.com');
    const res = await call('PATCH', `/contacts/v3/contactId/${id}`, {
      body: { identifiers: { email: 'renamed@example.com' } },
    });
    expect(res.status).toBe(200);
    expect(res.json.identifiers).toEqual({ email: 'renamed@example.com' });
    expect((await call('GET', byEmail('renamed@example.com'))).json.contactId).toBe(id);
    expect((await call('GET', byEmail('old@example.com'))).status).toBe(404);
  });

  it('answers 409 contacts:idAlreadyExists when an identifier belongs to another contact', async () => {
    const owner = await createContact('owner@example.com', {
      identifiers: { mobileNumber: '447700900123' },
    });
    const other = await createContact('other@example.com');
    const res = await call('PATCH', byEmail('other@example.com'), {
      body: { identifiers: { mobileNumber: '447700900123' }, dataFields: { X: 1 } },
    });
    expect(res.status).toBe(409);
    expect(res.json).toEqual({
      errorCode: 'contacts:idAlreadyExists',
      description:
        "The id value '447700900123' for the identifier 'mobileNumber' already exists. All identifiers must be unique!",
      details: [
        { item: 'mobileNumber', description: "'447700900123' already belongs to another contact" },
      ],
    });
    // Creating a new contact with a taken identifier conflicts too.
    const create = await call('PATCH', byEmail('third@example.com'), {
      body: { identifiers: { mobileNumber: '447700900123' } },
    });
    expect(create.status).toBe(409);
    expect(sandbox.store.getByContactId(other)?.dataFields).toEqual({});
    expect(sandbox.store.getByMobileNumber('447700900123')?.contactId).toBe(owner);
    expect(sandbox.store.size).toBe(2);
  });

  it('null clears a data field, never an identifier', async () => {
    await createContact('clear@example.com', {
      identifiers: { mobileNumber: '14155550123' },
      dataFields: { FIRSTNAME: 'Gone', LASTNAME: 'Stays' },
    });
    const cleared = await call('PATCH', byEmail('clear@example.com'), {
      body: { dataFields: { FIRSTNAME: null } },
    });
    expect(cleared.status).toBe(200);
    expect(cleared.json.dataFields).toEqual({ LASTNAME: 'Stays' });

    const refused = await call('PATCH', byEmail('clear@example.com'), {
      body: { identifiers: { mobileNumber: null }, dataFields: { LASTNAME: null } },
    });
    expect(refused.status).toBe(400);
    expect(refused.json).toEqual({
      errorCode: 'contacts:invalidContacts',
      description: 'The request contains invalid contact data',
      details: [
        {
          item: '/identifiers/mobileNumber',
          description: 'Identifiers cannot be cleared; null clears data fields only',
        },
      ],
    });
    expect(sandbox.store.getByEmail('clear@example.com')).toMatchObject({
      identifiers: { email: 'clear@example.com', mobileNumber: '14155550123' },
      dataFields: { LASTNAME: 'Stays' },
    });
  });

  it('applies each merge option to data fields', async () => {
    const path = byEmail('merge@example.com');
    await createContact('merge@example.com', { dataFields: { A: 'a', B: 'b', C: 'c' } });

    const notEmpty = await call('PATCH', `${path}?merge-option=overwrite-if-not-empty`, {
      body: { dataFields: { A: '', B: null, C: 'new-c', D: 'd' } },
    });
    expect(notEmpty.status).toBe(200);
    // "" and null are empty: skipped, so null does not clear under this option.
    expect(notEmpty.json.dataFields).toEqual({ A: 'a', B: 'b', C: 'new-c', D: 'd' });

    const ifEmpty = await call('PATCH', `${path}?merge-option=overwrite-if-empty`, {
      body: { dataFields: { A: 'ignored', E: 'e' } },
    });
    expect(ifEmpty.json.dataFields).toEqual({ A: 'a', B: 'b', C: 'new-c', D: 'd', E: 'e' });

    const overwrite = await call('PATCH', `${path}?merge-option=overwrite`, {
      body: { dataFields: { A: '', B: null } },
    });
    expect(overwrite.json.dataFields).toEqual({ A: '', C: 'new-c', D: 'd', E: 'e' });

    // Once A is "", overwrite-if-empty fills it.
    const refill = await call('PATCH', `${path}?merge-option=overwrite-if-empty`, {
      body: { dataFields: { A: 'filled' } },
    });
    expect(refill.json.dataFields['A']).toBe('filled');

    const bogus = await call('PATCH', `${path}?merge-option=overwriteIfEmpty`, { body: {} });
    expect(bogus.status).toBe(400);
    expect(bogus.json).toEqual({
      errorCode: 'contacts:invalidParameter',
      description: 'The merge-option is invalid',
      details: [
        {
          item: 'merge-option',
          description:
            'must be one of overwrite, overwrite-if-not-empty, overwrite-if-empty; got "overwriteIfEmpty"',
        },
      ],
    });
  });

  it('answers channels, lists, preferences and consent; double opt-in is pendingOptIn', async () => {
    const consent = {
      text: 'Yes please',
      dateTimeConsented: '2024-05-01T09:00:00Z',
      url: 'https://example.com/signup',
      ipAddress: '2001:db8::1',
      userAgent: 'Mozilla/5.0',
    };
    const res = await call('PATCH', '/contacts/v3/mobileNumber/447123123123', {
      body: {
        identifiers: { email: 'channels@example.com' },
        channelProperties: {
          email: { optInType: 'double' },
          sms: { status: 'subscribed' },
          whatsApp: { status: 'unsubscribed' },
        },
        lists: [7, 9],
        preferences: [{ id: 3, isOptedIn: true }],
        consentRecords: [consent],
      },
    });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({
      status: 'pendingOptIn',
      identifiers: { email: 'channels@example.com', mobileNumber: '447123123123' },
      channelProperties: {
        email: { emailType: 'Html', optInType: 'Double', status: 'pendingOptIn' },
        sms: { countryCode: 'GB', status: 'subscribed' },
        whatsApp: { status: 'unsubscribed' },
      },
      lists: [
        { id: 7, name: 'List 7', status: 'subscribed' },
        { id: 9, name: 'List 9', status: 'subscribed' },
      ],
      preferences: [{ id: 3, name: 'Preference 3', isOptedIn: true }],
      consentRecords: [{ ...consent, dateTimeCreated: expect.stringMatching(ISO) }],
    });
    const unsub = await call('PATCH', byEmail('channels@example.com'), {
      body: { channelProperties: { email: { status: 'unsubscribed' } } },
    });
    expect(unsub.json).toMatchObject({
      status: 'unsubscribed',
      channelProperties: { email: { status: 'unsubscribed' }, sms: { status: 'subscribed' } },
    });
    // A mobile-only contact: no email channel, sms from the account default, US number.
    const mobile = await call('PATCH', '/contacts/v3/mobileNumber/14155550123', { body: {} });
    expect(mobile.json).toMatchObject({
      status: 'noSubscription',
      identifiers: { mobileNumber: '14155550123' },
      channelProperties: { sms: { countryCode: 'US', status: 'noSubscription' } },
    });
    expect(mobile.json.channelProperties.email).toBeUndefined();
  });
});

describe('DELETE and undelete', () => {
  it('bins the contact (GET 404), and a PATCH undeletes it with 200 and the same contactId', async () => {
    const id = await createContact('bin@example.com', { dataFields: { KEEP: 'me' } });
    const del = await call('DELETE', byEmail('bin@example.com'));
    expect(del.status).toBe(200);
    expect(del.json).toEqual({ contactId: id });
    expect((await call('GET', byEmail('bin@example.com'))).status).toBe(404);
    expect((await call('GET', `/contacts/v3/contactId/${id}`)).status).toBe(404);
    expect((await call('DELETE', byEmail('bin@example.com'))).json.errorCode).toBe(
      'contacts:contactNotFound',
    );
    expect(sandbox.store.size).toBe(0);
    expect(sandbox.store.getByContactId(id)?.status).toBe('binned');

    const back = await call('PATCH', byEmail('bin@example.com'), {
      body: { dataFields: { MORE: 1 } },
    });
    expect(back.status).toBe(200);
    expect(back.json).toMatchObject({
      contactId: id,
      status: 'subscribed',
      dataFields: { KEEP: 'me', MORE: 1 },
    });
    expect((await call('GET', byEmail('bin@example.com'))).status).toBe(200);
    expect(sandbox.store.size).toBe(1);
  });
});

describe('PUT /contacts/v3/import', () => {
  it('is NotFinished, then Finished with created, updated and every failure kind', async () => {
    // Long enough that the first GET below still finds it running on a loaded machine.
    sandbox.setImportProcessingMs(1_000);
    const existing = await createContact('known@example.com', { dataFields: { A: 'old' } });
    const contacts = [
      {
        matchIdentifier: 'email',
        identifiers: { email: 'known@example.com' },
        dataFields: { A: 'new' },
      },
      { matchIdentifier: 'email', identifiers: { email: 'fresh@example.com' } },
      { matchIdentifier: 'mobileNumber', identifiers: { mobileNumber: '447700900456' } },
      { matchIdentifier: 'email', identifiers: { email: 'bob@emailsim@io.com' } },
      { matchIdentifier: 'mobileNumber', identifiers: { mobileNumber: '+447700900789' } },
      { matchIdentifier: 'contactId', identifiers: { contactId: 999999, email: 'x@example.com' } },
      { matchIdentifier: 'mobileNumber', identifiers: { email: 'nomobile@example.com' } },
      { matchIdentifier: 'email', identifiers: { email: 'FRESH@example.com' } },
      { matchIdentifier: 'email', identifiers: { email: 'someone@suppressed.example' } },
      {
        matchIdentifier: 'email',
        identifiers: { email: 'schema@example.com' },
        channelProperties: { email: { emailType: 'Html' } },
      },
      {
        matchIdentifier: 'contactId',
        identifiers: { contactId: existing, mobileNumber: '447700900999' },
      },
    ];
    const accepted = await call('PUT', '/contacts/v3/import', {
      body: { mergeOption: 'overwriteIfNotEmpty', contacts },
    });
    expect(accepted.status).toBe(202);
    expect(accepted.json).toEqual({ importId: expect.stringMatching(UUID) });
    const { importId } = accepted.json as { importId: string };

    const running = await call('GET', `/contacts/v3/import/${importId}`);
    expect(running.status).toBe(200);
    expect(running.json).toEqual({ importId, status: 'NotFinished' });
    // Applied only when finished.
    expect(sandbox.store.getByEmail('fresh@example.com')).toBeUndefined();

    const done = await waitForImport(importId);
    const fresh = sandbox.store.getByEmail('fresh@example.com')!.contactId;
    const mobile = sandbox.store.getByMobileNumber('447700900456')!.contactId;
    expect(done.status).toBe(200);
    expect(done.json).toEqual({
      importId,
      status: 'Finished',
      summary: {
        newContacts: 2,
        updatedContacts: 2,
        globallySuppressed: 1,
        invalidEntries: 5,
        duplicateIdentifiers: 1,
      },
      created: [
        { contactId: fresh, identifiers: { email: 'fresh@example.com' } },
        { contactId: mobile, identifiers: { mobileNumber: '447700900456' } },
      ],
      updated: [
        { contactId: existing, identifiers: { email: 'known@example.com' } },
        {
          contactId: existing,
          identifiers: { email: 'known@example.com', mobileNumber: '447700900999' },
        },
      ],
      failures: [
        {
          matchIdentifier: 'email',
          identifiers: { email: 'bob@emailsim@io.com' },
          failures: [{ failureCode: 'invalidEmail', description: "Invalid value for 'email'" }],
        },
        {
          matchIdentifier: 'mobileNumber',
          identifiers: { mobileNumber: '+447700900789' },
          failures: [
            { failureCode: 'invalidPhoneNumber', description: "Invalid value for 'mobileNumber'" },
          ],
        },
        {
          matchIdentifier: 'contactId',
          identifiers: { contactId: 999999, email: 'x@example.com' },
          failures: [
            { failureCode: 'contactNotFound', description: 'The contact could not be found' },
          ],
        },
        {
          matchIdentifier: 'mobileNumber',
          identifiers: { email: 'nomobile@example.com' },
          failures: [
            {
              failureCode: 'invalidMatchIdentifier',
              description: "The match identifier 'mobileNumber' has no value in identifiers",
            },
          ],
        },
        {
          // The earlier entry created the contact, so the failure names it.
          contactId: fresh,
          matchIdentifier: 'email',
          identifiers: { email: 'FRESH@example.com' },
          failures: [
            {
              failureCode: 'duplicateIdentifier',
              description: "Duplicate identifier detected for email 'fresh@example.com'",
            },
          ],
        },
        {
          matchIdentifier: 'email',
          identifiers: { email: 'someone@suppressed.example' },
          failures: [
            {
              failureCode: 'globallySuppressed',
              description: "The email address 'someone@suppressed.example' is globally suppressed",
            },
          ],
        },
        {
          matchIdentifier: 'email',
          identifiers: { email: 'schema@example.com' },
          failures: [
            {
              failureCode: 'apiSchemaViolation',
              description:
                'The contact does not match the API schema: /channelProperties/email/emailType: must be equal to one of the allowed values: plainText, html',
            },
          ],
        },
      ],
    });
    expect(sandbox.store.getByContactId(existing)?.dataFields).toEqual({ A: 'new' });
    expect(sandbox.store.getByEmail('schema@example.com')).toBeUndefined();
    expect(sandbox.store.size).toBe(3);
  });

  it('refuses bad JSON and a wrong outline with 400; unknown import ids are 404', async () => {
    const broken = await call('PUT', '/contacts/v3/import', { body: '{"contacts": [' });
    expect(broken.status).toBe(400);
    expect(broken.json.errorCode).toBe('contacts:badJson');
    const empty = await call('PUT', '/contacts/v3/import', {
      body: { mergeOption: 'overwrite-if-empty', contacts: [] },
    });
    expect(empty.status).toBe(400);
    expect(empty.json).toEqual({
      errorCode: 'contacts:invalidContacts',
      description: 'The request contains invalid contact data',
      details: [
        {
          item: '/mergeOption',
          description:
            'must be equal to one of the allowed values: overwrite, overwriteIfNotEmpty, overwriteIfEmpty',
        },
        { item: '/contacts', description: 'must NOT have fewer than 1 items' },
      ],
    });
    const unknown = await call('GET', '/contacts/v3/import/d7de900d-d337-43f6-b1e1-c8ec73e1a434');
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual({
      errorCode: 'contacts:importNotFound',
      description: "The import request 'd7de900d-d337-43f6-b1e1-c8ec73e1a434' could not be found!",
    });
  });

  it('refuses a 26th active import with 429 contacts:tooManyActiveImports', async () => {
    const own = await startDotdigitalSandbox({
      username: USER,
      password: PASSWORD,
      importProcessingMs: 60_000,
    });
    try {
      const body = {
        contacts: [{ matchIdentifier: 'email', identifiers: { email: 'a@example.com' } }],
      };
      for (let i = 0; i < 25; i++) {
        expect((await call('PUT', '/contacts/v3/import', { body, on: own })).status).toBe(202);
      }
      const refused = await call('PUT', '/contacts/v3/import', { body, on: own });
      expect(refused.status).toBe(429);
      expect(refused.json).toEqual({
        errorCode: 'contacts:tooManyActiveImports',
        description:
          'Your import request cannot be accepted as too many imports are being processed for you account. Please wait for an import to complete and then resubmit.',
      });
      // Imports accepted from now on finish at once, but the 25 running ones still count.
      own.setImportProcessingMs(0);
      expect((await call('PUT', '/contacts/v3/import', { body, on: own })).status).toBe(429);
    } finally {
      await own.close();
    }
  });
});

describe('tiered rate limiting', () => {
  it('answers 429 with the x-ratelimit headers once a tier is spent, per tier', async () => {
    sandbox.setRateLimits({
      Medium: { limit: 2, windowMs: 60_000 },
      Low: { limit: 1, windowMs: 300 },
    });
    expect((await call('PATCH', byEmail('r1@example.com'), { body: {} })).status).toBe(201);
    expect((await call('DELETE', byEmail('r1@example.com'))).status).toBe(200);
    const limited = await call('PATCH', byEmail('r2@example.com'), { body: {} });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('x-ratelimit-scope')).toBe('Medium');
    expect(limited.headers.get('x-ratelimit-limit')).toBe('2');
    expect(limited.headers.get('x-ratelimit-reset')).toBe('60');
    expect(limited.json).toEqual({
      errorCode: 'contacts:tooManyRequests',
      description: 'The Medium tier call rate limit of 2 has been exceeded',
    });
    expect(sandbox.store.getByEmail('r2@example.com')).toBeUndefined();
    // High (single GET) has no budget set: unaffected.
    expect((await call('GET', byEmail('r2@example.com'))).status).toBe(404);

    // Low: the import and its status share one budget; the window reopens after 300 ms.
    const body = {
      contacts: [{ matchIdentifier: 'email', identifiers: { email: 'l@example.com' } }],
    };
    const accepted = await call('PUT', '/contacts/v3/import', { body });
    expect(accepted.status).toBe(202);
    const poll = await call('GET', `/contacts/v3/import/${accepted.json.importId}`);
    expect(poll.status).toBe(429);
    expect(poll.headers.get('x-ratelimit-scope')).toBe('Low');
    expect(poll.headers.get('x-ratelimit-reset')).toBe('1');
    await sleep(320);
    expect((await call('GET', `/contacts/v3/import/${accepted.json.importId}`)).status).toBe(200);

    sandbox.setRateLimits(null);
    expect((await call('PATCH', byEmail('r2@example.com'), { body: {} })).status).toBe(201);
    expect(() => sandbox.setRateLimits({ High: { limit: -1, windowMs: 10 } })).toThrow(RangeError);
  });
});

describe('routing', () => {
  it('answers unknown paths 404 and wrong methods 405, both as errorResponse', async () => {
    const missing = await call('GET', '/contacts/v2/whatever');
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({
      errorCode: 'contacts:notFound',
      description: 'No resource at GET /contacts/v2/whatever',
    });
    const wrong = await call('PUT', byEmail('a@example.com'), { body: {} });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, PATCH, DELETE');
    expect(wrong.json).toEqual({
      errorCode: 'contacts:methodNotAllowed',
      description: 'The method PUT is not allowed on /contacts/v3/email/a%40example.com',
    });
    expect(sandbox.controls.requestCount({ method: 'PUT' })).toBe(1);
  });
});

describe('contact data fields (v2 /v2/data-fields; #15 item 3)', () => {
  it('lists the account data fields and creates one; a duplicate is ERROR_NON_UNIQUE_DATAFIELD', async () => {
    const list = await call('GET', '/v2/data-fields');
    expect(list.status).toBe(200);
    expect(list.json).toEqual(
      expect.arrayContaining([
        { name: 'FIRSTNAME', type: 'String', visibility: 'Public', defaultValue: null },
      ]),
    );
    expect(list.json.map((f: { name: string }) => f.name)).not.toContain('PLAN');
    const created = await call('POST', '/v2/data-fields', {
      body: { name: 'plan', type: 'String' },
    });
    expect(created.status).toBe(201);
    expect(created.json).toEqual({
      name: 'PLAN',
      type: 'String',
      visibility: 'Private',
      defaultValue: null,
    });
    const again = await call('POST', '/v2/data-fields', { body: { name: 'PLAN', type: 'String' } });
    expect(again.status).toBe(400);
    expect(again.json.message).toMatch(/ERROR_NON_UNIQUE_DATAFIELD$/);
    const bad = await call('POST', '/v2/data-fields', {
      body: { name: 'much-too-long-a-data-field-name', type: 'String' },
    });
    expect(bad.status).toBe(400);
    expect((await call('GET', '/v2/data-fields', { auth: null })).status).toBe(401);
  });

  it('refuses a PATCH naming a data field the account lacks, whole, as contacts:invalidContacts', async () => {
    const res = await call('PATCH', byEmail('unknown-field@example.com'), {
      body: { dataFields: { FIRSTNAME: 'Ada', NOPE: 'x' } },
    });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({
      errorCode: 'contacts:invalidContacts',
      description: expect.any(String),
      details: [
        {
          item: 'dataFields.NOPE',
          description: "The data field 'NOPE' does not exist in the account",
        },
      ],
    });
    expect(sandbox.store.getByEmail('unknown-field@example.com')).toBeUndefined();
    // Names compare case-insensitively.
    const ok = await call('PATCH', byEmail('unknown-field@example.com'), {
      body: { dataFields: { firstname: 'Ada' } },
    });
    expect(ok.status).toBe(201);
  });

  it('fails only the import contact that names an unknown data field', async () => {
    const accepted = await call('PUT', '/contacts/v3/import', {
      body: {
        contacts: [
          {
            matchIdentifier: 'email',
            identifiers: { email: 'i1@example.com' },
            dataFields: { NOPE: 1 },
          },
          {
            matchIdentifier: 'email',
            identifiers: { email: 'i2@example.com' },
            dataFields: { LASTNAME: 'L' },
          },
        ],
      },
    });
    expect(accepted.status).toBe(202);
    const done = await waitForImport(accepted.json.importId);
    expect(done.json.created).toHaveLength(1);
    expect(done.json.failures).toEqual([
      expect.objectContaining({
        identifiers: { email: 'i1@example.com' },
        failures: [{ failureCode: 'invalidContact', description: expect.stringMatching(/'NOPE'/) }],
      }),
    ]);
  });
});

describe('data fields in a sandbox snapshot', () => {
  it('a created data field survives snapshot and restore (sandbox mode restarts)', async () => {
    const { snapshotStore, restoreStore } = await import(
      '../../../../src/sandbox/shared/persist.js'
    );
    const { DotdigitalStore } = await import('../../../../src/sandbox/dotdigital/index.js');
    const before = new DotdigitalStore();
    before.dataFields.add({
      name: 'PLAN',
      type: 'String',
      visibility: 'Private',
      defaultValue: null,
    });
    const after = new DotdigitalStore();
    expect(after.dataFields.has('PLAN')).toBe(false);
    restoreStore(after, snapshotStore(before));
    expect(after.dataFields.has('plan')).toBe(true);
    expect(after.dataFields.has('FIRSTNAME')).toBe(true);
  });
});
