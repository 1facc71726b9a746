import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { bearer, FULL_KEY, KEYS_ENV, READ_KEY, upstreamRequests, WRITE_KEY } from './keys.js';

/**
 * What each scope sees of stored contact data, tried as an attacker would: a write-only key asks
 * for `remoteId`, `request`, `details`, `contact` and `records` directly, through aliases, inline
 * fragments, named fragments and batch items. Stored values (the email, a name) must never appear
 * in its answers; ids, statuses and codes stay visible.
 */
describe('scopes: what a write-only, read-only and full key see (production, keys set)', () => {
  let t: TestGateway;
  const STORED_EMAIL = 'stored-secret@example.com';
  const STORED_NAME = 'Storedname';

  beforeAll(async () => {
    t = await createTestGateway(
      { ...KEYS_ENV, NODE_ENV: 'production' },
      { only: ['NOTIFUSE', 'DOTDIGITAL'] },
    );
    const seeded = await t.gql(
      `mutation { upsertContact(input: { externalId: "ext-42", email: "${STORED_EMAIL}", firstName: "${STORED_NAME}" }) {
        outcomes { status } errors { field } } }`,
      {},
      bearer(FULL_KEY),
    );
    expect(seeded.data).toEqual({
      upsertContact: { outcomes: [{ status: 'CREATED' }, { status: 'CREATED' }], errors: [] },
    });
  }, 60_000);
  afterAll(async () => {
    await t.close();
  });

  const leaks = (body: unknown) => {
    const text = JSON.stringify(body);
    return text.includes(STORED_EMAIL) || text.includes(STORED_NAME);
  };
  const forbiddenPaths = (
    errors: Array<{ extensions?: Record<string, unknown>; path?: unknown }> = [],
  ) =>
    errors.map((e) => {
      expect(e.extensions?.['code']).toBe('FORBIDDEN');
      return (e.path as Array<string | number>).join('.');
    });

  it("the issue's request: a write-only key gets no remoteId (Notifuse: the stored email)", async () => {
    const res = await t.gql(
      `mutation { upsertContact(input: { externalId: "ext-42", jobTitle: "x" }) {
        contact { id } outcomes { provider status remoteId request droppedFields } errors { field } } }`,
      {},
      bearer(WRITE_KEY),
    );
    expect(leaks(res)).toBe(false);
    const payload = (res.data as { upsertContact: Record<string, unknown> }).upsertContact;
    expect(payload['contact']).toEqual({ id: expect.any(String) });
    expect(payload['outcomes']).toEqual([
      { provider: 'NOTIFUSE', status: 'UPDATED', remoteId: null, request: null, droppedFields: [] },
      {
        provider: 'DOTDIGITAL',
        status: 'UPDATED',
        remoteId: null,
        request: null,
        droppedFields: expect.arrayContaining(['jobTitle']),
      },
    ]);
    expect(forbiddenPaths(res.errors).sort()).toEqual([
      'upsertContact.outcomes.0.remoteId',
      'upsertContact.outcomes.0.request',
      'upsertContact.outcomes.1.remoteId',
      'upsertContact.outcomes.1.request',
    ]);
    expect(res.errors?.[0]?.message).toMatch(
      /needs scope contacts:read \(key "writer" has contacts:write\)/,
    );

    // The other keys, for contrast: the full key sees the remoteId, a read-only key reads
    // everything and writes nothing, and a write-only key reads nothing.
    {
      const res = await t.gql(
        `mutation { upsertContact(input: { externalId: "ext-42" }, options: { providers: [NOTIFUSE] }) {
        outcomes { remoteId } } }`,
        {},
        bearer(FULL_KEY),
      );
      expect(res).toEqual({
        status: 200,
        data: { upsertContact: { outcomes: [{ remoteId: STORED_EMAIL }] } },
      });
    }
    {
      const before = upstreamRequests(t);
      const write = await t.gql(
        'mutation { upsertContact(input: { externalId: "ext-42", firstName: "Nope" }) { contact { id } } }',
        {},
        bearer(READ_KEY),
      );
      expect(write.data).toBeNull();
      expect(write.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
      expect(upstreamRequests(t)).toBe(before);
      const read = await t.gql(
        '{ contact(externalId: "ext-42") { email firstName records { provider remoteId } } }',
        {},
        bearer(READ_KEY),
      );
      expect(read.errors).toBeUndefined();
      expect(read.data).toMatchObject({
        contact: {
          email: STORED_EMAIL,
          firstName: STORED_NAME,
          records: expect.arrayContaining([{ provider: 'NOTIFUSE', remoteId: STORED_EMAIL }]),
        },
      });
    }
    for (const q of [
      '{ contact(externalId: "ext-42") { id } }',
      `{ contacts(emails: ["${STORED_EMAIL}"]) { id } }`,
      '{ pendingWrites { id contactId } }',
    ]) {
      const res = await t.gql<Record<string, unknown> | null>(q, {}, bearer(WRITE_KEY));
      expect(Object.values(res.data ?? {}).every((v) => v === null)).toBe(true);
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
    }
  });

  it('a write-only dry run does not show the stored values its request would carry', async () => {
    const res = await t.gql(
      `mutation { upsertContact(input: { externalId: "ext-42", lastName: "Probe" }, options: { dryRun: true }) {
        contact { id email firstName } outcomes { status request details } } }`,
      {},
      bearer(WRITE_KEY),
    );
    expect(leaks(res)).toBe(false);
    expect(res.data).toMatchObject({
      upsertContact: {
        contact: { id: expect.any(String), email: null, firstName: null },
        outcomes: [
          { status: 'DRY_RUN', request: null },
          { status: 'DRY_RUN', request: null },
        ],
      },
    });
    // The same dry run with the full key shows the stored email in Notifuse's body.
    const full = await t.gql(
      `mutation { upsertContact(input: { externalId: "ext-42", lastName: "Probe" }, options: { dryRun: true }) {
        outcomes { provider request } } }`,
      {},
      bearer(FULL_KEY),
    );
    expect(full.errors).toBeUndefined();
    expect(JSON.stringify(full.data)).toContain(STORED_EMAIL);
  });

  it('aliases, inline and named fragments and batch items reach nothing more', async () => {
    const res = await t.gql(
      `fragment O on ProviderOutcome { id2: remoteId ... on ProviderOutcome { req: request } }
       fragment C on Contact { id mail: email records { provider remoteId } }
       mutation {
         one: upsertContact(input: { externalId: "ext-42" }) {
           c: contact { ...C } outcomes { ...O r: remoteId details } }
         many: upsertContacts(inputs: [{ externalId: "ext-42" }, { email: "${STORED_EMAIL}" }]) {
           items { contact { ... on Contact { firstName } ...C } outcomes { ...O } } summary { total } }
       }`,
      {},
      bearer(WRITE_KEY),
    );
    expect(leaks(res)).toBe(false);
    expect(res.data).toMatchObject({ many: { summary: { total: 2 } } });
    const paths = forbiddenPaths(res.errors);
    expect(paths).toContain('one.c.mail');
    expect(paths).toContain('one.c.records');
    expect(paths).toContain('one.outcomes.0.id2');
    expect(paths).toContain('one.outcomes.0.req');
    expect(paths).toContain('one.outcomes.0.r');
    expect(paths).toContain('many.items.1.contact.firstName');
    expect(paths).toContain('many.items.1.outcomes.1.id2');
  });
});

/**
 * Idempotency records are scoped by API key: the same idempotency key under another API key is
 * another write, never a replay of someone else's answer nor an IDEMPOTENCY_CONFLICT squat.
 */
describe('idempotency keys are scoped by API key', () => {
  let t: TestGateway;
  const OTHER_KEY = 'test-other-key-0123456789abcdef';
  beforeAll(async () => {
    t = await createTestGateway(
      {
        GATEWAY_API_KEYS: JSON.stringify([
          { name: 'partner', key: FULL_KEY, scopes: ['contacts:read', 'contacts:write'] },
          { name: 'other', key: OTHER_KEY, scopes: ['contacts:read', 'contacts:write'] },
        ]),
        NODE_ENV: 'production',
      },
      { only: ['NOTIFUSE'] },
    );
  }, 60_000);
  afterAll(async () => {
    await t.close();
  });

  const UPSERT = `mutation($input: ContactInput!, $key: String!) {
    upsertContact(input: $input, options: { idempotencyKey: $key }) {
      contact { id firstName } outcomes { status } } }`;
  const alice = { email: 'idem-a@example.com', firstName: 'Alice' };

  it("key B neither replays key A's answer nor is blocked by it", async () => {
    const a = await t.gql(UPSERT, { input: alice, key: 'k-1' }, bearer(FULL_KEY));
    expect(a.errors).toBeUndefined();
    expect(await t.gql(UPSERT, { input: alice, key: 'k-1' }, bearer(FULL_KEY))).toEqual(a);

    // Another input under A's idempotency key: no IDEMPOTENCY_CONFLICT squat for B.
    const b = await t.gql(
      UPSERT,
      { input: { email: 'idem-b@example.com', firstName: 'Bob' }, key: 'k-1' },
      bearer(OTHER_KEY),
    );
    expect(b.errors).toBeUndefined();
    expect(b.data).toMatchObject({
      upsertContact: { contact: { firstName: 'Bob' }, outcomes: [{ status: 'CREATED' }] },
    });

    // The same input under A's idempotency key: B's own write, not a replay of A's answer.
    const before = upstreamRequests(t);
    const same = await t.gql(UPSERT, { input: alice, key: 'k-2' }, bearer(FULL_KEY));
    expect(upstreamRequests(t)).toBe(before + 1);
    const sameOther = await t.gql(UPSERT, { input: alice, key: 'k-2' }, bearer(OTHER_KEY));
    expect(sameOther.errors).toBeUndefined();
    expect(upstreamRequests(t)).toBe(before + 2);
    expect(same.data).toMatchObject({ upsertContact: { outcomes: [{ status: 'UPDATED' }] } });
    expect(sameOther.data).toMatchObject({ upsertContact: { outcomes: [{ status: 'UPDATED' }] } });

    // A's record is untouched: still its replay, and a conflict for A alone.
    expect(await t.gql(UPSERT, { input: alice, key: 'k-1' }, bearer(FULL_KEY))).toEqual(a);
    const conflict = await t.gql(
      UPSERT,
      { input: { email: 'idem-c@example.com' }, key: 'k-1' },
      bearer(FULL_KEY),
    );
    expect(conflict.errors?.[0]?.extensions).toMatchObject({ code: 'IDEMPOTENCY_CONFLICT' });
  });
});
