import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { bearer, FULL_KEY, KEYS_ENV, READ_KEY, upstreamRequests } from './keys.js';

const PAYLOAD = `contact { id email firstName address { country } records { provider remoteId } }
  outcomes { provider status droppedFields error { code message retryable } }
  errors { field code message }`;

/**
 * Each limit refuses before anything executes: the answer names the limit with a code, no
 * provider is called and nothing is written, not even by an earlier field of the same operation.
 */
describe('operation limits', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await createTestGateway({
      MAX_BATCH_INPUTS: '3',
      GATEWAY_MAX_DEPTH: '4',
      GATEWAY_MAX_ALIASES: '3',
      GATEWAY_MAX_TOKENS: '300',
      GATEWAY_MAX_COST: '100',
      GATEWAY_MAX_BODY_BYTES: '4096',
    });
  });
  afterAll(async () => {
    await t.close();
  });

  async function refused(query: string, variables: Record<string, unknown> = {}) {
    const before = upstreamRequests(t);
    const res = await t.gql(query, variables);
    expect(upstreamRequests(t)).toBe(before);
    expect(res.data ?? null).toBeNull();
    expect(res.errors).toHaveLength(1);
    return res.errors![0]!;
  }

  async function known(email: string): Promise<boolean> {
    const res = await t.gql<{ contact: unknown }>(
      'query($e: String) { contact(email: $e) { id } }',
      {
        e: email,
      },
    );
    return res.data.contact !== null;
  }

  it('depth (GATEWAY_MAX_DEPTH)', async () => {
    const atLimit = await t.gql(
      '{ contact(email: "d@example.com") { readErrors { error { code } } } }',
    );
    expect(atLimit.errors).toBeUndefined();
    const error =
      await refused(`mutation { upsertContacts(inputs: [{ email: "deep@example.com" }]) {
      items { contact { readErrors { error { code } } } } } }`);
    expect(error).toMatchObject({
      message: 'Syntax Error: Query depth limit of 4 exceeded, found 6.',
      extensions: { code: 'MAX_DEPTH_EXCEEDED' },
    });
    expect(await known('deep@example.com')).toBe(false);
  });

  it('aliases (GATEWAY_MAX_ALIASES): aliased writes do not run one by one until a limit', async () => {
    const three = await t.gql(
      '{ a: providers { provider } b: providers { provider } c: providers { provider } }',
    );
    expect(three.errors).toBeUndefined();
    const mutation = `mutation { ${['a', 'b', 'c', 'd']
      .map(
        (a) => `${a}: upsertContact(input: { email: "alias-${a}@example.com" }) { contact { id } }`,
      )
      .join(' ')} }`;
    expect(await refused(mutation)).toMatchObject({
      message: 'Syntax Error: Aliases limit of 3 exceeded, found 4.',
      extensions: { code: 'MAX_ALIASES_EXCEEDED' },
    });
    expect(await known('alias-a@example.com')).toBe(false);
  });

  it('tokens (GATEWAY_MAX_TOKENS): inline batch data counts, variables do not', async () => {
    const inputs = Array.from({ length: 3 }, (_, i) => ({
      email: `tok-${i}@example.com`,
      firstName: 'Token',
      lastName: 'Counter',
      jobTitle: 'Tester',
      address: { city: 'Leeds', country: 'GB', postalCode: 'LS1 1AA' },
      customFields: Object.fromEntries(Array.from({ length: 25 }, (_, k) => [`field${k}`, k])),
    }));
    const literal = JSON.stringify(inputs).replace(/"(\w+)":/g, '$1:');
    const error = await refused(
      `mutation { upsertContacts(inputs: ${literal}) { summary { total } } }`,
    );
    expect(error).toMatchObject({
      message: 'Syntax Error: Token limit of 300 exceeded.',
      extensions: { code: 'MAX_TOKENS_EXCEEDED' },
    });
    expect(await known('tok-0@example.com')).toBe(false);
    const asVariables = await t.gql(
      'mutation($i: [ContactInput!]!) { upsertContacts(inputs: $i, options: { dryRun: true }) { summary { total } } }',
      { i: inputs },
    );
    expect(asVariables.data).toEqual({ upsertContacts: { summary: { total: 3 } } });
  });

  it('cost (GATEWAY_MAX_COST)', async () => {
    const one = await t.gql(
      `mutation { upsertContact(input: { email: "cost@example.com" }, options: { dryRun: true }) { ${PAYLOAD} } }`,
    );
    expect(one.errors).toBeUndefined();
    const error = await refused(
      `mutation { a: upsertContact(input: { email: "cost-a@example.com" }) { ${PAYLOAD} }
                  b: upsertContact(input: { email: "cost-b@example.com" }) { ${PAYLOAD} } }`,
    );
    expect(error).toMatchObject({
      message: expect.stringMatching(
        /^Syntax Error: Query Cost limit of 100 exceeded, found \d+(\.\d+)?\.$/,
      ),
      extensions: { code: 'MAX_COST_EXCEEDED' },
    });
    expect(await known('cost-a@example.com')).toBe(false);
  });

  it('upsertContacts list size (MAX_BATCH_INPUTS), as variables or inline, before any field runs', async () => {
    const four = Array.from({ length: 4 }, (_, i) => ({ email: `batch-${i}@example.com` }));
    const viaVariables = await refused(
      `mutation($inputs: [ContactInput!]!) {
         first: upsertContact(input: { email: "batch-first@example.com" }) { contact { id } }
         upsertContacts(inputs: $inputs) { summary { total } } }`,
      { inputs: four },
    );
    // Every input of the operation counts: the single upsertContact too.
    expect(viaVariables).toMatchObject({
      message:
        'An operation takes at most 3 inputs in all (got 5 over 2 fields: upsertContact, upsertContacts); split the request.',
      extensions: { code: 'TOO_MANY_ITEMS', limit: 3 },
    });
    expect(viaVariables).not.toHaveProperty('path');
    expect(await known('batch-first@example.com')).toBe(false);
    expect(await known('batch-0@example.com')).toBe(false);

    const inline = await refused(
      `mutation { upsertContacts(inputs: [${four.map((i) => `{ email: "${i.email}" }`).join(', ')}]) { summary { total } } }`,
    );
    expect(inline.extensions).toMatchObject({ code: 'TOO_MANY_ITEMS' });

    const three = await t.gql(
      'mutation($inputs: [ContactInput!]!) { upsertContacts(inputs: $inputs) { summary { total succeeded } } }',
      { inputs: four.slice(0, 3) },
    );
    expect(three.data).toEqual({ upsertContacts: { summary: { total: 3, succeeded: 3 } } });
  });

  it('the same limit applies to contacts(ids, emails) together', async () => {
    const error = await refused(
      'query($ids: [ID!], $emails: [String!]) { contacts(ids: $ids, emails: $emails) { id } }',
      { ids: ['a', 'b'], emails: ['c@example.com', 'd@example.com'] },
    );
    expect(error).toMatchObject({
      message: 'contacts takes at most 3 ids and emails (got 4); split the request.',
      extensions: { code: 'TOO_MANY_ITEMS' },
    });
  });

  // GraphQL over HTTP: a request error that prevents execution is a 4xx for a client accepting
  // application/graphql-response+json, and 200 for a legacy application/json client.
  const LIMITED: Array<[string, string, Record<string, unknown>]> = [
    [
      'MAX_DEPTH_EXCEEDED',
      'mutation { upsertContacts(inputs: [{ email: "deep@example.com" }]) { items { contact { readErrors { error { code } } } } } }',
      {},
    ],
    [
      'MAX_ALIASES_EXCEEDED',
      '{ a: providers { provider } b: providers { provider } c: providers { provider } d: providers { provider } }',
      {},
    ],
    [
      'MAX_TOKENS_EXCEEDED',
      `{ ${Array.from({ length: 80 }, () => 'providers { provider }').join(' ')} }`,
      {},
    ],
    [
      'MAX_COST_EXCEEDED',
      `mutation { a: upsertContact(input: { email: "c@example.com" }) { ${PAYLOAD} }
                  b: upsertContact(input: { email: "d@example.com" }) { ${PAYLOAD} } }`,
      {},
    ],
    [
      'TOO_MANY_ITEMS',
      'query($e: [String!]) { contacts(emails: $e) { id } }',
      { e: ['a@example.com', 'b@example.com', 'c@example.com', 'd@example.com'] },
    ],
  ];

  describe.each([
    ['application/graphql-response+json', 400],
    ['application/json', 200],
  ])('Accept: %s', (accept, status) => {
    it.each(LIMITED)(`%s → ${status}`, async (code, query, variables) => {
      const before = upstreamRequests(t);
      const res = await t.gateway.yoga.fetch('http://gateway/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept },
        body: JSON.stringify({ query, variables }),
      });
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toBe(`${accept}; charset=utf-8`);
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).not.toHaveProperty('data');
      expect(body).toMatchObject({ errors: [{ extensions: { code } }] });
      expect(JSON.stringify(body)).not.toContain('"http"');
      expect(upstreamRequests(t)).toBe(before);
    });
  });

  it('request body size (GATEWAY_MAX_BODY_BYTES): 413, with or without Content-Length', async () => {
    const big = JSON.stringify({
      query: 'mutation($i: ContactInput!) { upsertContact(input: $i) { contact { id } } }',
      variables: { i: { email: 'big@example.com', customFields: { blob: 'x'.repeat(5000) } } },
    });
    const before = upstreamRequests(t);
    const sized = await t.gateway.yoga.fetch('http://gateway/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: big,
    });
    expect(sized.status).toBe(413);
    expect(await sized.json()).toMatchObject({
      errors: [
        { message: 'Request body too large', extensions: { code: 'REQUEST_ENTITY_TOO_LARGE' } },
      ],
    });
    const bytes = new TextEncoder().encode(big);
    const streamed = await t.gateway.yoga.fetch('http://gateway/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new ReadableStream({
        start(controller) {
          for (let i = 0; i < bytes.length; i += 1000) {
            controller.enqueue(bytes.slice(i, i + 1000));
          }
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(upstreamRequests(t)).toBe(before);
    expect(await known('big@example.com')).toBe(false);
  });
});

