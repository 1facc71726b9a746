import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ProviderId } from '../../../../src/model/contact.js';
import type { RecordedRequest } from '../../../../src/sandbox/shared/types.js';

import { SANDBOX_CREDENTIALS } from '../../../../src/sandbox-mode.js';
import { createTestGateway, neverAnswers, type TestGateway } from '../../../helpers/gateway.js';
import {
  type OutcomeView,
  readMany,
  readOne,
  writeOperations,
  writePayload,
} from '../../../helpers/operations.js';
import { contactBody } from '../../../helpers/salesforce-mc.js';

const { UPSERT, UPSERT_MANY } = writeOperations(
  writePayload('id email externalId firstName lastName records { provider remoteId }'),
);
const READ = readOne(`id email externalId firstName lastName records { provider remoteId }
  readErrors { provider error { code httpStatus } }`);
const READ_MANY = readMany('email firstName records { provider remoteId } readErrors { provider }');

const CONTACTS = '/contacts/v1/contacts';
const SEARCH = '/contacts/v1/addresses/email/search';
const TOKEN = '/v2/token';
const SECRET = SANDBOX_CREDENTIALS.salesforceMc.clientSecret;

type Outcome = Omit<OutcomeView, 'durationMs'>;
interface Payload {
  contact: {
    id: string;
    email: string | null;
    firstName: string | null;
    records: Array<{ provider: string; remoteId: string }>;
  };
  outcomes: Outcome[];
  errors: Array<{ field: string; code: string }>;
}
interface Batch {
  items: Payload[];
  summary: { total: number; succeeded: number; failed: number; upstreamRequests: number };
}

const SF = { providers: ['SALESFORCE_MC'] };
const gateways: TestGateway[] = [];
let t: TestGateway;

async function gateway(
  env: Record<string, string>,
  only: readonly ProviderId[] = ['SALESFORCE_MC'],
) {
  // Neither undici's pool (the in-flight limit's size), the policy's bulkhead (16 in flight) nor its rate
  // limit (50/s) may bound what these tests measure: SFMC_CONCURRENCY and the token cache. Retry
  // backoff is short so a retried call costs milliseconds. No outbox: these tests pin how each
  // answer is reported (test/integration/outbox.test.ts covers QUEUED). One request per write:
  // the key look-up before a create (SFMC_KEY_LOOKUP) is pinned in salesforce-mc-rules.test.ts.
  const g = await createTestGateway(
    {
      GATEWAY_OUTBOX: 'off',
      SFMC_KEY_LOOKUP: 'off',
      HTTP_CONNECTIONS: '64',
      SFMC_MAX_IN_FLIGHT: '64',
      SFMC_RATE_PER_SECOND: '0',
      RETRY_BASE_DELAY_MS: '5',
      ...env,
    },
    { only },
  );
  gateways.push(g);
  return g;
}
async function gql<T>(g: TestGateway, query: string, variables: Record<string, unknown>) {
  const res = await g.gql<T>(query, variables);
  record(res);
  expect(res.errors).toBeUndefined();
  return res.data;
}
async function upsert(input: Record<string, unknown>, options: Record<string, unknown> = SF) {
  return (await gql<{ upsertContact: Payload }>(t, UPSERT, { input, options })).upsertContact;
}
async function upsertMany(
  g: TestGateway,
  inputs: Array<Record<string, unknown>>,
  options: Record<string, unknown> = SF,
) {
  return (await gql<{ upsertContacts: Batch }>(g, UPSERT_MANY, { inputs, options })).upsertContacts;
}

function requests(g: TestGateway, method?: string, path?: string): RecordedRequest[] {
  return g.salesforceMc.controls.requests.filter(
    (r) => (method === undefined || r.method === method) && (path === undefined || r.path === path),
  );
}
const bearer = (r: RecordedRequest) => r.headers['authorization'];

/**
 * Most requests the sandbox held at once. With a fixed latency every request is held for
 * [at, at + latency) before it is answered, and a client slot frees only after the answer, so
 * overlapping windows are requests in flight together. The window is shortened by 2 ms against
 * timer and clock rounding (a slot freed after `latency` ms and refilled at once must not count twice).
 */
