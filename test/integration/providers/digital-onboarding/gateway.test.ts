import { describe, expect, it } from 'vitest';
import {
  CONTACT_SCOPES,
  CONTACTS_PATH,
  OVERRIDE_FLAGS,
} from '../../../../src/sandbox/digital-onboarding/index.js';
import { SANDBOX_CREDENTIALS } from '../../../../src/sandbox-mode.js';
import {
  createTestGateway,
  neverAnswers,
  type TestGateway,
  useTestGateway,
} from '../../../helpers/gateway.js';
import { type OutcomeView, writeOperations, writePayload } from '../../../helpers/operations.js';

const { UPSERT, UPSERT_MANY, UPDATE } = writeOperations(
  writePayload('id email externalId firstName lastName records { provider remoteId }'),
);

type Outcome = Omit<
  OutcomeView<{ method: string; url: string; headers: Record<string, string>; body: unknown }>,
  'durationMs'
>;
interface Payload {
  contact: {
    id: string;
    records: Array<{ provider: string; remoteId: string }>;
    [k: string]: unknown;
  } | null;
  outcomes: Outcome[];
  errors: Array<{ field: string; code: string; message: string }>;
}
interface Batch {
  items: Payload[];
  summary: { total: number; succeeded: number; failed: number; upstreamRequests: number };
}

const TOKEN = SANDBOX_CREDENTIALS.digitalOnboarding.token;
const DO = { providers: ['DIGITAL_ONBOARDING'] };
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const t = useTestGateway({}, { only: ['DIGITAL_ONBOARDING'] });
/** Every GraphQL answer of the file (all gateways), checked for the token at the end. */
const record = neverAnswers(TOKEN);

async function gql<T>(
  gw: TestGateway,
  query: string,
  variables: Record<string, unknown>,
  headers?: Record<string, string>,
) {
  const res = await gw.gql<T>(query, variables, headers);
  record(res);
  expect(res.errors).toBeUndefined();
  return res.data;
}

async function upsert(
  input: Record<string, unknown>,
  options: Record<string, unknown> = DO,
  gw: TestGateway = t,
  headers?: Record<string, string>,
) {
  return (await gql<{ upsertContact: Payload }>(gw, UPSERT, { input, options }, headers))
    .upsertContact;
}

function writes(gw: TestGateway = t) {
  return gw.digitalOnboarding.controls.requests.filter((r) => r.method !== 'GET');
}

