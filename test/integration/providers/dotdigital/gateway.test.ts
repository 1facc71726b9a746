import { describe, expect, it } from 'vitest';
import { SANDBOX_CREDENTIALS } from '../../../../src/sandbox-mode.js';
import { dotdigitalThrottled } from '../../../helpers/faults.js';
import { neverAnswers, useTestGateway } from '../../../helpers/gateway.js';
import {
  type OutcomeView,
  readOne,
  writeOperations,
  writePayload,
} from '../../../helpers/operations.js';

const { UPSERT, UPSERT_MANY, UPDATE } = writeOperations(
  writePayload(`id email phone firstName lastName emailFormat emailConsent { status optInType }
    address { postalCode } customFields records { provider remoteId }`),
);
const READ = readOne(`id email firstName lastName address { postalCode }
  emailConsent { status optInType } emailFormat records { provider remoteId } readErrors { provider }`);

type Outcome = Omit<OutcomeView, 'attempts' | 'durationMs'>;
interface Payload {
  contact: { id: string; [k: string]: unknown };
  outcomes: Outcome[];
  errors: Array<{ field: string; code: string }>;
}

const DD = { providers: ['DOTDIGITAL'] };
// One attempt per call: these tests pin how each answer is reported; retries are covered in
// test/integration/resilience/.
const t = useTestGateway({
  DOTDIGITAL_IMPORT_POLL_INTERVAL_MS: '10',
  RETRY_MAX_ATTEMPTS: '1',
  GATEWAY_OUTBOX: 'off',
});
const record = neverAnswers(SANDBOX_CREDENTIALS.dotdigital.password);

async function upsert(input: Record<string, unknown>, options: Record<string, unknown> = DD) {
  const res = await t.gql<{ upsertContact: Payload }>(UPSERT, { input, options });
  record(res);
  expect(res.errors).toBeUndefined();
  return res.data.upsertContact;
}

function patches() {
  return t.dotdigital.controls.requests.filter((r) => r.method === 'PATCH');
}

