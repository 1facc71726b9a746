import { setTimeout as sleep } from 'node:timers/promises';
import { beforeEach, describe, expect, it } from 'vitest';
import { startSalesforceMcSandbox } from '../../../../src/sandbox/salesforce-mc/index.js';
import { attributeSets } from '../../../helpers/salesforce-mc.js';
import {
  type SandboxReply as Reply,
  sandboxCall,
  useSandbox,
} from '../../../helpers/sandbox-http.js';

const CLIENT_ID = 'sfmc-client';
const CLIENT_SECRET = 'sfmc-secret';
const MID = '514009708';
const DOCS =
  'https://developer.salesforce.com/docs/atlas.en-us.mc-apis.meta/mc-apis/error-handling.htm';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const sandbox = useSandbox(() =>
  startSalesforceMcSandbox({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    accountId: MID,
  }),
);
let token: string;

beforeEach(async () => {
  sandbox.store.clear();
  sandbox.setThrottle(null);
  sandbox.setTokenTtlSeconds(1080);
  token = await issueToken();
});

function call(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string | null> = {},
): Promise<Reply> {
  return sandboxCall(sandbox.url, method, path, {
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
    body,
    strictJson: true,
  });
}

const requestToken = (body: unknown) => call('POST', '/v2/token', body, { authorization: null });

async function issueToken(extra: Record<string, unknown> = {}): Promise<string> {
  const reply = await requestToken({
    grant_type: 'client_credentials',
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    ...extra,
  });
  expect(reply.status).toBe(200);
  return (reply.json as { access_token: string }).access_token;
}

type Values = Record<string, unknown>;

const emailSet = (email: string, extra: Values = {}) => ({
  'Email Addresses': { 'Email Address': email, 'HTML Enabled': true, ...extra },
});

const create = (contactKey: string, sets: Record<string, Values>) =>
  call('POST', '/contacts/v1/contacts', { contactKey, attributeSets: attributeSets(sets) });

const update = (contactKey: string, sets: Record<string, Values>) =>
  call('PATCH', '/contacts/v1/contacts', { contactKey, attributeSets: attributeSets(sets) });

const restError = (errorcode: number, message: string) => ({
  message,
  errorcode,
  documentation: DOCS,
});

describe('POST /v2/token', () => {
  it('issues a bearer token with the SF-7 fields, and it works on REST', async () => {
    const before = sandbox.tokensIssued;
    const reply = await requestToken({
      grant_type: 'client_credentials',
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
    });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(reply.json).toEqual({
      access_token: expect.stringMatching(/^\S{20,512}$/),
      token_type: 'Bearer',
      expires_in: 1080,
      scope:
        'list_and_subscribers_read list_and_subscribers_write audiences_read audiences_write ' +
        'data_extensions_read data_extensions_write',
      soap_instance_url: `${sandbox.url}/`,
      rest_instance_url: `${sandbox.url}/`,
    });
    expect(sandbox.tokensIssued).toBe(before + 1);
    token = (reply.json as { access_token: string }).access_token;
    const created = await create('k1', emailSet('k1@example.com'));
    expect(created.status).toBe(200);
  });

  it('accepts account_id as the MID, number or numeric string, or omitted', async () => {
    await issueToken({ account_id: Number(MID) });
    await issueToken({ account_id: MID });
  });

  it('refuses another account_id with 401 in the OAuth error shape', async () => {
    const reply = await requestToken({
      grant_type: 'client_credentials',
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      account_id: 12345,
    });
    expect(reply.status).toBe(401);
    expect(reply.json).toEqual({
      error: 'unauthorized_client',
      error_description:
        'The client is not authorized for account 12345. Use the MID of a business unit the installed package has access to.',
      error_uri: 'https://developer.salesforce.com/docs',
    });
  });

  it('refuses a wrong client id or secret with 401 invalid_client', async () => {
    const before = sandbox.tokensIssued;
    const badSecret = await requestToken({
      grant_type: 'client_credentials',
      client_id: CLIENT_ID,
      client_secret: 'wrong',
    });
    expect(badSecret.status).toBe(401);
    expect(badSecret.json).toEqual({
      error: 'invalid_client',
      error_description:
        'Invalid client secret. Use the client secret in Marketing Cloud Installed Packages.',
      error_uri: 'https://developer.salesforce.com/docs',
    });
    const badId = await requestToken({
      grant_type: 'client_credentials',
      client_id: 'other',
      client_secret: CLIENT_SECRET,
    });
    expect(badId.status).toBe(401);
    expect(badId.json).toEqual({
      error: 'invalid_client',
      error_description:
        'Invalid client ID. Use the client ID in Marketing Cloud Installed Packages.',
      error_uri: 'https://developer.salesforce.com/docs',
    });
    expect(sandbox.tokensIssued).toBe(before);
  });

  it('refuses another grant type with 400 unsupported_grant_type', async () => {
    const reply = await requestToken({
      grant_type: 'password',
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
    });
    expect(reply.status).toBe(400);
    expect(reply.json).toEqual({
      error: 'unsupported_grant_type',
      error_description: 'Use "client_credentials" as the value for the "grant_type" parameter.',
      error_uri: 'https://developer.salesforce.com/docs',
    });
  });

  it('takes a form-encoded body too', async () => {
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
    });
    const reply = await call('POST', '/v2/token', form.toString(), {
      authorization: null,
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(reply.status).toBe(200);
  });

  it('grants only the requested scopes; a token without the write scope gets 403', async () => {
    token = await issueToken({ scope: 'list_and_subscribers_read unknown_scope' });
    const reply = await create('k1', emailSet('k1@example.com'));
    expect(reply.status).toBe(403);
    expect(reply.json).toEqual(
      restError(
        20002,
        'Insufficient privileges: the access token lacks the list_and_subscribers_write scope.',
      ),
    );
    const search = await call('POST', '/contacts/v1/addresses/email/search', {
      channelAddressList: ['k1@example.com'],
    });
    expect(search.status).toBe(200);
  });
});

