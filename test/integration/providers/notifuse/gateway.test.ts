import { describe, expect, it } from 'vitest';
import { SANDBOX_CREDENTIALS } from '../../../../src/sandbox-mode.js';
import { createTestGateway, neverAnswers, useTestGateway } from '../../../helpers/gateway.js';
import {
  type OutcomeView,
  readOne,
  writeOperations,
  writePayload,
} from '../../../helpers/operations.js';

const { UPSERT, UPSERT_MANY, UPDATE } = writeOperations(
  writePayload(
    `id email externalId firstName lastName phone timezone jobTitle
    address { line1 city country postalCode } customFields records { provider remoteId syncedAt }`,
    `provider status remoteId droppedFields attempts durationMs request
    error { code message httpStatus retryable details }`,
  ),
);
const READ = readOne(`id email externalId firstName lastName phone timezone language jobTitle
  createdAt updatedAt address { line1 line2 state postalCode country } customFields
  records { provider remoteId syncedAt } readErrors { provider error { code httpStatus retryable } }`);

type Outcome = Omit<OutcomeView, 'details'>;
interface WritePayload {
  contact: Record<string, unknown> & {
    id: string;
    records: Array<{ provider: string; remoteId: string }>;
  };
  outcomes: Outcome[];
  errors: Array<{ field: string; code: string; message: string }>;
}

// One attempt per call: these tests pin how each answer is reported; retries are covered in
// test/integration/resilience/.
const t = useTestGateway(
  { RETRY_MAX_ATTEMPTS: '1', GATEWAY_OUTBOX: 'off' },
  { only: ['NOTIFUSE'] },
);
// No response of any test carried the provider credential.
const record = neverAnswers(SANDBOX_CREDENTIALS.notifuse.apiKey);

async function upsert(input: Record<string, unknown>, options?: Record<string, unknown>) {
  const res = await t.gql<{ upsertContact: WritePayload }>(UPSERT, { input, options });
  record(res);
  expect(res.errors).toBeUndefined();
  return res.data.upsertContact;
}
async function upsertMany(
  inputs: Array<Record<string, unknown>>,
  options?: Record<string, unknown>,
) {
  const res = await t.gql<{
    upsertContacts: { items: WritePayload[]; summary: Record<string, number> };
  }>(UPSERT_MANY, { inputs, options });
  record(res);
  expect(res.errors).toBeUndefined();
  return res.data.upsertContacts;
}