describe('upsertContact → Dotdigital sandbox', () => {
  it('creates (201) then updates (200) one email with the same gateway id and contactId', async () => {
    const first = await upsert({ email: 'dd@example.com', firstName: 'Dot', lastName: 'Digital' });
    expect(first.outcomes).toEqual([
      expect.objectContaining({
        provider: 'DOTDIGITAL',
        status: 'CREATED',
        droppedFields: [],
        error: null,
      }),
    ]);
    const contactId = first.outcomes[0]!.remoteId!;
    expect(contactId).toMatch(/^\d+$/);
    const second = await upsert({ email: 'dd@example.com', lastName: 'Updated' });
    expect(second.outcomes[0]).toMatchObject({ status: 'UPDATED', remoteId: contactId });
    expect(second.contact.id).toBe(first.contact.id);

    const [create, update] = patches();
    expect(create!.path).toBe('/contacts/v3/email/dd%40example.com');
    expect(create!.headers['authorization']).toBe(
      `Basic ${Buffer.from(`${SANDBOX_CREDENTIALS.dotdigital.username}:${SANDBOX_CREDENTIALS.dotdigital.password}`).toString('base64')}`,
    );
    expect(create!.body).toMatchObject({
      identifiers: { email: 'dd@example.com' },
      dataFields: { FIRSTNAME: 'Dot', LASTNAME: 'Digital' },
    });
    // Linked now: the second call addresses the contact by its contactId.
    expect(update!.path).toBe(`/contacts/v3/contactId/${contactId}`);
    expect(update!.body).toMatchObject({ dataFields: { LASTNAME: 'Updated' } });
    expect((update!.body as { dataFields: Record<string, unknown> }).dataFields).not.toHaveProperty(
      'FIRSTNAME',
    );
  });

  it('percent-encodes a + in the email', async () => {
    const res = await upsert({ email: 'first+tag@example.com', firstName: 'Plus' });
    expect(res.outcomes[0]).toMatchObject({ status: 'CREATED' });
    expect(patches()[0]!.path).toBe('/contacts/v3/email/first%2Btag%40example.com');
    const read = await t.gql<{ contact: { email: string; firstName: string } }>(READ, {
      email: 'first+tag@example.com',
    });
    expect(read.data.contact).toMatchObject({ email: 'first+tag@example.com', firstName: 'Plus' });
  });

  it('sends the merge option kebab-case in the query', async () => {
    await upsert({ email: 'merge@example.com', firstName: 'Kept' });
    const res = await upsert({
      email: 'merge@example.com',
      firstName: 'Ignored',
      lastName: 'Filled',
      providerOptions: { dotdigital: { mergeOption: 'OVERWRITE_IF_EMPTY' } },
    });
    expect(res.outcomes[0]!.status).toBe('UPDATED');
    expect(patches().at(-1)!.query['merge-option']).toBe('overwrite-if-empty');
    const read = await t.gql<{ contact: Record<string, unknown> }>(READ, {
      email: 'merge@example.com',
    });
    expect(read.data.contact).toMatchObject({ firstName: 'Kept', lastName: 'Filled' });
  });

  it('clears a data field with null, and reports an identifier it cannot clear', async () => {
    await upsert({ email: 'clear@example.com', firstName: 'Gone', lastName: 'Stays' });
    const res = await upsert({ email: 'clear@example.com', firstName: null, phone: null });
    expect(res.outcomes[0]).toMatchObject({ status: 'UPDATED' });
    expect(res.outcomes[0]!.droppedFields).toContain('phone');
    expect((patches().at(-1)!.body as { dataFields: Record<string, unknown> }).dataFields).toEqual({
      FIRSTNAME: null,
    });
    const read = await t.gql<{ contact: Record<string, unknown> }>(READ, {
      email: 'clear@example.com',
    });
    expect(read.data.contact).toMatchObject({ firstName: null, lastName: 'Stays' });
  });

  it('maps consent and format onto channelProperties and reads them back normalised', async () => {
    await upsert({
      email: 'consent@example.com',
      emailFormat: 'PLAIN_TEXT',
      emailConsent: { status: 'SUBSCRIBED', optInType: 'SINGLE' },
      providerOptions: { dotdigital: { lists: [7] } },
    });
    expect(patches()[0]!.body).toMatchObject({
      channelProperties: {
        email: { status: 'subscribed', optInType: 'single', emailType: 'plainText' },
      },
      lists: [7],
    });
    const read = await t.gql<{ contact: Record<string, unknown> }>(READ, {
      email: 'consent@example.com',
    });
    expect(read.data.contact).toMatchObject({
      emailFormat: 'PLAIN_TEXT',
      emailConsent: { status: 'SUBSCRIBED', optInType: 'SINGLE' },
    });
  });

  it('reports 409 contacts:idAlreadyExists as a non-retryable conflict', async () => {
    t.dotdigital.controls.inject({
      method: 'PATCH',
      faults: [
        {
          kind: 'status',
          status: 409,
          body: {
            errorCode: 'contacts:idAlreadyExists',
            description: 'Identifier already exists',
            details: [],
          },
        },
      ],
    });
    const res = await upsert({ email: 'conflict@example.com' });
    expect(res.outcomes[0]).toMatchObject({
      status: 'FAILED',
      error: { code: 'contacts:idAlreadyExists', httpStatus: 409, retryable: false },
    });
  });

  it('reports 429 as retryable and keeps the x-ratelimit headers', async () => {
    t.dotdigital.controls.inject({
      method: 'PATCH',
      faults: [dotdigitalThrottled(30)],
    });
    const res = await upsert({ email: 'limited@example.com' });
    expect(res.outcomes[0]).toMatchObject({
      status: 'FAILED',
      error: { httpStatus: 429, retryable: true },
    });
    expect(JSON.stringify(res.outcomes[0]!.error)).toContain('Medium');
  });

  it('one provider failing never fails another', async () => {
    t.dotdigital.controls.inject({
      faults: [
        { kind: 'status', status: 500, body: { errorCode: 'internal', description: 'down' } },
      ],
    });
    const res = await upsert(
      { email: 'both@example.com', firstName: 'Both' },
      { providers: ['NOTIFUSE', 'DOTDIGITAL'] },
    );
    const byProvider = Object.fromEntries(res.outcomes.map((o) => [o.provider, o]));
    expect(byProvider['NOTIFUSE']).toMatchObject({ status: 'CREATED' });
    expect(byProvider['DOTDIGITAL']).toMatchObject({
      status: 'FAILED',
      error: { httpStatus: 500, retryable: true },
    });
    expect(res.contact['records']).toEqual([
      { provider: 'NOTIFUSE', remoteId: 'both@example.com' },
    ]);
  });
});