function maxInFlight(list: readonly RecordedRequest[], latencyMs: number): number {
  const events = list.flatMap((r) => [
    { at: r.at, d: 1 },
    { at: r.at + latencyMs - 2, d: -1 },
  ]);
  events.sort((a, b) => a.at - b.at || a.d - b.d);
  let now = 0;
  let max = 0;
  for (const e of events) {
    now += e.d;
    max = Math.max(max, now);
  }
  return max;
}

/** attributeSets of a recorded body → { set: { attribute: value } }, asserting one item per set. */
function setsOf(body: unknown): Record<string, Record<string, unknown>> {
  const sets = (
    body as {
      attributeSets: Array<{
        name: string;
        items: Array<{ values: Array<{ name: string; value: unknown }> }>;
      }>;
    }
  ).attributeSets;
  return Object.fromEntries(
    sets.map((s) => {
      expect(s.items).toHaveLength(1);
      return [s.name, Object.fromEntries(s.items[0]!.values.map((v) => [v.name, v.value]))];
    }),
  );
}

beforeAll(async () => {
  t = await gateway({ SFMC_CONCURRENCY: '5' });
});
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
});
/** Every GraphQL response of the file, checked for the client secret (before the close above). */
const record = neverAnswers(SECRET);
beforeEach(() => {
  t.salesforceMc.controls.reset();
  t.salesforceMc.setThrottle(null);
  t.salesforceMc.setTokenTtlSeconds(1080);
});

describe('upsertContact → Salesforce MC sandbox', () => {
  it('creates with a POST of the documented attribute sets, keyed by the external id', async () => {
    const res = await upsert({
      externalId: 'crm-ada',
      email: 'ada@example.com',
      firstName: 'Ada',
      lastName: 'Lovelace',
    });
    expect(res.errors).toEqual([]);
    expect(res.outcomes).toEqual([
      expect.objectContaining({
        provider: 'SALESFORCE_MC',
        status: 'CREATED',
        remoteId: 'crm-ada',
        droppedFields: [],
        attempts: 1,
        error: null,
      }),
    ]);
    expect(res.outcomes[0]!.details).toMatchObject({
      method: 'POST',
      contactId: expect.stringMatching(/^\d+$/),
    });
    expect(res.contact.records).toEqual([{ provider: 'SALESFORCE_MC', remoteId: 'crm-ada' }]);

    const posts = requests(t, 'POST', CONTACTS);
    expect(posts).toHaveLength(1);
    const post = posts[0]!;
    expect(bearer(post)).toMatch(/^Bearer sfmc-sandbox\.[\w-]+$/);
    expect(post.headers['content-type']).toMatch(/^application\/json/);
    // SF-1: attributeSets[].items[].values[] with name/value pairs; Email Addresses carries the
    // address and the required HTML Enabled, names go to Email Demographics.
    expect(post.body).toEqual(
      contactBody('crm-ada', {
        'Email Addresses': { 'Email Address': 'ada@example.com', 'HTML Enabled': true },
        'Email Demographics': { 'First Name': 'Ada', 'Last Name': 'Lovelace' },
      }),
    );
    // What SFMC now holds under that key.
    const stored = t.salesforceMc.store.get('crm-ada');
    expect(stored).toBeDefined();
    expect(String(stored!.contactId)).toBe(res.outcomes[0]!.details!['contactId']);
  });

  it('keys a contact without an external id by its email', async () => {
    const res = await upsert({ email: 'keyed.by.email@example.com', firstName: 'Em' });
    expect(res.outcomes[0]).toMatchObject({
      status: 'CREATED',
      remoteId: 'keyed.by.email@example.com',
    });
    expect(requests(t, 'POST', CONTACTS)[0]!.body).toMatchObject({
      contactKey: 'keyed.by.email@example.com',
    });
    expect(t.salesforceMc.store.get('keyed.by.email@example.com')).toBeDefined();
  });

  it('updates a linked contact with a PATCH by its contact key, sending only what changed', async () => {
    const first = await upsert({ externalId: 'crm-upd', email: 'upd@example.com', firstName: 'A' });
    expect(first.outcomes[0]!.status).toBe('CREATED');
    t.salesforceMc.controls.reset();

    const second = await upsert({ email: 'upd@example.com', lastName: 'Updated' });
    expect(second.contact.id).toBe(first.contact.id);
    expect(second.outcomes[0]).toMatchObject({
      status: 'UPDATED',
      remoteId: 'crm-upd',
      attempts: 1,
      error: null,
      details: { method: 'PATCH', contactId: first.outcomes[0]!.details!['contactId'] },
    });
    const sent = requests(t).filter((r) => r.path === CONTACTS);
    expect(sent.map((r) => r.method)).toEqual(['PATCH']);
    const body = sent[0]!.body as { contactKey: string };
    expect(body.contactKey).toBe('crm-upd');
    // Only what the patch carries: no First Name, and no HTML Enabled that would overwrite the
    // stored channel preference (the address itself is re-sent, unchanged).
    expect(setsOf(body)).toEqual({
      'Email Addresses': { 'Email Address': 'upd@example.com' },
      'Email Demographics': { 'Last Name': 'Updated' },
    });
    // Merged at SFMC: the first name from the create is still there.
    const stored = t.salesforceMc.store.get('crm-upd')!;
    expect(stored.attributeSets['Email Demographics']).toMatchObject({
      'First Name': 'A',
      'Last Name': 'Updated',
    });
  });

  it('reads back after a write: the SFMC record by email search, names from the identity view', async () => {
    await upsert({ externalId: 'crm-read', email: 'Read.Back@example.com', firstName: 'Reed' });
    t.salesforceMc.controls.reset();
    const data = await gql<{ contact: Record<string, unknown> }>(t, READ, {
      email: 'read.back@example.com',
    });
    expect(data.contact).toMatchObject({
      email: 'read.back@example.com',
      externalId: 'crm-read',
      firstName: 'Reed',
      records: [{ provider: 'SALESFORCE_MC', remoteId: 'crm-read' }],
      readErrors: [],
    });
    const searches = requests(t, 'POST', SEARCH);
    expect(searches).toHaveLength(1);
    expect(searches[0]!.body).toMatchObject({ channelAddressList: ['read.back@example.com'] });
    expect(requests(t).filter((r) => r.path !== SEARCH && r.path !== TOKEN)).toEqual([]);
  });
});

