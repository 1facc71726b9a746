import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Secret } from '../../../../src/config.js';
import type { SalesforceMcConfig } from '../../../../src/providers/salesforce-mc/config.js';
import { createSalesforceMcAdapter } from '../../../../src/providers/salesforce-mc/index.js';
import type { ProviderAdapter } from '../../../../src/providers/types.js';
import { startSalesforceMcSandbox } from '../../../../src/sandbox/salesforce-mc/index.js';
import { adapterConfig, adapterDeps, adapterSet, ctx, item } from '../../../helpers/adapter.js';
import { contactBody } from '../../../helpers/salesforce-mc.js';
import { useSandbox } from '../../../helpers/sandbox-http.js';

/** The adapter against the SFMC sandbox on a loopback port: real HTTP, real tokens, real wire. */
const CLIENT_ID = 'unit-sfmc-client';
const SECRET = 'unit-sfmc-S3cret-value';
const MID = '514009876';
const CONTACTS = '/contacts/v1/contacts';
const SEARCH = '/contacts/v1/addresses/email/search';
const TOKEN = '/v2/token';

const sandbox = useSandbox(() =>
  startSalesforceMcSandbox({
    clientId: CLIENT_ID,
    clientSecret: SECRET,
    accountId: MID,
  }),
);
let adapter: ProviderAdapter;
const adapters = adapterSet();

function makeAdapter(over: Partial<SalesforceMcConfig> = {}): ProviderAdapter {
  const a = createSalesforceMcAdapter(
    adapterConfig.salesforceMc(
      sandbox.url,
      { clientId: CLIENT_ID, clientSecret: SECRET, accountId: MID },
      over,
    ),
    adapterDeps(),
  );
  return adapters.add(a);
}

const requests = (method?: string, path?: string) =>
  sandbox.controls.requests.filter(
    (r) => (method === undefined || r.method === method) && (path === undefined || r.path === path),
  );

/** attributeSets of a recorded body → { set: { attribute: value } }. */
function setsOf(body: unknown): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const s of (
    body as {
      attributeSets: Array<{
        name: string;
        items: Array<{ values: Array<{ name: string; value: unknown }> }>;
      }>;
    }
  ).attributeSets) {
    out[s.name] = Object.fromEntries(s.items[0]!.values.map((v) => [v.name, v.value]));
  }
  return out;
}

beforeAll(async () => {
  adapter = makeAdapter();
});
afterAll(async () => {
  await adapters.close();
});
beforeEach(() => {
  sandbox.setThrottle(null);
  sandbox.setTokenTtlSeconds(1080);
});