describe('upsertContact → Notifuse sandbox', () => {
  it('creates, then updates the same email with the same gateway id', async () => {
    const first = await upsert(
      { email: 'Ada@Example.com', firstName: 'Ada', lastName: 'Lovelace', phone: '+14155550123' },
      { providers: ['NOTIFUSE'] },
    );
    expect(first.errors).toEqual([]);
    expect(first.outcomes).toMatchObject([
      {
        provider: 'NOTIFUSE',
        status: 'CREATED',
        remoteId: 'ada@example.com',
        droppedFields: [],
        attempts: 1,
        error: null,
      },
    ]);
    expect(first.contact).toMatchObject({
      email: 'ada@example.com',
      firstName: 'Ada',
      records: [{ provider: 'NOTIFUSE', remoteId: 'ada@example.com' }],
    });

    const second = await upsert(
      { email: 'ada@example.com', jobTitle: 'Analyst' },
      { providers: ['NOTIFUSE'] },
    );
    expect(second.outcomes[0]).toMatchObject({ status: 'UPDATED', remoteId: 'ada@example.com' });
    expect(second.contact.id).toBe(first.contact.id);
    expect(second.contact).toMatchObject({ firstName: 'Ada', jobTitle: 'Analyst' });

    // The wire: one single upsert each, Bearer auth, the workspace, only the fields given.
    const wire = t.notifuse.controls.requests;
    expect(wire.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /api/contacts.upsert',
      'POST /api/contacts.upsert',
    ]);
    expect(wire[0]!.headers['authorization']).toBe(`Bearer ${SANDBOX_CREDENTIALS.notifuse.apiKey}`);
    expect(wire[1]!.body).toEqual({
      workspace_id: SANDBOX_CREDENTIALS.notifuse.workspaceId,
      contact: { email: 'ada@example.com', job_title: 'Analyst' },
    });
    expect(t.notifuse.store.get('ada@example.com')).toMatchObject({
      email: 'ada@example.com',
      first_name: 'Ada',
      last_name: 'Lovelace',
      job_title: 'Analyst',
    });
  });

  it('leaves omitted fields untouched and clears fields sent as null', async () => {
    const created = await upsert({
      email: 'omit@example.com',
      firstName: 'Grace',
      lastName: 'Hopper',
      jobTitle: 'Admiral',
    });
    const cleared = await upsert({
      email: 'omit@example.com',
      firstName: null,
      address: { country: 'US' },
    });
    expect(cleared.outcomes[0]).toMatchObject({ status: 'UPDATED', droppedFields: [] });
    expect(t.notifuse.controls.requests.at(-1)!.body).toEqual({
      workspace_id: 'sandbox',
      contact: { email: 'omit@example.com', first_name: null, country: 'US' },
    });
    const stored = t.notifuse.store.get('omit@example.com')!;
    expect(stored).toMatchObject({ last_name: 'Hopper', job_title: 'Admiral', country: 'US' });
    expect(stored['first_name']).toBeUndefined();
    expect(cleared.contact).toMatchObject({
      id: created.contact.id,
      firstName: null,
      lastName: 'Hopper',
      jobTitle: 'Admiral',
    });
  });

  it('refuses a bad email as an InputError on input.email without calling any provider', async () => {
    const res = await upsert({
      email: 'not-an-email',
      firstName: 'X',
      address: { country: 'USA' },
    });
    expect(res.contact).toBeNull();
    expect(res.outcomes).toEqual([]);
    expect(res.errors).toEqual([
      {
        field: 'input.email',
        code: 'INVALID_EMAIL',
        message: 'input.email is not a valid email address',
      },
      expect.objectContaining({ field: 'input.address.country', code: 'INVALID_COUNTRY' }),
    ]);
    expect(t.notifuse.controls.requestCount()).toBe(0);
  });

  it('lists what Notifuse cannot take in droppedFields', async () => {
    const res = await upsert({
      email: 'dropped@example.com',
      birthdate: '1990-05-01',
      homePhone: '+14155550199',
      address: { city: 'Paris', country: 'FR' },
      customFields: { custom_string_1: 'gold', plan: 'pro' },
    });
    expect(res.outcomes[0]!.status).toBe('CREATED');
    expect(res.outcomes[0]!.droppedFields.sort()).toEqual([
      'address.city',
      'birthdate',
      'customFields.plan',
      'homePhone',
    ]);
    expect(t.notifuse.store.get('dropped@example.com')).toMatchObject({
      country: 'FR',
      custom_string_1: 'gold',
    });
  });

  it('reports a provider failure as a FAILED outcome, and a provider that is not enabled as SKIPPED', async () => {
    t.notifuse.controls.inject({
      path: '/api/contacts.upsert',
      faults: [{ kind: 'status', status: 500, body: { error: 'database is down' } }],
    });
    const res = await upsert(
      { email: 'fail@example.com', firstName: 'F' },
      { providers: ['NOTIFUSE', 'DOTDIGITAL'] },
    );
    expect(res.errors).toEqual([]);
    expect(res.outcomes).toEqual([
      expect.objectContaining({
        provider: 'NOTIFUSE',
        status: 'FAILED',
        attempts: 1,
        error: expect.objectContaining({
          code: 'UPSTREAM_HTTP_ERROR',
          httpStatus: 500,
          retryable: true,
          message: 'Notifuse answered 500: database is down',
        }),
      }),
      expect.objectContaining({
        provider: 'DOTDIGITAL',
        status: 'SKIPPED',
        error: expect.objectContaining({ code: 'PROVIDER_NOT_ENABLED' }),
      }),
    ]);
    expect(res.contact.records).toEqual([]);
    // The next attempt goes through and keeps the gateway id.
    const again = await upsert({ email: 'fail@example.com', firstName: 'F' });
    expect(again.outcomes[0]!.status).toBe('CREATED');
    expect(again.contact.id).toBe(res.contact.id);
  });

  it('classifies a connection reset and a malformed answer', async () => {
    t.notifuse.controls.inject({
      path: '/api/contacts.upsert',
      faults: [{ kind: 'reset' }, { kind: 'malformed' }],
    });
    const reset = await upsert({ email: 'flaky@example.com' });
    expect(reset.outcomes[0]).toMatchObject({
      status: 'FAILED',
      error: { code: 'UPSTREAM_UNAVAILABLE', retryable: true, httpStatus: null },
    });
    const bad = await upsert({ email: 'flaky@example.com' });
    expect(bad.outcomes[0]).toMatchObject({
      status: 'FAILED',
      error: { code: 'UPSTREAM_BAD_RESPONSE', httpStatus: 200 },
    });
  });

  it('treats a 401 as non-retryable UNAUTHORIZED', async () => {
    t.notifuse.controls.inject({
      path: '/api/contacts.upsert',
      faults: [{ kind: 'status', status: 401, body: { error: 'Invalid token' } }],
    });
    const res = await upsert({ email: 'auth@example.com' });
    expect(res.outcomes[0]).toMatchObject({
      status: 'FAILED',
      error: { code: 'UNAUTHORIZED', httpStatus: 401, retryable: false },
    });
  });

  it('dry run validates and maps, returns the exact wire request, and sends nothing', async () => {
    const res = await upsert(
      { email: 'dry@example.com', lastName: 'Run', phone: '+14155550123' },
      { dryRun: true },
    );
    expect(res.outcomes).toEqual([
      expect.objectContaining({
        provider: 'NOTIFUSE',
        status: 'DRY_RUN',
        attempts: 0,
        request: {
          method: 'POST',
          url: `${t.notifuse.url}/api/contacts.upsert`,
          headers: {
            accept: 'application/json',
            authorization: 'Bearer [redacted]',
            'content-type': 'application/json',
          },
          body: {
            workspace_id: 'sandbox',
            contact: { email: 'dry@example.com', last_name: 'Run', phone: '+14155550123' },
          },
        },
      }),
    ]);
    expect(t.notifuse.controls.requestCount()).toBe(0);
    expect(t.notifuse.store.get('dry@example.com')).toBeUndefined();
  });
});

