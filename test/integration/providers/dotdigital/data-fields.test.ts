import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestGateway, type TestGateway, useTestGateway } from '../../../helpers/gateway.js';
import { writeOperations, writePayload } from '../../../helpers/operations.js';

// #15 items 2 and 3: what a Dotdigital account cannot take is listed in droppedFields, each with
// its reason in `details.droppedFieldReasons`, never sent and lost silently.
const { UPSERT, UPSERT_MANY } = writeOperations(
  writePayload(
    '',
    'provider status remoteId droppedFields details request error { code message httpStatus retryable details }',
  ),
);

interface Outcome {
  provider: string;
  status: string;
  droppedFields: string[];
  details: { droppedFieldReasons?: Record<string, string>; [k: string]: unknown } | null;
  request: { url: string; body: Record<string, unknown> } | null;
  error: { code: string; message: string } | null;
}
interface Payload {
  outcomes: Outcome[];
  errors: Array<{ field: string; code: string }>;
}

const DD = { providers: ['DOTDIGITAL'] };
const t = useTestGateway(
  { DOTDIGITAL_IMPORT_POLL_INTERVAL_MS: '10', RETRY_MAX_ATTEMPTS: '1', GATEWAY_OUTBOX: 'off' },
  { only: ['DOTDIGITAL'] },
);

async function upsert(input: Record<string, unknown>, options: Record<string, unknown> = DD) {
  const res = await t.gql<{ upsertContact: Payload }>(UPSERT, { input, options });
  expect(res.errors).toBeUndefined();
  expect(res.data.upsertContact.errors).toEqual([]);
  return res.data.upsertContact.outcomes[0]!;
}

function dataFieldsOf(email: string): Record<string, unknown> {
  return t.dotdigital.store.getByEmail(email)?.dataFields ?? {};
}

function lastWriteBody(): Record<string, unknown> {
  const writes = t.dotdigital.controls.requests.filter(
    (r) => r.method === 'PATCH' || r.method === 'PUT',
  );
  return writes.at(-1)!.body as Record<string, unknown>;
}

describe('merge options that cannot clear (#15 item 2)', () => {
  it.each([
    ['OVERWRITE_IF_NOT_EMPTY', 'overwrite-if-not-empty'],
    ['OVERWRITE_IF_EMPTY', 'overwrite-if-empty'],
  ])('%s: every null is dropped with its reason, nothing is cleared', async (option, query) => {
    const email = `keep-${query}@example.com`;
    await upsert({
      email,
      firstName: 'Ada',
      lastName: 'Byron',
      address: { postalCode: 'N1' },
      customFields: { gender: 'f' },
    });
    const out = await upsert({
      email,
      firstName: null,
      lastName: null,
      address: { postalCode: null },
      customFields: { gender: null },
      jobTitle: 'Countess',
      providerOptions: { dotdigital: { mergeOption: option } },
    });
    expect(out.status).toBe('UPDATED');
    const nulls = ['firstName', 'lastName', 'address.postalCode', 'customFields.gender'];
    expect(out.droppedFields).toEqual(expect.arrayContaining(nulls));
    const reasons = out.details?.droppedFieldReasons ?? {};
    for (const field of nulls) {
      expect(reasons[field]).toMatch(new RegExp(`${option}.*cannot clear`));
    }
    const sent = lastWriteBody();
    expect(JSON.stringify(sent)).not.toContain('null');
    expect(t.dotdigital.controls.requests.at(-1)!.query['merge-option']).toBe(query);
    expect(dataFieldsOf(email)).toMatchObject({
      FIRSTNAME: 'Ada',
      LASTNAME: 'Byron',
      POSTCODE: 'N1',
      GENDER: 'f',
    });
  });

  it('OVERWRITE still clears with null and drops nothing', async () => {
    await upsert({ email: 'ow@example.com', firstName: 'Ada' });
    const out = await upsert({
      email: 'ow@example.com',
      firstName: null,
      providerOptions: { dotdigital: { mergeOption: 'OVERWRITE' } },
    });
    expect(out.droppedFields).toEqual([]);
    expect(out.details?.droppedFieldReasons).toBeUndefined();
    expect(dataFieldsOf('ow@example.com')['FIRSTNAME']).toBeUndefined();
  });

  it('a dry run shows the same drops and reasons', async () => {
    const out = await upsert(
      {
        email: 'dry-merge@example.com',
        firstName: null,
        providerOptions: { dotdigital: { mergeOption: 'OVERWRITE_IF_NOT_EMPTY' } },
      },
      { ...DD, dryRun: true },
    );
    expect(out.status).toBe('DRY_RUN');
    expect(out.droppedFields).toContain('firstName');
    expect(out.details?.droppedFieldReasons?.['firstName']).toMatch(/cannot clear/);
    expect(out.request!.body['dataFields']).toBeUndefined();
  });

  it('an import under OVERWRITE_IF_EMPTY reports the nulls of every contact', async () => {
    const res = await t.gql<{ upsertContacts: { items: Payload[] } }>(UPSERT_MANY, {
      inputs: ['imp-a', 'imp-b'].map((n) => ({
        email: `${n}@example.com`,
        firstName: 'Set',
        lastName: null,
        providerOptions: { dotdigital: { mergeOption: 'OVERWRITE_IF_EMPTY' } },
      })),
      options: DD,
    });
    const body = lastWriteBody();
    expect(body['mergeOption']).toBe('overwriteIfEmpty');
    expect(JSON.stringify(body)).not.toContain('LASTNAME');
    for (const item of res.data.upsertContacts.items) {
      const out = item.outcomes[0]!;
      expect(out.status).toBe('CREATED');
      expect(out.droppedFields).toEqual(['lastName']);
      expect(out.details).toMatchObject({
        importId: expect.any(String),
        droppedFieldReasons: { lastName: expect.stringMatching(/OVERWRITE_IF_EMPTY/) },
      });
    }
  });
});