describe('SFMC adapter: writes', () => {
  it('POSTs a new key with the required sets, then PATCHes it once linked (CREATED → UPDATED)', async () => {
    const stats = ctx();
    const [created] = await adapter.upsertMany(
      [
        item({
          externalId: 'crm-ada',
          email: 'ada@example.com',
          firstName: 'Ada',
          lastName: 'Lovelace',
        }),
      ],
      stats,
    );
    expect(created).toMatchObject({
      status: 'CREATED',
      remoteId: 'crm-ada',
      error: null,
      droppedFields: [],
      details: { method: 'POST', contactId: expect.stringMatching(/^\d+$/), rowsAffected: 1 },
    });
    const [post] = requests('POST', CONTACTS);
    expect(post!.body).toEqual(
      contactBody('crm-ada', {
        'Email Addresses': { 'Email Address': 'ada@example.com', 'HTML Enabled': true },
        'Email Demographics': { 'First Name': 'Ada', 'Last Name': 'Lovelace' },
      }),
    );
    expect(post!.headers['authorization']).toMatch(/^Bearer sfmc-sandbox\./);
    expect(post!.headers['content-type']).toBe('application/json');

    const [updated] = await adapter.upsertMany(
      [item({ lastName: 'King' }, { remoteId: 'crm-ada', known: { email: 'ada@example.com' } })],
      stats,
    );
    expect(updated).toMatchObject({
      status: 'UPDATED',
      remoteId: 'crm-ada',
      details: { method: 'PATCH' },
    });
    expect(requests('PATCH', CONTACTS)[0]!.body).toEqual(
      // Seed 004: Email Demographics goes with Email Addresses (the address alone).
      contactBody('crm-ada', {
        'Email Addresses': { 'Email Address': 'ada@example.com' },
        'Email Demographics': { 'Last Name': 'King' },
      }),
    );
    expect(sandbox.store.get('crm-ada')!.attributeSets).toEqual({
      'Email Addresses': { 'Email Address': 'ada@example.com', 'HTML Enabled': true },
      'Email Demographics': { 'First Name': 'Ada', 'Last Name': 'King' },
    });
    // one token + POST + PATCH
    expect(stats.stats.upstreamRequests).toBe(3);
  });

  it('a POST for a key SFMC already has answers isNewContactKey false → UPDATED', async () => {
    await adapter.upsertMany([item({ email: 'twice@example.com', firstName: 'One' })], ctx());
    const [again] = await adapter.upsertMany(
      [item({ email: 'twice@example.com', firstName: 'Two' })],
      ctx(),
    );
    expect(again).toMatchObject({
      status: 'UPDATED',
      remoteId: 'twice@example.com',
      details: { method: 'POST' },
    });
    expect(requests('POST', CONTACTS)).toHaveLength(2);
    expect(sandbox.store.get('twice@example.com')!.attributeSets['Email Demographics']).toEqual({
      'First Name': 'Two',
    });
  });

  it('maps phone to MobileConnect with Locale and Status, keyed by email when there is no externalId', async () => {
    const [r] = await adapter.upsertMany(
      [item({ email: 'mobile@example.com', phone: '+447123123123', emailFormat: 'PLAIN_TEXT' })],
      ctx(),
    );
    expect(r).toMatchObject({ status: 'CREATED', remoteId: 'mobile@example.com' });
    expect(sandbox.store.get('mobile@example.com')!.attributeSets).toEqual({
      'Email Addresses': { 'Email Address': 'mobile@example.com', 'HTML Enabled': false },
      'MobileConnect Demographics': { 'Mobile Number': '447123123123', Locale: 'GB', Status: 1 },
    });
  });

  it('null clears a mapped attribute (value null); identifiers are dropped, never sent', async () => {
    await adapter.upsertMany(
      [
        item({
          externalId: 'crm-clear',
          email: 'clear@example.com',
          firstName: 'Gone',
          lastName: 'Stays',
        }),
      ],
      ctx(),
    );
    const [r] = await adapter.updateMany(
      [
        item(
          { firstName: null, email: null, externalId: null },
          { remoteId: 'crm-clear', known: { email: 'clear@example.com' } },
        ),
      ],
      ctx(),
    );
    expect(r).toMatchObject({ status: 'UPDATED', droppedFields: ['email', 'externalId'] });
    expect(requests('PATCH', CONTACTS).at(-1)!.body).toEqual(
      contactBody('crm-clear', {
        'Email Addresses': { 'Email Address': 'clear@example.com' },
        'Email Demographics': { 'First Name': null },
      }),
    );
    expect(sandbox.store.get('crm-clear')!.attributeSets).toEqual({
      'Email Addresses': { 'Email Address': 'clear@example.com', 'HTML Enabled': true },
      'Email Demographics': { 'Last Name': 'Stays' },
    });
  });

  it('writes custom-mapped attributes and reports unmapped custom fields dropped', async () => {
    const custom = makeAdapter({
      attributeMap: { 'customFields.plan': { set: 'Email Demographics', attribute: 'Plan' } },
    });
    const [r] = await custom.upsertMany(
      [item({ email: 'custom@example.com', customFields: { plan: 'gold', color: 'red' } })],
      ctx(),
    );
    expect(r).toMatchObject({ status: 'CREATED', droppedFields: ['customFields.color'] });
    expect(sandbox.store.get('custom@example.com')!.attributeSets['Email Demographics']).toEqual({
      Plan: 'gold',
    });
  });

  it('updateMany of a key SFMC does not know: FAILED with SFMC result messages (HTTP 200 hasErrors)', async () => {
    const [r] = await adapter.updateMany(
      [item({ firstName: 'X' }, { remoteId: 'crm-ghost', known: { email: 'ghost@example.com' } })],
      ctx(),
    );
    expect(r).toMatchObject({
      status: 'FAILED',
      remoteId: 'crm-ghost',
      attempts: 1,
      error: {
        code: 'ContactNotFound',
        httpStatus: 200,
        retryable: false,
        message: expect.stringContaining("No contact exists with contactKey 'crm-ghost'"),
      },
    });
    expect(requests('POST', CONTACTS)).toHaveLength(0);
  });

  it('upsertMany of a linked key SFMC lost: PATCH, then POST with the create body → CREATED', async () => {
    const [r] = await adapter.upsertMany(
      [item({ firstName: 'Back' }, { remoteId: 'crm-lost', known: { email: 'lost@example.com' } })],
      ctx(),
    );
    expect(r).toMatchObject({
      status: 'CREATED',
      remoteId: 'crm-lost',
      attempts: 2,
      details: { method: 'POST' },
    });
    expect(
      requests()
        .filter((q) => q.path === CONTACTS)
        .map((q) => q.method),
    ).toEqual(['PATCH', 'POST']);
    expect(sandbox.store.get('crm-lost')!.attributeSets['Email Addresses']).toEqual({
      'Email Address': 'lost@example.com',
      'HTML Enabled': true,
    });
  });

  it('HTTP 200 with hasErrors: true → FAILED with every result message', async () => {
    sandbox.controls.inject({
      method: 'POST',
      path: CONTACTS,
      faults: [
        {
          kind: 'status',
          status: 200,
          body: {
            operationStatus: 'OK',
            rowsAffetcted: 0,
            contactKey: 'x@example.com',
            isNewContactKey: false,
            hasErrors: true,
            resultMessages: [
              {
                resultType: 'Contacts',
                resultCode: 'InvalidAttributeValue',
                resultClass: 'Error',
                message: 'Locale is not valid',
              },
              { resultCode: 'Other', message: 'Second problem' },
            ],
          },
        },
      ],
    });
    const [r] = await adapter.upsertMany([item({ email: 'x@example.com' })], ctx());
    expect(r).toMatchObject({
      status: 'FAILED',
      error: {
        code: 'InvalidAttributeValue',
        httpStatus: 200,
        retryable: false,
        message:
          'Salesforce MC did not apply the contact: InvalidAttributeValue: Locale is not valid; Other: Second problem',
      },
    });
  });

  it('a non-OK operationStatus is a failure even without hasErrors', async () => {
    sandbox.controls.inject({
      method: 'POST',
      path: CONTACTS,
      faults: [
        { kind: 'status', status: 200, body: { operationStatus: 'Fail', resultMessages: [] } },
      ],
    });
    const [r] = await adapter.upsertMany([item({ email: 'opfail@example.com' })], ctx());
    expect(r).toMatchObject({ status: 'FAILED', error: { httpStatus: 200, retryable: false } });
  });

  it('accepts rowsAffected and contactID spellings', async () => {
    sandbox.controls.inject({
      method: 'POST',
      path: CONTACTS,
      faults: [
        {
          kind: 'status',
          status: 200,
          body: {
            operationStatus: 'OK',
            rowsAffected: 1,
            contactKey: 'spell@example.com',
            contactID: 4242,
            isNewContactKey: true,
            hasErrors: false,
          },
        },
      ],
    });
    const [r] = await adapter.upsertMany([item({ email: 'spell@example.com' })], ctx());
    expect(r).toMatchObject({
      status: 'CREATED',
      remoteId: 'spell@example.com',
      details: { contactId: '4242', rowsAffected: 1 },
    });
  });

  it('429/50100 from the throttle: FAILED, retryable, Retry-After in details', async () => {
    sandbox.setThrottle({ limit: 1, windowMs: 60_000 });
    const results = await adapter.upsertMany(
      [item({ email: 'rl1@example.com' }), item({ email: 'rl2@example.com' })],
      ctx(),
    );
    const failed = results.filter((r) => r.status === 'FAILED');
    expect(results.filter((r) => r.status === 'CREATED')).toHaveLength(1);
    expect(failed).toHaveLength(1);
    expect(failed[0]!.error).toMatchObject({
      code: '50100',
      httpStatus: 429,
      retryable: true,
      details: { errorcode: 50100, retryAfterMs: expect.any(Number) },
    });
    expect(failed[0]!.error!.details!['retryAfterMs']).toBeGreaterThanOrEqual(1000);
  });

  it('429/50200 (temporarily blocked) is not retryable and has no retry delay', async () => {
    sandbox.controls.inject({
      method: 'POST',
      path: CONTACTS,
      faults: [
        {
          kind: 'status',
          status: 429,
          body: {
            message: 'Too many concurrent requests',
            errorcode: 50200,
            documentation: 'https://developer.salesforce.com/docs',
          },
        },
      ],
    });
    const [r] = await adapter.upsertMany([item({ email: 'blocked@example.com' })], ctx());
    expect(r!.status).toBe('FAILED');
    expect(r!.error).toEqual({
      code: '50200',
      httpStatus: 429,
      retryable: false,
      message: 'Salesforce MC answered 429 (errorcode 50200): Too many concurrent requests',
      details: { errorcode: 50200 },
    });
  });

  it('a 400 validation error keeps SFMC errorcode and is not retryable', async () => {
    const bad = makeAdapter({
      attributeMap: { jobTitle: { set: 'No Such Set', attribute: 'Title' } },
    });
    const [r] = await bad.upsertMany([item({ email: 'v@example.com', jobTitle: 'Eng' })], ctx());
    expect(r).toMatchObject({
      status: 'FAILED',
      error: {
        code: '10005',
        httpStatus: 400,
        retryable: false,
        message: expect.stringContaining("'No Such Set' does not exist"),
      },
    });
  });

  it('skips a contact SFMC cannot create (no email, no phone) without calling it', async () => {
    const [r] = await adapter.upsertMany(
      [item({ externalId: 'crm-empty', firstName: 'Nobody' })],
      ctx(),
    );
    expect(r).toMatchObject({ status: 'SKIPPED', error: { code: 'MISSING_REQUIRED_FIELD' } });
    expect(requests()).toHaveLength(0);
  });

  it('runs items with the same contact key one after another, in order (last one wins)', async () => {
    const results = await adapter.upsertMany(
      [
        item({ externalId: 'crm-dup', email: 'dup@example.com', firstName: 'First' }),
        item({ externalId: 'crm-dup', email: 'dup@example.com', firstName: 'Second' }),
      ],
      ctx(),
    );
    expect(results.map((r) => [r.status, r.details?.['method']])).toEqual([
      ['CREATED', 'POST'],
      ['UPDATED', 'PATCH'],
    ]);
    expect(requests('PATCH', CONTACTS)[0]!.body).toMatchObject({ contactKey: 'crm-dup' });
    expect(sandbox.store.get('crm-dup')!.attributeSets['Email Demographics']).toEqual({
      'First Name': 'Second',
    });
  });
});