describe('upsertContact → Digital Onboarding sandbox', () => {
  it('creates with the documented wire body, then updates the same gateway id and DO UUID', async () => {
    const first = await upsert({
      externalId: 'do-ada',
      email: 'Ada@Example.com',
      firstName: 'Ada',
      lastName: 'Lovelace',
      phone: '+442071838750',
      address: { city: 'London', country: 'gb' },
      emailConsent: { status: 'SUBSCRIBED' },
      customFields: { plan: 'gold' },
    });
    expect(first.errors).toEqual([]);
    expect(first.outcomes).toEqual([
      expect.objectContaining({
        provider: 'DIGITAL_ONBOARDING',
        status: 'CREATED',
        droppedFields: [],
        attempts: 1,
        error: null,
      }),
    ]);
    const uuid = first.outcomes[0]!.remoteId!;
    expect(uuid).toMatch(UUID);
    expect(first.contact!.records).toEqual([{ provider: 'DIGITAL_ONBOARDING', remoteId: uuid }]);

    const [create] = writes();
    expect(writes()).toHaveLength(1);
    expect(create).toMatchObject({ method: 'POST', path: CONTACTS_PATH });
    expect(create!.headers['authorization']).toBe(`Bearer ${TOKEN}`);
    expect(create!.headers['idempotency-key']).toMatch(UUID_V4);
    // A single upsert is not a bulk request: no override flag.
    expect(create!.headers['x-operator-override']).toBeUndefined();
    expect(create!.body).toEqual({
      unique_id: 'do-ada',
      email: 'ada@example.com',
      name_first: 'Ada',
      name_last: 'Lovelace',
      phone_mobile: '+442071838750',
      city: 'London',
      country: 'GB',
      email_opted_in: true,
      email_unsubscribed: false,
      meta_public: { plan: 'gold' },
    });
    // What Digital Onboarding now holds under that UUID.
    expect(t.digitalOnboarding.store.get(uuid)).toMatchObject({
      id: uuid,
      type: 'contact',
      unique_id: 'do-ada',
      email: 'ada@example.com',
      name_first: 'Ada',
      country: 'GB',
      email_opted_in: true,
      meta_public: { plan: 'gold' },
    });

    const second = await upsert({ externalId: 'do-ada', lastName: 'Byron' });
    expect(second.outcomes[0]).toMatchObject({ status: 'UPDATED', remoteId: uuid, error: null });
    expect(second.contact!.id).toBe(first.contact!.id);
    expect(t.digitalOnboarding.store.size).toBe(1);
    expect(t.digitalOnboarding.store.get(uuid)).toMatchObject({
      name_first: 'Ada',
      name_last: 'Byron',
    });
    const update = writes()[1]!;
    expect(update.headers['idempotency-key']).toMatch(UUID_V4);
    expect(update.headers['idempotency-key']).not.toBe(create!.headers['idempotency-key']);
  });

  it('updates (not duplicates) a contact Digital Onboarding already holds under the unique_id', async () => {
    const existing = t.digitalOnboarding.store.upsert({ unique_id: 'do-pre', name_first: 'Old' });
    expect(existing.ok).toBe(true);
    const preId = existing.ok ? existing.contact.id : '';
    const before = t.digitalOnboarding.store.size;

    const res = await upsert({ externalId: 'do-pre', firstName: 'New' });
    expect(res.outcomes[0]).toMatchObject({ status: 'UPDATED', remoteId: preId, error: null });
    expect(writes()).toMatchObject([{ method: 'POST', path: CONTACTS_PATH }]);
    expect(t.digitalOnboarding.store.size).toBe(before);
    expect(t.digitalOnboarding.store.get(preId)).toMatchObject({ name_first: 'New' });
  });
});

describe('updateContact → PATCH /v2/partner/contacts/{uuid}', () => {
  it('patches only the changed fields of the linked contact by its UUID', async () => {
    const created = await upsert({
      externalId: 'do-upd',
      email: 'upd@example.com',
      firstName: 'A',
    });
    const uuid = created.outcomes[0]!.remoteId!;
    t.digitalOnboarding.controls.reset();

    const res = (
      await gql<{ updateContact: Payload }>(t, UPDATE, {
        id: created.contact!.id,
        patch: { lastName: 'Patched', address: { postalCode: 'SW1A 1AA' } },
      })
    ).updateContact;
    expect(res.errors).toEqual([]);
    expect(res.outcomes).toEqual([
      expect.objectContaining({
        provider: 'DIGITAL_ONBOARDING',
        status: 'UPDATED',
        remoteId: uuid,
      }),
    ]);
    expect(res.contact!.id).toBe(created.contact!.id);

    expect(writes()).toHaveLength(1);
    const patch = writes()[0]!;
    expect(patch).toMatchObject({ method: 'PATCH', path: `${CONTACTS_PATH}/${uuid}` });
    expect(patch.headers['authorization']).toBe(`Bearer ${TOKEN}`);
    expect(patch.headers['idempotency-key']).toMatch(UUID_V4);
    expect(patch.body).toEqual({ name_last: 'Patched', post_code: 'SW1A 1AA' });
    expect(t.digitalOnboarding.store.get(uuid)).toMatchObject({
      unique_id: 'do-upd',
      email: 'upd@example.com',
      name_first: 'A',
      name_last: 'Patched',
      post_code: 'SW1A 1AA',
    });
  });
});