describe('OAuth token: cached, refreshed single-flight', () => {
  it('fetches one token for 50 concurrent writes and sends it on every one', async () => {
    // SFMC_CONCURRENCY=50: the adapter starts all 50 at once, and the token answer is held 100 ms,
    // so every write asks for a token while the first request for one is still out.
    const g = await gateway({ SFMC_CONCURRENCY: '50' });
    g.salesforceMc.controls.inject({
      method: 'POST',
      path: TOKEN,
      faults: [{ kind: 'delay', ms: 100 }],
    });
    const inputs = Array.from({ length: 50 }, (_, i) => ({
      email: `tok${i}@example.com`,
      firstName: `T${i}`,
    }));
    const { items, summary } = await upsertMany(g, inputs);
    expect(summary).toEqual({ total: 50, succeeded: 50, failed: 0, upstreamRequests: 51 });
    expect(items.map((i) => i.outcomes[0]!.status)).toEqual(Array(50).fill('CREATED'));
    expect(items.every((i) => i.outcomes[0]!.attempts === 1)).toBe(true);

    const tokens = requests(g, 'POST', TOKEN);
    expect(tokens).toHaveLength(1);
    expect(g.salesforceMc.tokensIssued).toBe(1);
    // SF-7 client-credentials body; the secret goes to the auth host and nowhere else.
    expect(tokens[0]!.body).toEqual({
      grant_type: 'client_credentials',
      client_id: SANDBOX_CREDENTIALS.salesforceMc.clientId,
      client_secret: SECRET,
    });
    const posts = requests(g, 'POST', CONTACTS);
    expect(posts).toHaveLength(50);
    expect(new Set(posts.map(bearer)).size).toBe(1);
    // All of them waited for that one token.
    expect(posts.every((r) => r.at >= tokens[0]!.at + 100 - 2)).toBe(true);
    expect(posts.some((r) => r.rawBody.includes(SECRET) || bearer(r)!.includes(SECRET))).toBe(
      false,
    );
  });

  it('refreshes once after a 401 and resends: the write succeeds with attempts 2', async () => {
    const first = await upsert({ email: 'expiry@example.com', firstName: 'Before' });
    expect(first.outcomes[0]!.status).toBe('CREATED');
    const issued = t.salesforceMc.tokensIssued;
    t.salesforceMc.expireTokens();
    t.salesforceMc.controls.reset();

    const second = await upsert({ email: 'expiry@example.com', firstName: 'After' });
    expect(second.outcomes[0]).toMatchObject({ status: 'UPDATED', attempts: 2, error: null });
    expect(t.salesforceMc.tokensIssued).toBe(issued + 1);
    const wire = requests(t);
    expect(wire.map((r) => `${r.method} ${r.path}`)).toEqual([
      `PATCH ${CONTACTS}`,
      `POST ${TOKEN}`,
      `PATCH ${CONTACTS}`,
    ]);
    expect(bearer(wire[2]!)).not.toBe(bearer(wire[0]!));
    expect(wire[2]!.body).toEqual(wire[0]!.body);
    expect(
      t.salesforceMc.store.get('expiry@example.com')!.attributeSets['Email Demographics'],
    ).toMatchObject({ 'First Name': 'After' });
  });

  it('fifty writes meeting an expired token share one refresh', async () => {
    await upsert({ email: 'prime@example.com' }); // a cached token to expire
    const issued = t.salesforceMc.tokensIssued;
    t.salesforceMc.expireTokens();
    t.salesforceMc.controls.reset();
    const inputs = Array.from({ length: 50 }, (_, i) => ({ email: `stale${i}@example.com` }));
    const { items, summary } = await upsertMany(t, inputs);
    expect(summary).toMatchObject({ total: 50, succeeded: 50, failed: 0 });
    expect(t.salesforceMc.tokensIssued).toBe(issued + 1);
    expect(requests(t, 'POST', TOKEN)).toHaveLength(1);

    const posts = requests(t, 'POST', CONTACTS);
    const staleToken = bearer(posts[0]!);
    const stale = posts.filter((r) => bearer(r) === staleToken);
    // The SFMC_CONCURRENCY=5 requests already out with the old token got a 401 each; all of them
    // and every later request use the one new token.
    expect(stale).toHaveLength(5);
    expect(new Set(posts.filter((r) => bearer(r) !== staleToken).map(bearer)).size).toBe(1);
    expect(posts).toHaveLength(50 + stale.length);
    const attempts = items.map((i) => i.outcomes[0]!.attempts);
    expect(attempts.filter((a) => a === 2)).toHaveLength(stale.length);
    expect(attempts.reduce((a, b) => a + b, 0)).toBe(posts.length);
    expect(summary.upstreamRequests).toBe(requests(t).length);
  });

  it('renews a short-lived token before it runs out, without a 401', async () => {
    t.salesforceMc.setTokenTtlSeconds(1);
    t.salesforceMc.expireTokens();
    // 401 → refresh → a token with expires_in 1.
    const first = await upsert({ email: 'ttl@example.com', firstName: 'One' });
    expect(first.outcomes[0]).toMatchObject({ status: 'CREATED', attempts: 2 });
    const issued = t.salesforceMc.tokensIssued;
    t.salesforceMc.controls.reset();
    // The adapter renews at max(expires_in / 2, expires_in − skew) = 0.5 s; the sandbox would
    // refuse the token at 1 s.
    await sleep(550);
    const second = await upsert({ email: 'ttl@example.com', firstName: 'Two' });
    expect(second.outcomes[0]).toMatchObject({ status: 'UPDATED', attempts: 1, error: null });
    expect(t.salesforceMc.tokensIssued).toBe(issued + 1);
    expect(requests(t).map((r) => `${r.method} ${r.path}`)).toEqual([
      `POST ${TOKEN}`,
      `PATCH ${CONTACTS}`,
    ]);
  });
});