describe('upsertContacts → Notifuse import', () => {
  it('writes 250 contacts in ⌈250/500⌉ = 1 import request', async () => {
    const inputs = Array.from({ length: 250 }, (_, i) => ({
      email: `bulk${i}@example.com`,
      firstName: `N${i}`,
    }));
    const res = await upsertMany(inputs);
    expect(res.summary).toEqual({ total: 250, succeeded: 250, failed: 0, upstreamRequests: 1 });
    expect(t.notifuse.controls.requestCount({ path: '/api/contacts.import' })).toBe(1);
    expect(
      (t.notifuse.controls.requests[0]!.body as { contacts: unknown[] }).contacts,
    ).toHaveLength(250);
    // Results are matched back by email although Notifuse answers in its own order.
    res.items.forEach((item, i) => {
      expect(item.outcomes[0]).toMatchObject({
        status: 'CREATED',
        remoteId: `bulk${i}@example.com`,
      });
      expect(item.contact['email']).toBe(`bulk${i}@example.com`);
    });
    expect(new Set(res.items.map((i) => i.contact.id)).size).toBe(250);
    expect(t.notifuse.store.get('bulk249@example.com')).toMatchObject({ first_name: 'N249' });
  });

  it('fails one bad item alone and sends the rest', async () => {
    const res = await upsertMany([
      { email: 'ok1@example.com' },
      { email: 'broken', phone: '555' },
      { email: 'ok2@example.com' },
    ]);
    // The good items' outcomes first: when they fail, the failure shows their error, not a count.
    expect([res.items[0]!.outcomes, res.items[2]!.outcomes]).toEqual([
      [expect.objectContaining({ status: 'CREATED', error: null })],
      [expect.objectContaining({ status: 'CREATED', error: null })],
    ]);
    expect(res.summary).toEqual({ total: 3, succeeded: 2, failed: 1, upstreamRequests: 1 });
    expect(res.items[1]).toEqual({
      contact: null,
      outcomes: [],
      errors: [
        expect.objectContaining({ field: 'inputs.1.email', code: 'INVALID_EMAIL' }),
        expect.objectContaining({ field: 'inputs.1.phone', code: 'INVALID_PHONE' }),
      ],
    });
    const sent = (t.notifuse.controls.requests[0]!.body as { contacts: Array<{ email: string }> })
      .contacts;
    expect(sent.map((c) => c.email)).toEqual(['ok1@example.com', 'ok2@example.com']);
  });

  it('routes items that clear a field through single upserts (the import ignores null)', async () => {
    await upsertMany([
      { email: 'c1@example.com', firstName: 'A' },
      { email: 'c2@example.com', firstName: 'B' },
    ]);
    t.notifuse.controls.reset();
    const res = await upsertMany([
      { email: 'c1@example.com', firstName: null },
      { email: 'c2@example.com', lastName: 'Z' },
      { email: 'c3@example.com', lastName: 'Y' },
    ]);
    expect(res.summary).toMatchObject({ succeeded: 3, upstreamRequests: 2 });
    expect(t.notifuse.controls.requestCount({ path: '/api/contacts.upsert' })).toBe(1);
    expect(t.notifuse.controls.requestCount({ path: '/api/contacts.import' })).toBe(1);
    expect(t.notifuse.store.get('c1@example.com')!['first_name']).toBeUndefined();
    expect(res.items.map((i) => i.outcomes[0]!.status)).toEqual(['UPDATED', 'UPDATED', 'CREATED']);
  });

  it('merges two items for the same email into one import entry and one gateway id', async () => {
    const res = await upsertMany([
      { email: 'dup@example.com', firstName: 'First', lastName: 'Kept' },
      { email: 'other@example.com' },
      { email: 'DUP@example.com', firstName: 'Second' },
    ]);
    const sent = (
      t.notifuse.controls.requests[0]!.body as { contacts: Array<Record<string, unknown>> }
    ).contacts;
    expect(sent).toEqual([
      { email: 'dup@example.com', first_name: 'Second', last_name: 'Kept' },
      { email: 'other@example.com' },
    ]);
    expect(res.items[0]!.contact.id).toBe(res.items[2]!.contact.id);
    expect(res.items[2]!.contact).toMatchObject({ firstName: 'Second', lastName: 'Kept' });
    expect(res.summary).toMatchObject({ succeeded: 3, upstreamRequests: 1 });
  });

  it('reports a whole failed import on each of its items, retryable', async () => {
    t.notifuse.controls.inject({
      path: '/api/contacts.import',
      faults: [{ kind: 'status', status: 503, body: { error: 'secret unavailable' } }],
    });
    const res = await upsertMany([{ email: 'i1@example.com' }, { email: 'i2@example.com' }]);
    expect(res.summary).toEqual({ total: 2, succeeded: 0, failed: 2, upstreamRequests: 1 });
    for (const item of res.items) {
      expect(item.outcomes[0]).toMatchObject({
        status: 'FAILED',
        error: { httpStatus: 503, retryable: true },
      });
    }
  });
});