function dataFieldCalls(method: string) {
  return t.dotdigital.controls.requests.filter(
    (r) => r.method === method && r.path === '/v2/data-fields',
  );
}

describe('data fields the account lacks (#15 item 3)', () => {
  it('sends only the data fields the account has; the others are dropped with a reason', async () => {
    const out = await upsert({
      email: 'fields@example.com',
      firstName: 'Ada',
      customFields: { plan: 'gold', gender: 'f' },
    });
    expect(out.status).toBe('CREATED');
    expect(out.droppedFields).toEqual(['customFields.plan']);
    expect(out.details?.droppedFieldReasons?.['customFields.plan']).toMatch(
      /account has no data field PLAN.*DOTDIGITAL_CREATE_DATA_FIELDS=1/,
    );
    const sent = lastWriteBody()['dataFields'];
    expect(sent).toEqual({ FIRSTNAME: 'Ada', GENDER: 'f' });
    expect(dataFieldsOf('fields@example.com')).toMatchObject({ FIRSTNAME: 'Ada', GENDER: 'f' });

    // The list is cached: the next write reads it no more.
    await upsert({ email: 'fields2@example.com', customFields: { plan: 'x' } });
    expect(dataFieldCalls('GET')).toHaveLength(0);
  });

  it('a dry run and an import drop them too, and the import still creates every contact', async () => {
    const dry = await upsert(
      { email: 'fields-dry@example.com', customFields: { nope: 1 } },
      { ...DD, dryRun: true },
    );
    expect(dry.droppedFields).toEqual(['customFields.nope']);
    expect(dry.request!.body['dataFields']).toBeUndefined();

    const res = await t.gql<{ upsertContacts: { items: Payload[] } }>(UPSERT_MANY, {
      inputs: ['fa', 'fb'].map((n) => ({
        email: `${n}@example.com`,
        lastName: n,
        customFields: { nope: n },
      })),
      options: DD,
    });
    for (const item of res.data.upsertContacts.items) {
      expect(item.outcomes[0]).toMatchObject({
        status: 'CREATED',
        droppedFields: ['customFields.nope'],
      });
    }
    expect(JSON.stringify(lastWriteBody())).not.toContain('NOPE');
  });
});

describe('DOTDIGITAL_CREATE_DATA_FIELDS=1', () => {
  let c: TestGateway;
  beforeAll(async () => {
    c = await createTestGateway(
      {
        DOTDIGITAL_CREATE_DATA_FIELDS: '1',
        RETRY_MAX_ATTEMPTS: '1',
        GATEWAY_OUTBOX: 'off',
      },
      { only: ['DOTDIGITAL'] },
    );
  });
  afterAll(async () => {
    await c.close();
  });

  it('creates a missing data field (type from the value) before the write', async () => {
    const res = await c.gql<{ upsertContact: Payload }>(UPSERT, {
      input: { email: 'create@example.com', customFields: { tier: 3, vip: true, note: 'hi' } },
      options: DD,
    });
    const out = res.data.upsertContact.outcomes[0]!;
    expect(out.status).toBe('CREATED');
    expect(out.droppedFields).toEqual([]);
    const posts = c.dotdigital.controls.requests.filter(
      (r) => r.method === 'POST' && r.path === '/v2/data-fields',
    );
    expect(posts.map((p) => p.body)).toEqual([
      { name: 'TIER', type: 'Numeric', visibility: 'Private' },
      { name: 'VIP', type: 'Boolean', visibility: 'Private' },
      { name: 'NOTE', type: 'String', visibility: 'Private' },
    ]);
    expect(c.dotdigital.store.getByEmail('create@example.com')?.dataFields).toMatchObject({
      TIER: 3,
      VIP: true,
      NOTE: 'hi',
    });
    // A name Dotdigital cannot create (over 20 characters) is dropped with its reason.
    const long = await c.gql<{ upsertContact: Payload }>(UPSERT, {
      input: { email: 'create@example.com', customFields: { aVeryLongCustomFieldName: 1 } },
      options: DD,
    });
    expect(long.data.upsertContact.outcomes[0]!.droppedFields).toEqual([
      'customFields.aVeryLongCustomFieldName',
    ]);
  });
});