describe('upsertContacts → one request per contact, SFMC_CONCURRENCY at a time', () => {
  it('writes 200 contacts with at most 5 requests in flight', async () => {
    const latency = 10;
    const before = t.salesforceMc.store.size;
    t.salesforceMc.controls.setLatency(latency);
    const inputs = Array.from({ length: 200 }, (_, i) => ({
      externalId: `bulk-${i}`,
      email: `bulk${i}@example.com`,
      firstName: `B${i}`,
    }));
    const { items, summary } = await upsertMany(t, inputs);
    expect(summary).toMatchObject({ total: 200, succeeded: 200, failed: 0 });
    items.forEach((item, i) => {
      expect(item.outcomes[0]).toMatchObject({
        provider: 'SALESFORCE_MC',
        status: 'CREATED',
        remoteId: `bulk-${i}`,
        attempts: 1,
      });
    });

    const posts = requests(t, 'POST', CONTACTS);
    expect(posts).toHaveLength(200);
    expect(new Set(posts.map((r) => (r.body as { contactKey: string }).contactKey)).size).toBe(200);
    expect(requests(t).filter((r) => r.path !== CONTACTS && r.path !== TOKEN)).toEqual([]);
    // Every REST call plus the token call when the cached one was renewed, as counted upstream.
    expect(summary.upstreamRequests).toBe(requests(t).length);
    expect(summary.upstreamRequests - requests(t, 'POST', TOKEN).length).toBe(200);
    expect(t.salesforceMc.store.size).toBe(before + 200);

    const inFlight = maxInFlight(posts, latency);
    expect(inFlight).toBeLessThanOrEqual(5);
    expect(inFlight).toBeGreaterThanOrEqual(2);
  });
});