describe('upsertContacts → bulk POST {items}', () => {
  it('sends 250 contacts in ⌈250/100⌉ = 3 bulk POSTs; an item the sandbox rejects fails alone', async () => {
    const BAD = 137;
    const inputs = Array.from({ length: 250 }, (_, i) => ({
      externalId: `bulk-${i}`,
      // The gateway accepts a domain label ending in "-"; Digital Onboarding's email_format
      // validator (the sandbox's) does not, as RFC 1035 labels may not end in a hyphen.
      email: i === BAD ? `bad${i}@bad-.example.com` : `bulk${i}@example.com`,
      firstName: `B${i}`,
    }));
    const sizeBefore = t.digitalOnboarding.store.size;
    const { items, summary } = (
      await gql<{ upsertContacts: Batch }>(t, UPSERT_MANY, {
        inputs,
        options: DO,
      })
    ).upsertContacts;

    expect(summary).toEqual({ total: 250, succeeded: 249, failed: 1, upstreamRequests: 3 });
    const posts = writes();
    expect(posts).toHaveLength(3);
    for (const post of posts) {
      expect(post).toMatchObject({ method: 'POST', path: CONTACTS_PATH });
      expect(post.headers['x-operator-override']).toBe('bulk');
      expect(post.headers['authorization']).toBe(`Bearer ${TOKEN}`);
      expect(post.headers['idempotency-key']).toMatch(UUID_V4);
    }
    expect(new Set(posts.map((p) => p.headers['idempotency-key'])).size).toBe(3);
    const sent = posts.map((p) => (p.body as { items: Array<Record<string, unknown>> }).items);
    expect(sent.map((chunk) => chunk.length).sort((a, b) => b - a)).toEqual([100, 100, 50]);
    expect(sent.flat().map((b) => b['unique_id'])).toEqual(
      expect.arrayContaining(inputs.map((i) => i.externalId)),
    );
    expect(sent.flat()[0]).toEqual({
      unique_id: 'bulk-0',
      email: 'bulk0@example.com',
      name_first: 'B0',
    });

    expect(items).toHaveLength(250);
    const bad = items[BAD]!.outcomes[0]!;
    expect(bad).toMatchObject({
      provider: 'DIGITAL_ONBOARDING',
      status: 'FAILED',
      remoteId: null,
      error: { code: 'invalid_format', httpStatus: 422, retryable: false },
    });
    expect(bad.error!.message).toContain('email');
    items.forEach((item, i) => {
      if (i !== BAD) {
        expect(item.outcomes[0], `item ${i}`).toMatchObject({
          status: 'CREATED',
          remoteId: expect.stringMatching(UUID),
          error: null,
        });
      }
    });
    const ids = items.filter((_, i) => i !== BAD).map((item) => item.outcomes[0]!.remoteId);
    expect(new Set(ids).size).toBe(249);
    // Each gateway item got back the contact Digital Onboarding stored for it.
    expect(t.digitalOnboarding.store.get(items[200]!.outcomes[0]!.remoteId!)).toMatchObject({
      unique_id: 'bulk-200',
      name_first: 'B200',
    });
    expect(t.digitalOnboarding.store.size).toBe(sizeBefore + 249);
    expect(t.digitalOnboarding.store.findByUniqueId(`bulk-${BAD}`)).toBeUndefined();
  });

  it('chunks at the configured DIGITAL_ONBOARDING_BATCH_SIZE', async () => {
    const small = await createTestGateway(
      { DIGITAL_ONBOARDING_BATCH_SIZE: '2' },
      { only: ['DIGITAL_ONBOARDING'] },
    );
    try {
      const inputs = Array.from({ length: 6 }, (_, i) => ({ email: `chunk${i}@example.com` }));
      const { summary } = (
        await gql<{ upsertContacts: Batch }>(small, UPSERT_MANY, { inputs, options: DO })
      ).upsertContacts;
      expect(summary).toEqual({ total: 6, succeeded: 6, failed: 0, upstreamRequests: 3 });
      const posts = writes(small);
      expect(posts).toHaveLength(3);
      for (const post of posts) {
        expect(post.headers['x-operator-override']).toBe('bulk');
        expect((post.body as { items: unknown[] }).items).toHaveLength(2);
      }
      expect(small.digitalOnboarding.store.size).toBe(6);
    } finally {
      await small.close();
    }
  });
});