describe('batch size', () => {
  it('chunks by NOTIFUSE_BATCH_SIZE: 250 contacts at B=100 make ⌈250/100⌉ = 3 imports', async () => {
    const small = await createTestGateway({ NOTIFUSE_BATCH_SIZE: '100' }, { only: ['NOTIFUSE'] });
    try {
      const inputs = Array.from({ length: 250 }, (_, i) => ({ email: `chunk${i}@example.com` }));
      const res = await small.gql<{ upsertContacts: { summary: Record<string, number> } }>(
        UPSERT_MANY,
        { inputs },
      );
      expect(res.data.upsertContacts.summary).toEqual({
        total: 250,
        succeeded: 250,
        failed: 0,
        upstreamRequests: 3,
      });
      const sizes = small.notifuse.controls.requests.map(
        (r) => (r.body as { contacts: unknown[] }).contacts.length,
      );
      expect(sizes.sort((a, b) => a - b)).toEqual([50, 100, 100]);
      expect(small.notifuse.store.size).toBe(250);
    } finally {
      await small.close();
    }
  });
});

describe('reads', () => {
  it('contact(email) reads the merged contact back from Notifuse', async () => {
    const written = await upsert({
      email: 'read@example.com',
      externalId: 'crm-42',
      firstName: 'Read',
      lastName: 'Back',
      timezone: 'America/New_York',
      address: { line1: '1 Main St', country: 'US', postalCode: '10001' },
      customFields: { custom_number_1: 42 },
    });
    t.notifuse.controls.reset();
    const res = await t.gql<{ contact: Record<string, unknown> }>(READ, {
      email: 'READ@example.com',
    });
    expect(res.errors).toBeUndefined();
    expect(res.data.contact).toMatchObject({
      id: written.contact.id,
      email: 'read@example.com',
      externalId: 'crm-42',
      firstName: 'Read',
      lastName: 'Back',
      timezone: 'America/New_York',
      address: { line1: '1 Main St', country: 'US', postalCode: '10001', line2: null },
      customFields: { custom_number_1: 42 },
      records: [{ provider: 'NOTIFUSE', remoteId: 'read@example.com' }],
      readErrors: [],
    });
    expect(res.data.contact['createdAt']).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(
      t.notifuse.controls.requests.map((r) => `${r.method} ${r.path} ${r.query['email']}`),
    ).toEqual(['GET /api/contacts.getByEmail read@example.com']);
    // By gateway id and by externalId too.
    const byId = await t.gql<{ contact: { email: string } }>(READ, { id: written.contact.id });
    expect(byId.data.contact.email).toBe('read@example.com');
    const byExternal = await t.gql<{ contact: { id: string } }>(READ, { externalId: 'crm-42' });
    expect(byExternal.data.contact.id).toBe(written.contact.id);
  });

  it('returns null for a contact nobody has, and a gateway id for one only Notifuse had', async () => {
    const none = await t.gql<{ contact: null }>(READ, { email: 'nobody@example.com' });
    expect(none.data.contact).toBeNull();
    // Written straight to the provider, bypassing the gateway.
    const direct = await fetch(`${t.notifuse.url}/api/contacts.upsert`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${SANDBOX_CREDENTIALS.notifuse.apiKey}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        workspace_id: 'sandbox',
        contact: { email: 'outside@example.com', first_name: 'Out' },
      }),
    });
    expect(direct.status).toBe(200);
    const found = await t.gql<{ contact: { id: string; firstName: string } }>(READ, {
      email: 'outside@example.com',
    });
    expect(found.data.contact.firstName).toBe('Out');
    const again = await t.gql<{ contact: { id: string } }>(READ, { email: 'outside@example.com' });
    expect(again.data.contact.id).toBe(found.data.contact.id);
  });

  it('contacts(ids, emails) answers in order with null for unknown ones', async () => {
    const a = await upsert({ email: 'many-a@example.com', firstName: 'A' });
    await upsert({ email: 'many-b@example.com', firstName: 'B' });
    const res = await t.gql<{ contacts: Array<{ email: string } | null> }>(
      `query($ids: [ID!], $emails: [String!]) { contacts(ids: $ids, emails: $emails) { email } }`,
      {
        ids: [a.contact.id, '00000000-0000-4000-8000-000000000000'],
        emails: ['many-b@example.com', 'none@example.com'],
      },
    );
    expect(res.data.contacts).toEqual([
      { email: 'many-a@example.com' },
      null,
      { email: 'many-b@example.com' },
      null,
    ]);
  });

  it('reports a provider read failure on the contact instead of failing the query', async () => {
    await upsert({ email: 'readfail@example.com', firstName: 'Kept' });
    t.notifuse.controls.inject({
      path: '/api/contacts.getByEmail',
      faults: [{ kind: 'status', status: 500, body: { error: 'boom' } }],
    });
    const res = await t.gql<{ contact: Record<string, unknown> }>(READ, {
      email: 'readfail@example.com',
    });
    expect(res.data.contact).toMatchObject({
      firstName: 'Kept',
      readErrors: [
        {
          provider: 'NOTIFUSE',
          error: { code: 'UPSTREAM_HTTP_ERROR', httpStatus: 500, retryable: true },
        },
      ],
    });
  });

  it('refuses contact() without exactly one key', async () => {
    const res = await t.gql(READ, {});
    expect(res.errors?.[0]).toMatchObject({
      message: 'Give exactly one of id, email or externalId.',
      extensions: { code: 'BAD_USER_INPUT' },
    });
  });
});