describe('auth: REST bearer tokens', () => {
  const notAuthorized = restError(0, 'Not Authorized');

  it('answers 401 without a token, with a bogus one, and with one in the URL', async () => {
    const missing = await call('POST', '/contacts/v1/contacts', {}, { authorization: null });
    expect([missing.status, missing.json]).toEqual([401, notAuthorized]);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="marketingcloudapis.com"');

    const bogus = await call('POST', '/contacts/v1/contacts', {}, { authorization: 'Bearer nope' });
    expect([bogus.status, bogus.json]).toEqual([401, notAuthorized]);
    expect(bogus.headers.get('www-authenticate')).toMatch(/^Bearer\s.+?invalid_token/);

    const inUrl = await call(
      'POST',
      `/contacts/v1/contacts?access_token=${token}`,
      {},
      { authorization: null },
    );
    expect([inUrl.status, inUrl.json]).toEqual([
      401,
      restError(
        40004,
        'Pass the access token in the Authorization header, not in the URL or body.',
      ),
    ]);
    expect(sandbox.store.size).toBe(0);
  });

  it('expires tokens after tokenTtlSeconds, and a fresh token works again', async () => {
    sandbox.setTokenTtlSeconds(1);
    const reply = await requestToken({
      grant_type: 'client_credentials',
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
    });
    expect((reply.json as { expires_in: number }).expires_in).toBe(1);
    token = (reply.json as { access_token: string }).access_token;
    expect((await create('k1', emailSet('k1@example.com'))).status).toBe(200);

    await sleep(1100);
    const expired = await create('k2', emailSet('k2@example.com'));
    expect([expired.status, expired.json]).toEqual([401, notAuthorized]);
    expect(expired.headers.get('www-authenticate')).toContain('error="invalid_token"');

    token = await issueToken();
    expect((await create('k2', emailSet('k2@example.com'))).status).toBe(200);
  });

  it('expireTokens() invalidates every token issued so far', async () => {
    sandbox.expireTokens();
    const reply = await create('k1', emailSet('k1@example.com'));
    expect([reply.status, reply.json]).toEqual([401, notAuthorized]);
    token = await issueToken();
    expect((await create('k1', emailSet('k1@example.com'))).status).toBe(200);
  });
});