describe('updateContact → Dotdigital by contactId', () => {
  it('patches by contactId at every provider the contact lives in', async () => {
    const created = await upsert(
      { email: 'upd@example.com', firstName: 'A' },
      { providers: ['NOTIFUSE', 'DOTDIGITAL'] },
    );
    const contactId = created.outcomes.find((o) => o.provider === 'DOTDIGITAL')!.remoteId!;
    t.dotdigital.controls.reset();
    const res = await t.gql<{ updateContact: Payload }>(UPDATE, {
      id: created.contact.id,
      patch: { lastName: 'B' },
    });
    expect(res.data.updateContact.outcomes.map((o) => [o.provider, o.status]).sort()).toEqual([
      ['DOTDIGITAL', 'UPDATED'],
      ['NOTIFUSE', 'UPDATED'],
    ]);
    expect(patches().map((r) => r.path)).toEqual([`/contacts/v3/contactId/${contactId}`]);
  });
});

describe('upsertContacts → Dotdigital import', () => {
  it('sends a batch of 300 through one import and matches every contact back', async () => {
    const inputs = Array.from({ length: 300 }, (_, i) => ({
      email: `imp${i}@example.com`,
      firstName: `I${i}`,
    }));
    const res = await t.gql<{
      upsertContacts: { items: Payload[]; summary: Record<string, number> };
    }>(UPSERT_MANY, {
      inputs,
      options: DD,
    });
    const { items, summary } = res.data.upsertContacts;
    expect(summary).toMatchObject({ total: 300, succeeded: 300, failed: 0 });
    const imports = t.dotdigital.controls.requests.filter(
      (r) => r.method === 'PUT' && r.path === '/contacts/v3/import',
    );
    expect(imports).toHaveLength(1);
    expect((imports[0]!.body as { contacts: unknown[] }).contacts).toHaveLength(300);
    const polls = t.dotdigital.controls.requests.filter((r) => r.method === 'GET').length;
    expect(summary['upstreamRequests']).toBe(1 + polls);
    for (const item of items) {
      expect(item.outcomes[0]).toMatchObject({
        status: 'CREATED',
        remoteId: expect.stringMatching(/^\d+$/),
      });
    }
    expect(new Set(items.map((i) => i.outcomes[0]!.remoteId)).size).toBe(300);
  });

  it('fails one bad contact of an import alone', async () => {
    const res = await t.gql<{
      upsertContacts: { items: Payload[]; summary: Record<string, number> };
    }>(UPSERT_MANY, {
      inputs: [
        { email: 'good1@example.com', firstName: 'G1' },
        // Valid for the gateway; the sandbox reports addresses at suppressed.example as globally
        // suppressed in the import's failures, as Dotdigital does for a suppressed address.
        { email: 'blocked@suppressed.example', firstName: 'B' },
        { email: 'good3@example.com', firstName: 'G3' },
      ],
      options: DD,
    });
    const { items, summary } = res.data.upsertContacts;
    expect(summary).toMatchObject({ total: 3, succeeded: 2, failed: 1 });
    const imports = t.dotdigital.controls.requests.filter((r) => r.method === 'PUT');
    expect(imports).toHaveLength(1);
    expect(items.map((i) => i.outcomes[0]!.status)).toEqual(['CREATED', 'FAILED', 'CREATED']);
    expect(items[1]!.outcomes[0]!.error).toMatchObject({
      code: 'globallySuppressed',
      retryable: false,
    });
    expect(items[1]!.outcomes[0]!.details).toMatchObject({ importId: expect.any(String) });
    const read = await t.gql<{ contact: Record<string, unknown> }>(READ, {
      email: 'good3@example.com',
    });
    expect(read.data.contact).toMatchObject({ firstName: 'G3' });
  });
});