describe('contacts(emails) → batched email searches', () => {
  it('reads 120 emails in one query with ⌈120 / SFMC_SEARCH_BATCH_SIZE 50⌉ = 3 searches', async () => {
    // Its own gateway so the 119 contacts are written quickly (32 at a time).
    const g = await gateway({ SFMC_CONCURRENCY: '32', SFMC_SEARCH_BATCH_SIZE: '50' });
    const known = Array.from({ length: 119 }, (_, i) => `many${i}@example.com`);
    const created = await upsertMany(
      g,
      known.map((email, i) => ({ email, firstName: `M${i}` })),
    );
    expect(created.summary.succeeded).toBe(119);
    g.salesforceMc.controls.reset();

    const emails = [...known, 'nobody@example.com'];
    const data = await gql<{ contacts: Array<Record<string, unknown> | null> }>(g, READ_MANY, {
      emails,
    });
    const searches = requests(g, 'POST', SEARCH);
    expect(searches).toHaveLength(3);
    const lists = searches.map(
      (r) => (r.body as { channelAddressList: string[] }).channelAddressList,
    );
    expect(lists.map((l) => l.length).sort((a, b) => a - b)).toEqual([20, 50, 50]);
    expect(lists.flat().sort()).toEqual([...emails].sort());
    expect(requests(g).filter((r) => r.path !== SEARCH && r.path !== TOKEN)).toEqual([]);

    expect(data.contacts).toHaveLength(120);
    known.forEach((email, i) => {
      expect(data.contacts[i]).toEqual({
        email,
        firstName: `M${i}`,
        records: [{ provider: 'SALESFORCE_MC', remoteId: email }],
        readErrors: [],
      });
    });
    expect(data.contacts[119]).toBeNull();
  });
});