describe('POST/PATCH /contacts/v1/contacts', () => {
  it('creates, then answers isNewContactKey false on later writes, merging values', async () => {
    const first = await create('acruz@example.com', {
      ...emailSet('acruz@example.com'),
      'Email Demographics': { 'First Name': 'Angela', 'Text Profile Attribute': 'value 1' },
    });
    expect(first.status).toBe(200);
    expect(first.json).toEqual({
      operationStatus: 'OK',
      rowsAffetcted: 1,
      contactKey: 'acruz@example.com',
      contactId: expect.any(Number),
      contactTypeID: 0,
      isNewContactKey: true,
      requestServiceMessageID: expect.stringMatching(UUID),
      responseDateTime: expect.stringMatching(ISO),
      hasErrors: false,
      resultMessages: [],
      serviceMessageID: expect.stringMatching(UUID),
    });
    const { contactId } = first.json as { contactId: number };

    const again = await create('acruz@example.com', {
      ...emailSet('acruz@example.com'),
      'Email Demographics': { 'Last Name': 'Cruz' },
    });
    expect(again.json).toMatchObject({ isNewContactKey: false, contactId, rowsAffetcted: 1 });

    const patched = await update('acruz@example.com', {
      'Email Addresses': { 'HTML Enabled': 'false' },
    });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({
      operationStatus: 'OK',
      isNewContactKey: false,
      contactId,
    });

    expect(sandbox.store.size).toBe(1);
    expect(sandbox.store.get('acruz@example.com')).toEqual({
      contactKey: 'acruz@example.com',
      contactId,
      contactTypeId: 0,
      createDate: expect.stringMatching(ISO),
      modifiedDate: expect.stringMatching(ISO),
      attributeSets: {
        'Email Addresses': { 'Email Address': 'acruz@example.com', 'HTML Enabled': false },
        'Email Demographics': {
          'First Name': 'Angela',
          'Text Profile Attribute': 'value 1',
          'Last Name': 'Cruz',
        },
      },
    });
  });

  it('answers PATCH on an unknown key with 200, hasErrors and a result message', async () => {
    const reply = await update('ghost', emailSet('ghost@example.com'));
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({
      operationStatus: 'Fail',
      rowsAffetcted: 0,
      contactKey: 'ghost',
      contactTypeID: 0,
      isNewContactKey: false,
      requestServiceMessageID: expect.stringMatching(UUID),
      responseDateTime: expect.stringMatching(ISO),
      hasErrors: true,
      resultMessages: [
        {
          resultType: 'Contacts',
          resultCode: 'ContactNotFound',
          resultClass: 'Error',
          message: "No contact exists with contactKey 'ghost'. Use POST to create it.",
        },
      ],
      serviceMessageID: expect.stringMatching(UUID),
    });
    expect(sandbox.store.size).toBe(0);
  });

  it('enforces the required values of Email Addresses and MobileConnect Demographics', async () => {
    const noHtml = await create('k1', { 'Email Addresses': { 'Email Address': 'k1@example.com' } });
    expect([noHtml.status, noHtml.json]).toEqual([
      400,
      restError(10002, "Attribute set 'Email Addresses' requires a value for 'HTML Enabled'."),
    ]);

    const mobile = await create('k2', {
      'MobileConnect Demographics': { 'Mobile Number': '3175315555' },
    });
    expect(mobile.status).toBe(400);
    expect(mobile.json).toEqual({
      ...restError(10006, 'The request has 2 validation errors.'),
      additionalErrors: [
        restError(
          10002,
          "Attribute set 'MobileConnect Demographics' requires a value for 'Locale'.",
        ),
        restError(
          10002,
          "Attribute set 'MobileConnect Demographics' requires a value for 'Status'.",
        ),
      ],
    });

    const ok = await create('k2', {
      'MobileConnect Demographics': { 'Mobile Number': '3175315555', Locale: 'US', Status: 1 },
    });
    expect(ok.status).toBe(200);
    expect(sandbox.store.size).toBe(1);
  });

  it('keeps SF-1 set dependencies and refuses to clear a required value', async () => {
    const demographicsOnly = await create('k1', { 'Email Demographics': { 'First Name': 'A' } });
    expect(demographicsOnly.status).toBe(400);
    expect(demographicsOnly.json).toMatchObject({
      errorcode: 10006,
      additionalErrors: [
        {
          errorcode: 10002,
          message:
            "Attribute set 'Email Demographics' must be sent with attribute set 'Email Addresses' in the same call.",
        },
        {
          errorcode: 10002,
          message: expect.stringContaining('at least one of the attribute sets'),
        },
      ],
    });

    expect((await create('k1', emailSet('k1@example.com'))).status).toBe(200);
    const cleared = await update('k1', { 'Email Addresses': { 'HTML Enabled': null } });
    expect([cleared.status, cleared.json]).toEqual([
      400,
      restError(10002, "Attribute set 'Email Addresses' requires a value for 'HTML Enabled'."),
    ]);
  });

  it.each([
    [
      'an unknown attribute set',
      { contactKey: 'k', attributeSets: attributeSets({ Loyalty: { Points: 1 } }) },
      restError(
        10005,
        "Attribute set 'Loyalty' does not exist. Known attribute sets: Email Addresses, Email Demographics, " +
          'MobileConnect Demographics, MobilePush Demographics, GroupConnect LINE Addresses, ' +
          'GroupConnect LINE Subscriptions, GroupConnect LINE Demographics.',
      ),
    ],
    [
      'an unknown attribute in a closed set',
      {
        contactKey: 'k',
        attributeSets: attributeSets(emailSet('k@example.com', { Colour: 'red' })),
      },
      restError(10005, "Attribute 'Colour' does not exist in attribute set 'Email Addresses'."),
    ],
    [
      'a bad email address',
      { contactKey: 'k', attributeSets: attributeSets(emailSet('not-an-email')) },
      restError(
        10003,
        "The value of 'Email Address' in attribute set 'Email Addresses' is not a valid email address.",
      ),
    ],
    [
      'a Locale that is not a country code',
      {
        contactKey: 'k',
        attributeSets: attributeSets({
          'MobileConnect Demographics': { 'Mobile Number': '1', Locale: 'en-US', Status: 1 },
        }),
      },
      restError(
        10003,
        "The value of 'Locale' in attribute set 'MobileConnect Demographics' must be a two-letter country code, e.g. \"US\".",
      ),
    ],
    [
      'a set sent twice',
      {
        contactKey: 'k',
        attributeSets: [
          ...attributeSets(emailSet('k@example.com')),
          ...attributeSets(emailSet('k@example.com')),
        ],
      },
      restError(
        10005,
        "Attribute set 'Email Addresses' appears more than once; each call accepts one instance of each attribute set.",
      ),
    ],
    [
      'no contact key',
      { attributeSets: attributeSets(emailSet('k@example.com')) },
      restError(10002, 'Provide a value for contactKey or contactID.'),
    ],
    ['no attribute sets', { contactKey: 'k' }, restError(10002, 'attributeSets is required.')],
  ])('refuses %s with 400', async (_case, body, expected) => {
    const reply = await call('POST', '/contacts/v1/contacts', body);
    expect([reply.status, reply.json]).toEqual([400, expected]);
    expect(sandbox.store.size).toBe(0);
  });

  it('answers unparsable JSON with 10004 and a non-JSON media type with 415', async () => {
    const broken = await call('POST', '/contacts/v1/contacts', '{"contactKey": ');
    expect([broken.status, broken.json]).toEqual([
      400,
      restError(10004, 'The request body is not valid JSON.'),
    ]);
    const text = await call('POST', '/contacts/v1/contacts', 'contactKey=k', {
      'content-type': 'text/plain',
    });
    expect(text.status).toBe(415);
  });
});