describe('updateContact', () => {
  it('patches the contact at Notifuse by its remote id and keeps the gateway id', async () => {
    const created = await upsert({ email: 'patch@example.com', firstName: 'P', lastName: 'Q' });
    t.notifuse.controls.reset();
    const res = await t.gql<{ updateContact: WritePayload }>(UPDATE, {
      id: created.contact.id,
      patch: { lastName: null, jobTitle: 'CTO', email: 'changed@example.com' },
    });
    const payload = res.data.updateContact;
    expect(payload.errors).toEqual([]);
    expect(payload.outcomes).toEqual([
      expect.objectContaining({
        provider: 'NOTIFUSE',
        status: 'UPDATED',
        remoteId: 'patch@example.com',
        droppedFields: ['email'],
      }),
    ]);
    expect(t.notifuse.controls.requests[0]!.body).toEqual({
      workspace_id: 'sandbox',
      contact: { email: 'patch@example.com', last_name: null, job_title: 'CTO' },
    });
    expect(payload.contact).toMatchObject({
      id: created.contact.id,
      lastName: null,
      jobTitle: 'CTO',
      firstName: 'P',
    });
  });

  it('answers NOT_FOUND for an unknown id and validates the patch first', async () => {
    const unknown = await t.gql<{ updateContact: WritePayload }>(UPDATE, {
      id: '00000000-0000-4000-8000-000000000000',
      patch: { firstName: 'X' },
    });
    expect(unknown.data.updateContact).toEqual({
      contact: null,
      outcomes: [],
      errors: [
        {
          field: 'id',
          code: 'NOT_FOUND',
          message: 'No contact has the gateway id 00000000-0000-4000-8000-000000000000',
        },
      ],
    });
    const bad = await t.gql<{ updateContact: WritePayload }>(UPDATE, {
      id: 'x',
      patch: { timezone: 'UTC+2' },
    });
    expect(bad.data.updateContact.errors).toEqual([
      expect.objectContaining({ field: 'patch.timezone', code: 'INVALID_TIMEZONE' }),
    ]);
  });
});