describe('Salesforce MC errors as outcomes', () => {
  it('surfaces a 429 throttle as FAILED, retryable, with Retry-After in error.details', async () => {
    t.salesforceMc.setThrottle({ limit: 1, windowMs: 60_000 });
    const ok = await upsert({ email: 'throttle1@example.com' });
    expect(ok.outcomes[0]!.status).toBe('CREATED');
    // Not retried: the asked wait (60 s) ends after the call's deadline (CALL_DEADLINE_MS, 30 s).
    const res = await upsert({ email: 'throttle2@example.com' });
    expect(res.outcomes[0]).toMatchObject({
      status: 'FAILED',
      remoteId: null,
      attempts: 1,
      error: { code: '50100', httpStatus: 429, retryable: true },
    });
    const details = res.outcomes[0]!.error!.details!;
    expect(details['errorcode']).toBe(50100);
    // The sandbox answered Retry-After: 60 (seconds left in its window).
    expect(details['retryAfterMs']).toBeGreaterThanOrEqual(59_000);
    expect(details['retryAfterMs']).toBeLessThanOrEqual(60_000);
    expect(res.contact.records).toEqual([]);
    expect(t.salesforceMc.store.get('throttle2@example.com')).toBeUndefined();
  });

  it('retries a 503 under the gateway policy and reports both attempts', async () => {
    t.salesforceMc.controls.inject({
      method: 'POST',
      path: CONTACTS,
      faults: [{ kind: 'status', status: 503, body: { message: 'Service Unavailable' } }],
    });
    const res = await upsert({ email: 'retried@example.com', firstName: 'R' });
    expect(res.outcomes[0]).toMatchObject({
      status: 'CREATED',
      remoteId: 'retried@example.com',
      attempts: 2,
      error: null,
    });
    const posts = requests(t, 'POST', CONTACTS);
    expect(posts).toHaveLength(2);
    expect(posts[1]!.body).toEqual(posts[0]!.body);
  });

  it('reports HTTP 200 with hasErrors as FAILED with the result messages', async () => {
    t.salesforceMc.controls.inject({
      method: 'POST',
      path: CONTACTS,
      faults: [
        {
          kind: 'status',
          status: 200,
          body: {
            operationStatus: 'Fail',
            rowsAffetcted: 0,
            contactKey: 'haserrors@example.com',
            hasErrors: true,
            resultMessages: [
              {
                resultType: 'Contacts',
                resultCode: 'InvalidAttributeValue',
                resultClass: 'Error',
                message: "Value 'xx' is not valid for attribute 'Locale'.",
              },
            ],
          },
        },
      ],
    });
    const res = await upsert({ email: 'haserrors@example.com', firstName: 'H' });
    expect(res.outcomes[0]).toMatchObject({
      status: 'FAILED',
      remoteId: null,
      attempts: 1,
      error: { code: 'InvalidAttributeValue', httpStatus: 200, retryable: false },
    });
    const error = res.outcomes[0]!.error!;
    expect(error.message).toContain("Value 'xx' is not valid for attribute 'Locale'.");
    expect(error.details).toEqual({
      resultMessages: ["InvalidAttributeValue: Value 'xx' is not valid for attribute 'Locale'."],
    });
    expect(res.contact.records).toEqual([]);
    // Not retried and not turned into a PATCH: one request.
    expect(requests(t).filter((r) => r.path === CONTACTS)).toHaveLength(1);
  });

  it('re-creates with a POST when the PATCH of a linked contact finds no contact at SFMC', async () => {
    const first = await upsert({ externalId: 'crm-gone', email: 'gone@example.com' });
    expect(first.outcomes[0]!.status).toBe('CREATED');
    t.salesforceMc.store.deleteKeys(['crm-gone']); // deleted in Contact Builder meanwhile
    t.salesforceMc.controls.reset();

    const res = await upsert({ email: 'gone@example.com', firstName: 'Back' });
    expect(res.outcomes[0]).toMatchObject({
      status: 'CREATED',
      remoteId: 'crm-gone',
      attempts: 2,
      error: null,
      details: { method: 'POST' },
    });
    const sent = requests(t).filter((r) => r.path === CONTACTS);
    expect(sent.map((r) => r.method)).toEqual(['PATCH', 'POST']);
    // The POST carries the create body: the required HTML Enabled is back.
    expect(setsOf(sent[1]!.body)['Email Addresses']).toEqual({
      'Email Address': 'gone@example.com',
      'HTML Enabled': true,
    });
    expect(t.salesforceMc.store.get('crm-gone')).toBeDefined();
  });

  it('scrubs the client secret from an upstream error that echoes it', async () => {
    t.salesforceMc.expireTokens();
    t.salesforceMc.controls.inject({
      method: 'POST',
      path: TOKEN,
      faults: [
        {
          kind: 'status',
          status: 401,
          body: { error: 'invalid_client', error_description: `Invalid client secret ${SECRET}.` },
        },
      ],
    });
    const res = await upsert({ email: 'echo@example.com' });
    expect(res.outcomes[0]).toMatchObject({
      status: 'FAILED',
      error: { httpStatus: 401, retryable: false },
    });
    expect(res.outcomes[0]!.error!.message).toContain('invalid_client');
    expect(res.outcomes[0]!.error!.message).toContain('[redacted]');
    expect(JSON.stringify(res)).not.toContain(SECRET);
    // The failed refresh is not cached: the next write gets a token and goes through.
    const next = await upsert({ email: 'echo@example.com' });
    expect(next.outcomes[0]).toMatchObject({ status: 'CREATED', attempts: 1 });
  });

  it('shows a dry run the exact request with the bearer token redacted, sending nothing', async () => {
    const res = await upsert(
      { externalId: 'crm-dry', email: 'dry@example.com', firstName: 'Dry' },
      { ...SF, dryRun: true },
    );
    expect(res.outcomes[0]).toMatchObject({ status: 'DRY_RUN' });
    expect(res.outcomes[0]!.request).toMatchObject({
      method: 'POST',
      url: `${t.salesforceMc.url}${CONTACTS}`,
      headers: { authorization: 'Bearer [redacted]' },
      body: { contactKey: 'crm-dry' },
    });
    expect(requests(t).filter((r) => r.path === CONTACTS)).toEqual([]);
    expect(t.salesforceMc.store.get('crm-dry')).toBeUndefined();
  });
});