describe('POST /contacts/v1/addresses/email/search', () => {
  it('finds contact keys by email, oldest first, up to maximumCount', async () => {
    await create('first', emailSet('Shared@Example.com'));
    await create('second', emailSet('shared@example.com'));
    await create('other', emailSet('other@example.com'));

    const reply = await call('POST', '/contacts/v1/addresses/email/search', {
      channelAddressList: ['shared@example.com', 'nobody@example.com'],
      maximumCount: 5,
    });
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({
      channelAddressResponseEntities: [
        {
          channelAddress: 'shared@example.com',
          contactKeyDetails: [
            { contactKey: 'first', createDate: sandbox.store.get('first')?.createDate },
            { contactKey: 'second', createDate: sandbox.store.get('second')?.createDate },
          ],
        },
        { channelAddress: 'nobody@example.com', contactKeyDetails: [] },
      ],
      requestServiceMessageID: expect.stringMatching(UUID),
      resultMessages: [],
      serviceMessageID: expect.stringMatching(UUID),
    });

    // SF-3's example casing; maximumCount defaults to 1.
    const pascal = await call('POST', '/contacts/v1/addresses/email/search', {
      ChannelAddressList: ['shared@example.com'],
    });
    expect(pascal.json).toMatchObject({
      channelAddressResponseEntities: [
        { channelAddress: 'shared@example.com', contactKeyDetails: [{ contactKey: 'first' }] },
      ],
    });
  });

  it('needs a channelAddressList', async () => {
    const reply = await call('POST', '/contacts/v1/addresses/email/search', { maximumCount: 1 });
    expect([reply.status, reply.json]).toEqual([
      400,
      restError(10002, 'channelAddressList must list at least one email address.'),
    ]);
  });
});