describe('SFMC adapter: tokens', () => {
  it('50 concurrent writes share one token request; the secret goes only to /v2/token', async () => {
    const a = makeAdapter({ concurrency: 50 });
    const issued = sandbox.tokensIssued;
    const stats = ctx();
    const results = await a.upsertMany(
      Array.from({ length: 50 }, (_, i) => item({ email: `tok${i}@example.com` })),
      stats,
    );
    expect(results.every((r) => r.status === 'CREATED')).toBe(true);
    expect(sandbox.tokensIssued - issued).toBe(1);
    const tokenCalls = requests('POST', TOKEN);
    expect(tokenCalls).toHaveLength(1);
    expect(tokenCalls[0]!.body).toEqual({
      grant_type: 'client_credentials',
      client_id: CLIENT_ID,
      client_secret: SECRET,
      account_id: Number(MID),
    });
    expect(requests('POST', CONTACTS)).toHaveLength(50);
    expect(stats.stats.upstreamRequests).toBe(51);
    const rest = requests().filter((r) => r.path !== TOKEN);
    expect(new Set(rest.map((r) => r.headers['authorization'])).size).toBe(1);
    expect(JSON.stringify(rest)).not.toContain(SECRET);
  });

  it('renews a token before expires_in runs out (no request is refused)', async () => {
    sandbox.setTokenTtlSeconds(1);
    const a = makeAdapter();
    const [first] = await a.upsertMany([item({ email: 'ttl1@example.com' })], ctx());
    await sleep(600); // past the 0.5 s the adapter uses a 1 s token for
    const [second] = await a.upsertMany([item({ email: 'ttl2@example.com' })], ctx());
    expect([first!.status, second!.status]).toEqual(['CREATED', 'CREATED']);
    expect([first!.attempts, second!.attempts]).toEqual([1, 1]);
    expect(requests('POST', TOKEN)).toHaveLength(2);
    const [a1, a2] = requests('POST', CONTACTS).map((r) => r.headers['authorization']);
    expect(a1).not.toBe(a2);
  });

  it('a 401 mid-flight refreshes once and retries once, however many calls got it', async () => {
    const a = makeAdapter({ concurrency: 20 });
    await a.upsertMany([item({ email: 'warm@example.com' })], ctx());
    const issued = sandbox.tokensIssued;
    sandbox.expireTokens();
    sandbox.controls.clearRequests();
    const stats = ctx();
    const results = await a.upsertMany(
      Array.from({ length: 20 }, (_, i) => item({ email: `e401-${i}@example.com` })),
      stats,
    );
    expect(results.map((r) => r.status)).toEqual(Array(20).fill('CREATED'));
    expect(results.map((r) => r.attempts)).toEqual(Array(20).fill(2));
    expect(sandbox.tokensIssued - issued).toBe(1);
    expect(requests('POST', TOKEN)).toHaveLength(1);
    expect(requests('POST', CONTACTS)).toHaveLength(40);
    expect(stats.stats.upstreamRequests).toBe(41);
  });

  it('a second 401 after the refresh fails without a third try', async () => {
    const a = makeAdapter();
    sandbox.controls.inject({
      method: 'POST',
      path: CONTACTS,
      faults: [
        {
          kind: 'status',
          status: 401,
          body: { message: 'Not Authorized', errorcode: 0, documentation: 'x' },
        },
        {
          kind: 'status',
          status: 401,
          body: { message: 'Not Authorized', errorcode: 0, documentation: 'x' },
        },
      ],
    });
    const [r] = await a.upsertMany([item({ email: 'twice401@example.com' })], ctx());
    expect(r).toMatchObject({
      status: 'FAILED',
      attempts: 2,
      error: { code: 'UNAUTHORIZED', httpStatus: 401, retryable: false },
    });
    expect(requests('POST', CONTACTS)).toHaveLength(2);
    expect(requests('POST', TOKEN)).toHaveLength(2);
  });

  it('wrong credentials: FAILED UNAUTHORIZED, and the secret appears in no result or error', async () => {
    const wrongSecret = 'wrong-S3cret-never-shown';
    const a = makeAdapter({ clientSecret: new Secret(wrongSecret) });
    const writes = await a.upsertMany(
      [item({ email: 'w1@example.com' }), item({ email: 'w2@example.com' })],
      ctx(),
    );
    const reads = await a.readMany([{ by: 'email', value: 'w1@example.com' }], ctx());
    expect(writes.map((r) => r.status)).toEqual(['FAILED', 'FAILED']);
    expect(writes[0]!.error).toMatchObject({
      code: 'UNAUTHORIZED',
      httpStatus: 401,
      retryable: false,
      message: expect.stringContaining('invalid_client'),
    });
    expect(reads[0]).toMatchObject({ code: 'UNAUTHORIZED' });
    // The two writes shared one (refused) token request; the read asked again.
    expect(requests('POST', TOKEN)).toHaveLength(2);
    expect(JSON.stringify([writes, reads])).not.toContain(wrongSecret);
  });

  it('scrubs the secret from an error even if SFMC echoed it', async () => {
    sandbox.controls.inject({
      method: 'POST',
      path: CONTACTS,
      faults: [
        {
          kind: 'status',
          status: 400,
          body: {
            message: `bad request client_secret=${SECRET} and ${SECRET}`,
            errorcode: 10000,
            documentation: 'x',
          },
        },
      ],
    });
    const [r] = await adapter.upsertMany([item({ email: 'echo@example.com' })], ctx());
    expect(r!.status).toBe('FAILED');
    expect(JSON.stringify(r)).not.toContain(SECRET);
    expect(r!.error!.message).toContain('[redacted]');
  });
});