describe('identity across providers', () => {
  it('skips Notifuse for a phone-only contact, then links it once an email arrives', async () => {
    const phoneOnly = await upsert(
      { phone: '+14155550777', firstName: 'Phone' },
      { providers: ['NOTIFUSE'] },
    );
    expect(phoneOnly.outcomes).toEqual([
      expect.objectContaining({
        provider: 'NOTIFUSE',
        status: 'SKIPPED',
        attempts: 0,
        error: expect.objectContaining({ code: 'MISSING_REQUIRED_FIELD', retryable: false }),
      }),
    ]);
    expect(t.notifuse.controls.requestCount()).toBe(0);

    const notLinked = await t.gql<{ updateContact: WritePayload }>(UPDATE, {
      id: phoneOnly.contact.id,
      patch: { lastName: 'Only' },
      options: { providers: ['NOTIFUSE'] },
    });
    expect(notLinked.data.updateContact.outcomes).toEqual([
      expect.objectContaining({
        provider: 'NOTIFUSE',
        status: 'SKIPPED',
        error: expect.objectContaining({ code: 'PROVIDER_NOT_LINKED' }),
      }),
    ]);

    const linked = await upsert({ phone: '+14155550777', email: 'phone@example.com' });
    expect(linked.contact.id).toBe(phoneOnly.contact.id);
    expect(linked.outcomes[0]).toMatchObject({ status: 'CREATED', remoteId: 'phone@example.com' });
    expect(t.notifuse.store.get('phone@example.com')).toMatchObject({ phone: '+14155550777' });
  });

  it('does not merge two people who share a phone but not an email', async () => {
    const parent = await upsert({ email: 'parent@example.com', phone: '+14155550888' });
    const child = await upsert({ email: 'child@example.com', phone: '+14155550888' });
    expect(child.contact.id).not.toBe(parent.contact.id);
    expect(child.outcomes[0]).toMatchObject({
      status: 'CREATED',
      remoteId: 'child@example.com',
      droppedFields: [],
    });
  });
});

describe('providers', () => {
  it('lists every provider with its mode', async () => {
    const res = await t.gql<{ providers: Array<Record<string, unknown>> }>(
      `{ providers { provider enabled mode reason baseUrl maxBatchSize acceptedFields clearableFields } }`,
    );
    expect(res.data.providers.map((p) => [p['provider'], p['mode'], p['enabled']])).toEqual([
      ['DIGITAL_ONBOARDING', 'DISABLED', false],
      ['NOTIFUSE', 'SANDBOX', true],
      ['DOTDIGITAL', 'DISABLED', false],
      ['SALESFORCE_MC', 'DISABLED', false],
    ]);
    const notifuse = res.data.providers[1]!;
    expect(notifuse).toMatchObject({ baseUrl: t.notifuse.url, maxBatchSize: 500 });
    expect(notifuse['clearableFields']).not.toContain('email');
    expect(JSON.stringify(res.data)).not.toContain(SANDBOX_CREDENTIALS.notifuse.apiKey);
  });
});