describe('POST /contacts/v1/contacts/actions/delete', () => {
  it('deletes by key and reports the initiated operation', async () => {
    await create('k1', emailSet('k1@example.com'));
    await create('k2', emailSet('k2@example.com'));
    const reply = await call('POST', '/contacts/v1/contacts/actions/delete?type=keys', {
      values: ['k1', 'missing'],
      DeleteOperationType: 'ContactAndAttributes',
    });
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({
      operationInitiated: true,
      operationID: expect.any(Number),
      requestServiceMessageID: expect.stringMatching(UUID),
      resultMessages: [],
      serviceMessageID: expect.stringMatching(UUID),
    });
    expect(sandbox.store.all().map((c) => c.contactKey)).toEqual(['k2']);
  });
});

describe('throttling and faults', () => {
  it('answers 429 with Retry-After and the SF-9 body once over the limit', async () => {
    sandbox.setThrottle({ limit: 2, windowMs: 60_000 });
    expect((await create('k1', emailSet('k1@example.com'))).status).toBe(200);
    expect((await create('k2', emailSet('k2@example.com'))).status).toBe(200);

    const throttled = await create('k3', emailSet('k3@example.com'));
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('60');
    expect(throttled.json).toEqual({
      message: 'Rate limit exceeded',
      errorcode: 50100,
      retryAfter: 60,
      documentation: DOCS,
    });
    expect(sandbox.store.get('k3')).toBeUndefined();

    // The auth host is not throttled.
    await issueToken();

    sandbox.setThrottle(null);
    expect((await create('k3', emailSet('k3@example.com'))).status).toBe(200);
  });

  it('lets the window slide', async () => {
    sandbox.setThrottle({ limit: 1, windowMs: 150 });
    expect((await create('k1', emailSet('k1@example.com'))).status).toBe(200);
    const throttled = await create('k2', emailSet('k2@example.com'));
    expect([throttled.status, throttled.headers.get('retry-after')]).toEqual([429, '1']);
    await sleep(200);
    expect((await create('k2', emailSet('k2@example.com'))).status).toBe(200);
  });

  it('can produce the 50200 block through controls.inject', async () => {
    const blocked = {
      message: 'Your requests are temporarily blocked.',
      errorcode: 50200,
      documentation: DOCS,
    };
    sandbox.controls.inject({
      method: 'POST',
      path: '/contacts/v1/contacts',
      faults: [{ kind: 'status', status: 429, body: blocked }],
    });
    const reply = await create('k1', emailSet('k1@example.com'));
    expect([reply.status, reply.json, reply.headers.get('retry-after')]).toEqual([
      429,
      blocked,
      null,
    ]);
    expect((await create('k1', emailSet('k1@example.com'))).status).toBe(200);
    expect(sandbox.controls.requestCount({ path: '/contacts/v1/contacts' })).toBe(2);
  });
});

describe('routing', () => {
  it('answers unknown paths with 404 and wrong methods with 405', async () => {
    const missing = await call('GET', '/contacts/v1/contacts/k1');
    expect([missing.status, missing.json]).toEqual([
      404,
      restError(30003, 'No resource matches GET /contacts/v1/contacts/k1.'),
    ]);
    const wrong = await call('GET', '/contacts/v1/contacts');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST, PATCH');
  });
});