describe('SFMC adapter: reads', () => {
  it('reads 120 emails with ⌈120/50⌉ = 3 searches, answers in key order', async () => {
    const known = Array.from({ length: 60 }, (_, i) => `read${i}@example.com`);
    // A fresh adapter: other tests expire every token the sandbox issued.
    const reader = makeAdapter({ concurrency: 16 });
    await reader.upsertMany(
      known.map((email, i) =>
        item(i % 2 === 0 ? { email } : { email, externalId: `crm-read-${i}` }),
      ),
      ctx(),
    );
    sandbox.controls.clearRequests();
    const emails = Array.from({ length: 120 }, (_, i) =>
      i % 2 === 0 ? known[i / 2]! : `nobody${i}@example.com`,
    );
    const stats = ctx();
    const results = await reader.readMany(
      emails.map((value) => ({ by: 'email' as const, value })),
      stats,
    );
    const searches = requests('POST', SEARCH);
    expect(searches).toHaveLength(3);
    expect(
      searches
        .map((s) => (s.body as { channelAddressList: string[] }).channelAddressList.length)
        .sort(),
    ).toEqual([20, 50, 50]);
    expect(stats.stats.upstreamRequests).toBe(3);
    expect(results).toHaveLength(120);
    results.forEach((r, i) => {
      if (i % 2 === 1) {
        expect(r).toBeNull();
        return;
      }
      const k = i / 2;
      expect(r).toEqual({
        remoteId: k % 2 === 0 ? known[k] : `crm-read-${k}`,
        contact:
          k % 2 === 0 ? { email: known[k] } : { email: known[k], externalId: `crm-read-${k}` },
        createdAt: expect.any(String),
        updatedAt: null,
      });
    });
  });

  it('one search per chunk however the keys repeat; case-insensitive', async () => {
    await adapter.upsertMany([item({ email: 'case@example.com' })], ctx());
    sandbox.controls.clearRequests();
    const results = await adapter.readMany(
      [
        { by: 'email', value: 'Case@Example.com' },
        { by: 'email', value: 'case@example.com' },
      ],
      ctx(),
    );
    expect(requests('POST', SEARCH)).toHaveLength(1);
    expect(
      (requests('POST', SEARCH)[0]!.body as { channelAddressList: string[] }).channelAddressList,
    ).toEqual(['case@example.com']);
    expect(results.map((r) => (r && 'remoteId' in r ? r.remoteId : r))).toEqual([
      'case@example.com',
      'case@example.com',
    ]);
  });

  it('reads by a remote id that is an email; other keys get an honest error', async () => {
    await adapter.upsertMany(
      [
        item({ email: 'rid@example.com' }),
        item({ externalId: 'crm-rid', email: 'rid2@example.com' }),
      ],
      ctx(),
    );
    sandbox.controls.clearRequests();
    const results = await adapter.readMany(
      [
        { by: 'remoteId', value: 'rid@example.com' },
        { by: 'remoteId', value: 'crm-rid' },
        { by: 'externalId', value: 'crm-rid' },
      ],
      ctx(),
    );
    expect(results[0]).toMatchObject({
      remoteId: 'rid@example.com',
      contact: { email: 'rid@example.com' },
    });
    expect(results[1]).toMatchObject({ code: 'BAD_REQUEST', retryable: false });
    expect(results[2]).toMatchObject({ code: 'BAD_REQUEST', retryable: false });
    expect(requests('POST', SEARCH)).toHaveLength(1);
  });

  it('a failed search fails its chunk only', async () => {
    const a = makeAdapter({ searchBatchSize: 2 });
    await a.upsertMany(
      [item({ email: 'c1@example.com' }), item({ email: 'c3@example.com' })],
      ctx(),
    );
    sandbox.controls.inject({
      method: 'POST',
      path: SEARCH,
      faults: [
        {
          kind: 'status',
          status: 503,
          body: { message: 'Unavailable', errorcode: 50300, documentation: 'x' },
          headers: { 'retry-after': '2' },
        },
      ],
    });
    const results = await a.readMany(
      ['c1@example.com', 'c2@example.com', 'c3@example.com'].map((value) => ({
        by: 'email' as const,
        value,
      })),
      ctx(),
    );
    // Chunks [c1, c2] and [c3] run in parallel; whichever got the 503 fails alone.
    const failed = results.map((r) => r !== null && 'code' in r);
    expect([
      [true, true, false],
      [false, false, true],
    ]).toContainEqual(failed);
    expect(results.find((r) => r !== null && 'code' in r)).toMatchObject({
      code: '50300',
      retryable: true,
      details: { retryAfterMs: 2000 },
    });
    expect(results.filter((r) => r !== null && 'remoteId' in r).length).toBeGreaterThanOrEqual(1);
  });
});

