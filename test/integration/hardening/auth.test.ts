import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { upsertMany, upsertOne } from '../../helpers/operations.js';
import { bearer, FULL_KEY, KEYS_ENV, READ_KEY, upstreamRequests, WRITE_KEY } from './keys.js';

const UPSERT = upsertOne(
  'contact { id } outcomes { provider status } errors { field }',
  '{ providers: [NOTIFUSE] }',
);
const UPSERT_MANY = upsertMany('summary { total succeeded }', '{ providers: [NOTIFUSE] }');
const UPDATE = `mutation($id: ID!) {
  updateContact(id: $id, patch: { jobTitle: "CTO" }, options: { providers: [NOTIFUSE] }) {
    outcomes { status } } }`;
const READ_ONE = 'query($email: String) { contact(email: $email) { id email } }';
const READ_MANY = 'query($emails: [String!]) { contacts(emails: $emails) { id email } }';
const PROVIDERS = '{ providers { provider } }';

describe('API keys and scopes', () => {
  let t: TestGateway;
  let contactId: string;
  beforeAll(async () => {
    t = await createTestGateway(KEYS_ENV);
    const seeded = await t.gql<{ upsertContact: { contact: { id: string } } }>(
      UPSERT,
      { input: { email: 'scoped@example.com' } },
      bearer(FULL_KEY),
    );
    contactId = seeded.data.upsertContact.contact.id;
  });
  afterAll(async () => {
    await t.close();
  });

  const operations: Array<[string, string, Record<string, unknown>]> = [
    ['contact', READ_ONE, { email: 'scoped@example.com' }],
    ['contacts', READ_MANY, { emails: ['scoped@example.com'] }],
    ['providers', PROVIDERS, {}],
    ['upsertContact', UPSERT, { input: { email: 'new@example.com' } }],
    ['upsertContacts', UPSERT_MANY, { inputs: [{ email: 'new2@example.com' }] }],
    ['updateContact', UPDATE, { id: 'replaced in the test' }],
  ];

  describe.each([
    ['no Authorization header', {}, 'Missing API key: send it as "Authorization: Bearer <key>".'],
    ['an unknown key', bearer('test-unknown-key-0123456789abcdef'), 'Invalid API key.'],
    [
      'a known key with one character changed',
      bearer(`${FULL_KEY.slice(0, -1)}X`),
      'Invalid API key.',
    ],
    ['a prefix of a known key', bearer(FULL_KEY.slice(0, 20)), 'Invalid API key.'],
    ['the key sent as Basic', { authorization: `Basic ${FULL_KEY}` }, 'Invalid API key.'],
    ['the key without a scheme', { authorization: FULL_KEY }, 'Invalid API key.'],
  ])('%s → 401 before anything runs', (_title, headers, message) => {
    it.each(operations)('%s', async (_field, query, variables) => {
      const before = upstreamRequests(t);
      const res = await t.gateway.yoga.fetch('http://gateway/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query, variables: { ...variables, id: contactId } }),
      });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="contact-gateway"');
      expect(await res.json()).toEqual({
        errors: [{ message, extensions: { code: 'UNAUTHENTICATED' } }],
      });
      expect(upstreamRequests(t)).toBe(before);
    });
  });

  it('answers 401 without a schema hint even for an invalid document', async () => {
    const res = await t.gql('{ contactz { id } }');
    expect(res.status).toBe(401);
    expect(JSON.stringify(res)).not.toMatch(/contact\b|Did you mean/);
  });

  // caller → field → allowed
  const matrix: Array<[string, string, Record<string, boolean>]> = [
    [
      'reader (contacts:read)',
      READ_KEY,
      {
        contact: true,
        contacts: true,
        providers: true,
        upsertContact: false,
        upsertContacts: false,
        updateContact: false,
      },
    ],
    [
      'writer (contacts:write)',
      WRITE_KEY,
      {
        contact: false,
        contacts: false,
        providers: true,
        upsertContact: true,
        upsertContacts: true,
        updateContact: true,
      },
    ],
    [
      'partner (both scopes)',
      FULL_KEY,
      {
        contact: true,
        contacts: true,
        providers: true,
        upsertContact: true,
        upsertContacts: true,
        updateContact: true,
      },
    ],
  ];

  describe.each(matrix)('%s', (_title, key, allowed) => {
    it.each(operations)('%s', async (field, query, variables) => {
      const before = upstreamRequests(t);
      // A write-only key may see the id in a payload, nothing else of the contact.
      const q = key === WRITE_KEY ? query.replace(/\{ id email \}/, '{ id }') : query;
      const res = await t.gql(q, { ...variables, id: contactId }, bearer(key));
      expect(res.status).toBe(200);
      if (allowed[field]) {
        expect(res.errors).toBeUndefined();
        expect(res.data).toHaveProperty(field);
      } else {
        expect(res.errors).toHaveLength(1);
        expect(res.errors?.[0]).toMatchObject({
          message: expect.stringMatching(
            new RegExp(
              `^Forbidden: (Query|Mutation)\\.${field} needs scope contacts:(read|write) \\(key "`,
            ),
          ),
          extensions: { code: 'FORBIDDEN' },
          path: [field],
        });
        expect((res.data as Record<string, unknown> | null)?.[field] ?? null).toBeNull();
        expect(upstreamRequests(t)).toBe(before);
      }
    });
  });

  it('a read-only key cannot write: nothing reaches any provider, nothing changes', async () => {
    const before = upstreamRequests(t);
    const res = await t.gql(
      `mutation { a: upsertContact(input: { email: "ro@example.com" }) { contact { id } }
                  b: updateContact(id: "${contactId}", patch: { firstName: "X" }) { contact { id } } }`,
      {},
      bearer(READ_KEY),
    );
    expect(res.data).toBeNull();
    expect(res.errors?.map((e) => e.extensions?.['code'])).toEqual(['FORBIDDEN']);
    expect(upstreamRequests(t)).toBe(before);
    const read = await t.gql(READ_ONE, { email: 'ro@example.com' }, bearer(READ_KEY));
    expect(read.data).toEqual({ contact: null });
  });

  it('a write-only key sees the id of what it wrote and no other contact field', async () => {
    const res = await t.gql<{ upsertContact: { contact: { id: string; email: null } | null } }>(
      `mutation { upsertContact(input: { email: "wo@example.com", firstName: "Wo" }, options: { providers: [NOTIFUSE] }) {
         contact { id email } outcomes { status } } }`,
      {},
      bearer(WRITE_KEY),
    );
    expect(res.data.upsertContact.contact).toEqual({ id: expect.any(String), email: null });
    expect(res.errors).toEqual([
      expect.objectContaining({
        path: ['upsertContact', 'contact', 'email'],
        extensions: { code: 'FORBIDDEN' },
      }),
    ]);
  });

  it('leaves /health unauthenticated', async () => {
    const health = await t.gateway.yoga.fetch('http://gateway/health');
    expect(health.status).toBe(200);
  });
});

describe('no keys configured (the loopback developer)', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await createTestGateway();
  });
  afterAll(async () => {
    await t.close();
  });

  it('may read and write without a key', async () => {
    const write = await t.gql(UPSERT, { input: { email: 'anon@example.com' } });
    expect(write.errors).toBeUndefined();
    const read = await t.gql(READ_ONE, { email: 'anon@example.com' });
    expect(read.data).toEqual({ contact: { id: expect.any(String), email: 'anon@example.com' } });
  });

  it('ignores an Authorization header (there is nothing to check it against)', async () => {
    const res = await t.gql(PROVIDERS, {}, bearer('whatever-0123456789abcdef01'));
    expect(res.status).toBe(200);
    expect(res.errors).toBeUndefined();
  });
});