describe('per-key rate limit (GATEWAY_RATE_LIMIT_PER_MINUTE)', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await createTestGateway({ ...KEYS_ENV, GATEWAY_RATE_LIMIT_PER_MINUTE: '3' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('refuses the request over the limit with 429, Retry-After and a RATE_LIMITED error, per key', async () => {
    const write = (email: string) =>
      t.gql(
        `mutation { upsertContact(input: { email: "${email}" }, options: { providers: [NOTIFUSE] }) { contact { id } } }`,
        {},
        bearer(FULL_KEY),
      );
    for (let i = 0; i < 3; i++) {
      expect((await write(`rl-${i}@example.com`)).errors).toBeUndefined();
    }
    const before = upstreamRequests(t);
    const res = await t.gateway.yoga.fetch('http://gateway/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json',
        ...bearer(FULL_KEY),
      },
      body: JSON.stringify({
        query:
          'mutation { upsertContact(input: { email: "rl-over@example.com" }) { contact { id } } }',
      }),
    });
    expect(res.status).toBe(429);
    expect(res.headers.get('content-type')).toBe(
      'application/graphql-response+json; charset=utf-8',
    );
    const retryAfter = Number(res.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60).toBe(true);
    expect(await res.json()).toEqual({
      errors: [
        {
          message: `Rate limit of 3 requests per minute exceeded for key "partner"; retry in ${retryAfter} s.`,
          extensions: { code: 'RATE_LIMITED', retryAfterSeconds: retryAfter },
        },
      ],
    });
    expect(upstreamRequests(t)).toBe(before);

    // Another key has its own budget.
    const other = await t.gql(
      '{ contact(email: "rl-over@example.com") { id } }',
      {},
      bearer(READ_KEY),
    );
    expect(other).toEqual({ status: 200, data: { contact: null } });
  });

  it('does not limit the anonymous loopback caller (no keys configured)', async () => {
    const anon = await createTestGateway({ GATEWAY_RATE_LIMIT_PER_MINUTE: '2' });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        statuses.push((await anon.gql('{ __typename }')).status);
      }
      expect(statuses).toEqual([200, 200, 200, 200, 200]);
    } finally {
      await anon.close();
    }
  });
});