describe('dry run', () => {
  it('returns the exact wire request and sends nothing', async () => {
    const sizeBefore = t.digitalOnboarding.store.size;
    const res = await upsert(
      { externalId: 'do-dry', email: 'dry@example.com', firstName: 'Dry' },
      { ...DO, dryRun: true },
    );
    expect(res.outcomes).toHaveLength(1);
    const outcome = res.outcomes[0]!;
    expect(outcome).toMatchObject({
      provider: 'DIGITAL_ONBOARDING',
      status: 'DRY_RUN',
      error: null,
    });
    expect(outcome.request).toEqual({
      method: 'POST',
      url: `${t.digitalOnboarding.url}${CONTACTS_PATH}`,
      headers: {
        accept: 'application/json',
        authorization: 'Bearer [redacted]',
        'content-type': 'application/json',
        'idempotency-key': expect.stringMatching(UUID_V4),
        'x-operator-override': expect.stringContaining('dry_run'),
      },
      body: { unique_id: 'do-dry', email: 'dry@example.com', name_first: 'Dry' },
    });
    expect(t.digitalOnboarding.controls.requests).toEqual([]);
    expect(t.digitalOnboarding.store.size).toBe(sizeBefore);
    expect(t.digitalOnboarding.store.findByUniqueId('do-dry')).toBeUndefined();
  });
});

describe('scope and override errors', () => {
  const restore = () => {
    t.digitalOnboarding.addToken(TOKEN, Object.values(CONTACT_SCOPES));
    t.digitalOnboarding.setAllowedOverrides(TOKEN, [...OVERRIDE_FLAGS]);
  };

  it('a token without partner:contacts:write → FAILED scope_missing (401, not retryable)', async () => {
    // addToken replaces the scopes of the token the gateway is configured with.
    t.digitalOnboarding.addToken(TOKEN, [CONTACT_SCOPES.read]);
    try {
      const sizeBefore = t.digitalOnboarding.store.size;
      const res = await upsert({ externalId: 'do-ro', email: 'ro@example.com' });
      expect(res.outcomes).toEqual([
        expect.objectContaining({
          provider: 'DIGITAL_ONBOARDING',
          status: 'FAILED',
          remoteId: null,
          attempts: 1,
          error: expect.objectContaining({
            code: 'scope_missing',
            httpStatus: 401,
            retryable: false,
          }),
        }),
      ]);
      expect(res.outcomes[0]!.error!.details).toMatchObject({
        requiredScope: CONTACT_SCOPES.write,
      });
      expect(res.contact!.records).toEqual([]);
      expect(writes()).toHaveLength(1);
      expect(t.digitalOnboarding.store.size).toBe(sizeBefore);
    } finally {
      restore();
    }
  });

  it('an override flag the token may not use → FAILED scope_insufficient (403)', async () => {
    t.digitalOnboarding.setAllowedOverrides(TOKEN, ['bulk', 'dry_run']);
    try {
      const res = await upsert({
        externalId: 'do-force',
        email: 'force@example.com',
        providerOptions: { digitalOnboarding: { overrides: ['force'] } },
      });
      expect(res.errors).toEqual([]);
      expect(res.outcomes[0]).toMatchObject({
        status: 'FAILED',
        attempts: 1,
        error: { code: 'scope_insufficient', httpStatus: 403, retryable: false },
      });
      expect(writes()).toHaveLength(1);
      expect(writes()[0]!.headers['x-operator-override']).toBe('force');
      expect(t.digitalOnboarding.store.findByUniqueId('do-force')).toBeUndefined();
    } finally {
      restore();
    }
    // The same write with the flag allowed goes through.
    const again = await upsert({
      externalId: 'do-force',
      email: 'force@example.com',
      providerOptions: { digitalOnboarding: { overrides: ['force'] } },
    });
    expect(again.outcomes[0]).toMatchObject({ status: 'CREATED', error: null });
  });

  it('an unknown override flag is an InputError and nothing is sent', async () => {
    const res = await upsert({
      externalId: 'do-unknown',
      email: 'unknown-flag@example.com',
      providerOptions: { digitalOnboarding: { overrides: ['turbo'] } },
    });
    expect(res.outcomes).toEqual([]);
    expect(res.contact).toBeNull();
    expect(res.errors).toEqual([
      expect.objectContaining({
        field: 'input.providerOptions.digitalOnboarding.overrides',
        code: 'INVALID_VALUE',
        message: expect.stringContaining('turbo'),
      }),
    ]);
    expect(t.digitalOnboarding.controls.requests).toEqual([]);
  });
});

