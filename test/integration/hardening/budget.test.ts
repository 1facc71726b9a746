import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { bearer, FULL_KEY, KEYS_ENV, READ_KEY, upstreamRequests } from './keys.js';

const emails = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix}-${i}@example.com`);
const inputs = (prefix: string, n: number) => emails(prefix, n).map((email) => ({ email }));

async function post(
  t: TestGateway,
  query: string,
  variables: Record<string, unknown>,
  key: string,
) {
  const res = await t.gateway.yoga.fetch('http://gateway/graphql', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      ...bearer(key),
    },
    body: JSON.stringify({ query, variables }),
  });
  return {
    status: res.status,
    body: (await res.json()) as {
      data?: unknown;
      errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
    },
  };
}

/**
 * MAX_BATCH_INPUTS counts every input of the operation, whatever aliases, fragments and fields
 * carry them. Refused before anything runs: no provider called, nothing stored.
 */
describe('MAX_BATCH_INPUTS per operation (production, keys set)', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await createTestGateway(
      { ...KEYS_ENV, NODE_ENV: 'production', MAX_BATCH_INPUTS: '3' },
      { only: ['NOTIFUSE'] },
    );
  }, 60_000);
  afterAll(async () => {
    await t.close();
  });

  async function refused(query: string, variables: Record<string, unknown>, key = FULL_KEY) {
    const before = upstreamRequests(t);
    const res = await post(t, query, variables, key);
    expect(res.status).toBe(400);
    expect(res.body.data).toBeUndefined();
    expect(upstreamRequests(t)).toBe(before);
    return res.body.errors!;
  }

  it('aliases multiplying batches: u0 + u1 with 2 inputs each is 4 > 3', async () => {
    const errors = await refused(
      `mutation($a: [ContactInput!]!, $b: [ContactInput!]!) {
        u0: upsertContacts(inputs: $a) { summary { total } }
        u1: upsertContacts(inputs: $b) { summary { total } } }`,
      { a: inputs('alias-a', 2), b: inputs('alias-b', 2) },
    );
    expect(errors).toEqual([
      {
        message:
          'An operation takes at most 3 inputs in all (got 4 over 2 fields: upsertContacts); split the request.',
        locations: expect.any(Array),
        extensions: { code: 'TOO_MANY_ITEMS', limit: 3 },
      },
    ]);
    expect(await t.gateway.store.find({ email: 'alias-a-0@example.com' })).toBeNull();

    // Within the limit across both fields, the operation runs.
    const res = await post(
      t,
      `mutation($a: [ContactInput!]!, $b: [ContactInput!]!) {
        u0: upsertContacts(inputs: $a) { summary { total succeeded } }
        u1: upsertContacts(inputs: $b) { summary { total succeeded } } }`,
      { a: inputs('ok-a', 2), b: inputs('ok-b', 1) },
      FULL_KEY,
    );
    expect(res).toEqual({
      status: 200,
      body: {
        data: {
          u0: { summary: { total: 2, succeeded: 2 } },
          u1: { summary: { total: 1, succeeded: 1 } },
        },
      },
    });
  });

  it('fragments, inline fragments and single writes count too', async () => {
    const errors = await refused(
      `fragment F on Mutation { f: upsertContacts(inputs: $a) { summary { total } } }
       mutation($a: [ContactInput!]!) {
         ...F
         ... on Mutation { g: upsertContact(input: { email: "frag-g@example.com" }) { contact { id } } }
         h: updateContact(id: "x", patch: { firstName: "H" }) { contact { id } } }`,
      { a: inputs('frag', 2) },
    );
    expect(errors[0]).toMatchObject({
      message:
        'An operation takes at most 3 inputs in all (got 4 over 3 fields: upsertContacts, upsertContact, updateContact); split the request.',
      extensions: { code: 'TOO_MANY_ITEMS' },
    });
    expect(await t.gateway.store.find({ email: 'frag-g@example.com' })).toBeNull();
  });

  it('aliased reads add up as well', async () => {
    const errors = await refused(
      'query($a: [String!], $b: [String!]) { r0: contacts(emails: $a) { id } r1: contacts(emails: $b) { id } }',
      { a: emails('r0', 2), b: emails('r1', 2) },
      READ_KEY,
    );
    expect(errors[0]?.extensions).toEqual({ code: 'TOO_MANY_ITEMS', limit: 3 });
  });
});

/**
 * GATEWAY_MAX_UPSTREAM_CALLS: what can be computed is refused up front (nothing sent); the
 * per-request counter stops the rest.
 */
describe('GATEWAY_MAX_UPSTREAM_CALLS (production, keys set, all four providers)', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await createTestGateway({
      ...KEYS_ENV,
      NODE_ENV: 'production',
      // The providers' own paces would make the 300-email read take 30 s; the budget is about calls.
      DOTDIGITAL_RATE_PER_SECOND: '0',
      SFMC_RATE_PER_SECOND: '0',
      DIGITAL_ONBOARDING_RATE_PER_SECOND: '0',
    });
  }, 60_000);
  afterAll(async () => {
    await t.close();
  });

  const READ = 'query($e: [String!]) { contacts(emails: $e) { id readErrors { provider } } }';
  const UPSERT_MANY = `mutation($i: [ContactInput!]!, $o: WriteOptions) {
    upsertContacts(inputs: $i, options: $o) { summary { total succeeded upstreamRequests } } }`;

  it('a 700-email read needs ≥ 2,114 calls (3 providers read one email per call, SFMC 50 per search): refused, nothing sent', async () => {
    const before = upstreamRequests(t);
    const res = await post(t, READ, { e: emails('read700', 700) }, READ_KEY);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      errors: [
        {
          message:
            'This operation needs at least 2114 provider calls; one request may cause at most 2000 (GATEWAY_MAX_UPSTREAM_CALLS). Split the request or target fewer providers.',
          locations: expect.any(Array),
          extensions: { code: 'TOO_MANY_UPSTREAM_CALLS', limit: 2000, needed: 2114 },
        },
      ],
    });
    expect(upstreamRequests(t)).toBe(before);

    // The 300-email read (907 calls) stays within the default budget and runs.
    const start = upstreamRequests(t);
    const small = await post(t, READ, { e: emails('read300', 300) }, READ_KEY);
    expect(small.status).toBe(200);
    expect(small.body.errors).toBeUndefined();
    const made = upstreamRequests(t) - start;
    expect(made).toBeGreaterThanOrEqual(906);
    expect(made).toBeLessThanOrEqual(2000);
  }, 60_000);

  it('a write of 2,000 contacts (Salesforce MC: one call each) is refused up front; its dry run calls nobody and runs', async () => {
    const before = upstreamRequests(t);
    const all = await post(t, UPSERT_MANY, { i: inputs('w2000', 2000) }, FULL_KEY);
    expect(all.status).toBe(400);
    expect(all.body.errors?.[0]?.extensions).toEqual({
      code: 'TOO_MANY_UPSTREAM_CALLS',
      limit: 2000,
      // SFMC 2,000 + Notifuse 4 (500 each) + Dotdigital 2 (1,000) + Digital Onboarding 20 (100).
      needed: 2026,
    });
    expect(upstreamRequests(t)).toBe(before);
    expect(await t.gateway.store.find({ email: 'w2000-0@example.com' })).toBeNull();

    const dry = await post(
      t,
      UPSERT_MANY,
      { i: inputs('w2000', 2000), o: { dryRun: true } },
      FULL_KEY,
    );
    expect(dry.body.errors).toBeUndefined();
    expect(upstreamRequests(t)).toBe(before);
  });
});

describe('the per-request counter stops what could not be computed up front', () => {
  it('Salesforce MC: the token call counts, so the third of three writes is not sent', async () => {
    const t = await createTestGateway(
      // The token, then per new key its look-up (contact key search) and its POST: 1 + 2 + 2.
      { GATEWAY_MAX_UPSTREAM_CALLS: '5', SFMC_CONCURRENCY: '1' },
      { only: ['SALESFORCE_MC'] },
    );
    try {
      const before = upstreamRequests(t);
      const res = await t.gql<{
        upsertContacts: {
          items: Array<{
            outcomes: Array<{ status: string; error: Record<string, unknown> | null }>;
          }>;
          summary: { upstreamRequests: number };
        };
      }>(
        `mutation($i: [ContactInput!]!) { upsertContacts(inputs: $i) {
          items { outcomes { status error { code retryable } } } summary { upstreamRequests } } }`,
        { i: inputs('sfmc-budget', 3) },
      );
      expect(res.errors).toBeUndefined();
      const statuses = res.data.upsertContacts.items.map((i) => i.outcomes[0]!);
      expect(statuses.filter((o) => o.status === 'CREATED')).toHaveLength(2);
      expect(statuses.filter((o) => o.status === 'FAILED')).toEqual([
        { status: 'FAILED', error: { code: 'TOO_MANY_UPSTREAM_CALLS', retryable: false } },
      ]);
      expect(res.data.upsertContacts.summary.upstreamRequests).toBe(5);
      expect(upstreamRequests(t) - before).toBe(5);
      // Not retryable: nothing waits in the outbox.
      const pending = await t.gql<{ pendingWrites: unknown[] }>('{ pendingWrites { id } }');
      expect(pending.data.pendingWrites).toEqual([]);
    } finally {
      await t.close();
    }
  });
});