describe('Salesforce MC beside Notifuse', () => {
  it('a refused SFMC write fails alone, and a later read merges both records', async () => {
    const g = await gateway({}, ['NOTIFUSE', 'SALESFORCE_MC']);
    const both = { providers: ['NOTIFUSE', 'SALESFORCE_MC'] };
    g.salesforceMc.controls.inject({
      method: 'POST',
      path: CONTACTS,
      faults: [
        {
          kind: 'status',
          status: 403,
          body: { message: 'Insufficient privileges', errorcode: 20002 },
        },
      ],
    });
    const input = { email: 'pair@example.com', firstName: 'Pair' };
    const first = (await gql<{ upsertContact: Payload }>(g, UPSERT, { input, options: both }))
      .upsertContact;
    const byProvider = Object.fromEntries(first.outcomes.map((o) => [o.provider, o]));
    expect(byProvider['NOTIFUSE']).toMatchObject({ status: 'CREATED' });
    expect(byProvider['SALESFORCE_MC']).toMatchObject({
      status: 'FAILED',
      attempts: 1,
      error: { code: '20002', httpStatus: 403, retryable: false },
    });
    expect(first.contact.records).toEqual([{ provider: 'NOTIFUSE', remoteId: expect.any(String) }]);

    const second = (await gql<{ upsertContact: Payload }>(g, UPSERT, { input, options: both }))
      .upsertContact;
    expect(second.outcomes.map((o) => [o.provider, o.status]).sort()).toEqual([
      ['NOTIFUSE', 'UPDATED'],
      ['SALESFORCE_MC', 'CREATED'],
    ]);
    const read = await gql<{ contact: Payload['contact'] }>(g, READ, { email: 'pair@example.com' });
    expect(read.contact.firstName).toBe('Pair');
    expect(read.contact.records.map((r) => [r.provider, r.remoteId]).sort()).toEqual([
      ['NOTIFUSE', expect.any(String)],
      ['SALESFORCE_MC', 'pair@example.com'],
    ]);
  });
});