describe('idempotency keys', () => {
  const input = { externalId: 'do-idem', email: 'idem@example.com', firstName: 'Once' };

  /** Another gateway instance (fresh identity store) writing to the same Digital Onboarding. */
  const sameSandbox = () =>
    createTestGateway(
      {},
      {
        only: ['DIGITAL_ONBOARDING'],
        tweak: (c) => ({
          ...c,
          digitalOnboarding: { ...c.digitalOnboarding!, url: t.digitalOnboarding.url },
        }),
      },
    );

  it('the same gateway key derives the same DO Idempotency-Key on another gateway; another key does not', async () => {
    const [b, c, d] = await Promise.all([sameSandbox(), sameSandbox(), sameSandbox()]);
    try {
      const first = await upsert(input, { ...DO, idempotencyKey: 'client-key-1' });
      expect(first.outcomes[0]).toMatchObject({ status: 'CREATED' });
      const uuid = first.outcomes[0]!.remoteId;
      const key1 = writes()[0]!.headers['idempotency-key'];
      expect(key1).toMatch(UUID_V4);

      // A client retrying through another instance with its key: the same DO key, so Digital
      // Onboarding replays the first answer and nothing is created twice.
      const retried = await upsert(input, { ...DO, idempotencyKey: 'client-key-1' }, b);
      expect(writes()[1]).toMatchObject({ method: 'POST', path: CONTACTS_PATH });
      expect(writes()[1]!.headers['idempotency-key']).toBe(key1);
      expect(retried.outcomes[0]).toMatchObject({ status: 'CREATED', remoteId: uuid });
      expect(t.digitalOnboarding.store.all().filter((x) => x.unique_id === 'do-idem')).toHaveLength(
        1,
      );

      // The same key given as the Idempotency-Key HTTP header.
      const viaHeader = await upsert(input, DO, c, { 'idempotency-key': 'client-key-1' });
      expect(writes()[2]!.headers['idempotency-key']).toBe(key1);
      expect(viaHeader.outcomes[0]).toMatchObject({ status: 'CREATED', remoteId: uuid });

      // Another gateway key, same request otherwise: another DO key, so a real second write.
      const other = await upsert(input, { ...DO, idempotencyKey: 'client-key-2' }, d);
      expect(writes()[3]).toMatchObject({ method: 'POST', path: CONTACTS_PATH });
      expect(writes()[3]!.headers['idempotency-key']).toMatch(UUID_V4);
      expect(writes()[3]!.headers['idempotency-key']).not.toBe(key1);
      expect(other.outcomes[0]).toMatchObject({ status: 'UPDATED', remoteId: uuid, error: null });
      expect(writes()).toHaveLength(4);
    } finally {
      await Promise.all([b.close(), c.close(), d.close()]);
    }
  });
});