describe('SFMC adapter: batches and dry runs', () => {
  it('a batch of 30 runs at most `concurrency` (4) requests at a time', async () => {
    const a = makeAdapter({ concurrency: 4 });
    await a.upsertMany([item({ email: 'warmup@example.com' })], ctx()); // token first
    const latency = 80;
    sandbox.controls.reset();
    sandbox.controls.setLatency(latency);
    const stats = ctx();
    const started = performance.now();
    const results = await a.upsertMany(
      Array.from({ length: 30 }, (_, i) => item({ email: `conc${i}@example.com` })),
      stats,
    );
    const took = performance.now() - started;
    expect(results.every((r) => r.status === 'CREATED')).toBe(true);
    expect(stats.stats.upstreamRequests).toBe(30);
    const arrivals = requests('POST', CONTACTS).map((r) => r.at);
    expect(arrivals).toHaveLength(30);
    // A request is in flight for at least `latency` ms after it arrives.
    const inFlight = arrivals.map((t) => arrivals.filter((u) => u <= t && t < u + latency).length);
    expect(Math.max(...inFlight)).toBe(4);
    expect(took).toBeGreaterThanOrEqual(Math.ceil(30 / 4) * latency - 20);
  });

  it('planWrite returns the exact request with the bearer redacted, without calling SFMC', () => {
    const fresh = makeAdapter();
    const plan = fresh.planWrite(
      item({
        externalId: 'crm-dry',
        email: 'dry@example.com',
        phone: '+447123123123',
        birthdate: '1990-01-01',
      }),
    );
    expect(plan).toEqual({
      ok: true,
      droppedFields: ['birthdate'],
      details: {
        droppedFieldReasons: { birthdate: expect.stringMatching(/no Salesforce MC attribute/) },
      },
      request: {
        method: 'POST',
        url: `${sandbox.url}/contacts/v1/contacts`,
        headers: {
          accept: 'application/json',
          authorization: 'Bearer [redacted]',
          'content-type': 'application/json',
        },
        body: contactBody('crm-dry', {
          'Email Addresses': { 'Email Address': 'dry@example.com', 'HTML Enabled': true },
          'MobileConnect Demographics': {
            'Mobile Number': '447123123123',
            Locale: 'GB',
            Status: 1,
          },
        }),
      },
    });
    expect(JSON.stringify(plan)).not.toContain(SECRET);
    expect(requests()).toHaveLength(0);
  });

  it('planWrite of a linked contact is the PATCH; a patch SFMC stores nothing of is SKIPPED', async () => {
    const plan = adapter.planWrite(
      item({ firstName: 'P' }, { remoteId: 'crm-p', known: { email: 'p@example.com' } }),
    );
    expect(plan).toMatchObject({
      ok: true,
      request: { method: 'PATCH', body: { contactKey: 'crm-p' } },
    });
    expect(setsOf((plan as { request: { body: unknown } }).request.body)).toEqual({
      'Email Addresses': { 'Email Address': 'p@example.com' },
      'Email Demographics': { 'First Name': 'P' },
    });
    const nothing = adapter.planWrite(item({ birthdate: '1990-01-01' }, { remoteId: 'crm-p' }));
    expect(nothing).toMatchObject({
      ok: false,
      error: { code: 'MISSING_REQUIRED_FIELD' },
      droppedFields: ['birthdate'],
    });
    const [r] = await adapter.updateMany(
      [item({ birthdate: '1990-01-01' }, { remoteId: 'crm-p' })],
      ctx(),
    );
    expect(r).toMatchObject({ status: 'SKIPPED', attempts: 0, droppedFields: ['birthdate'] });
    expect(requests()).toHaveLength(0);
  });

  it('capabilities: no bulk route, reads by email only', () => {
    expect(adapter.capabilities).toEqual({
      maxBatchSize: 1000,
      acceptedFields: ['externalId', 'email', 'phone', 'firstName', 'lastName', 'emailFormat'],
      clearableFields: ['firstName', 'lastName'],
      readKeys: ['email'],
      readableFields: ['email', 'externalId'],
      readsByRemoteId: false,
      // One contact per write request; `searchBatchSize` emails per search (the call budget).
      writeBatchSize: 1,
      readBatchSize: 50,
    });
    expect(adapter.baseUrl).toBe(sandbox.url);
  });
});
