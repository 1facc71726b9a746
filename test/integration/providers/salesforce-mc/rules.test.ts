import { describe, expect, it } from 'vitest';
import { useTestGateway } from '../../../helpers/gateway.js';
import { writeOperations, writePayload } from '../../../helpers/operations.js';

// #15 item 5: the rules of seed 004 (SFMC createContacts) as the sandbox now checks them on the
// request as sent, and what the adapter does about them.
const { UPSERT, UPDATE } = writeOperations(
  writePayload(
    'id',
    'provider status remoteId droppedFields attempts details request error { code message httpStatus retryable }',
  ),
);

interface Outcome {
  status: string;
  droppedFields: string[];
  details: { droppedFieldReasons?: Record<string, string>; [k: string]: unknown } | null;
  request: { method: string; body: { attributeSets: AttributeSet[] } } | null;
  error: { code: string; message: string } | null;
}
interface AttributeSet {
  name: string;
  items: Array<{ values: Array<{ name: string; value: unknown }> }>;
}
interface Payload {
  contact: { id: string } | null;
  outcomes: Outcome[];
  errors: unknown[];
}

const SF = { providers: ['SALESFORCE_MC'] };
const t = useTestGateway(
  { RETRY_MAX_ATTEMPTS: '1', GATEWAY_OUTBOX: 'off' },
  { only: ['SALESFORCE_MC'] },
);

async function upsert(input: Record<string, unknown>, options: Record<string, unknown> = SF) {
  const res = await t.gql<{ upsertContact: Payload }>(UPSERT, { input, options });
  expect(res.errors).toBeUndefined();
  return res.data.upsertContact;
}

function writes() {
  return t.salesforceMc.controls.requests.filter((r) => r.path === '/contacts/v1/contacts');
}

function setsOf(body: unknown): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const set of (body as { attributeSets: AttributeSet[] }).attributeSets) {
    out[set.name] = Object.fromEntries(set.items[0]!.values.map((v) => [v.name, v.value]));
  }
  return out;
}

describe('Salesforce MC rules of seed 004', () => {
  it('a PATCH that sends Email Demographics also sends Email Addresses', async () => {
    const created = await upsert({ email: 'demo@example.com', firstName: 'Ada' });
    expect(created.outcomes[0]!.status).toBe('CREATED');
    const res = await t.gql<{ updateContact: Payload }>(UPDATE, {
      id: created.contact!.id,
      patch: { lastName: 'Lovelace' },
      options: SF,
    });
    expect(res.data.updateContact.outcomes[0]!.status).toBe('UPDATED');
    const patch = writes().at(-1)!;
    expect(patch.method).toBe('PATCH');
    const sets = setsOf(patch.body);
    expect(sets['Email Demographics']).toEqual({ 'Last Name': 'Lovelace' });
    // The address only: HTML Enabled of the stored contact is not touched.
    expect(sets['Email Addresses']).toEqual({ 'Email Address': 'demo@example.com' });
  });

  it('the sandbox refuses Email Demographics sent without Email Addresses, though the contact has them', async () => {
    await upsert({ email: 'raw@example.com', firstName: 'Raw' });
    const token = await fetch(`${t.salesforceMc.url}/v2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'client_credentials',
        client_id: t.sandboxes.config.salesforceMc!.clientId,
        client_secret: t.sandboxes.config.salesforceMc!.clientSecret.reveal(),
      }),
    }).then((r) => r.json() as Promise<{ access_token: string; rest_instance_url: string }>);
    const res = await fetch(new URL('contacts/v1/contacts', token.rest_instance_url), {
      method: 'PATCH',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${token.access_token}`,
      },
      body: JSON.stringify({
        contactKey: 'raw@example.com',
        attributeSets: [
          { name: 'Email Demographics', items: [{ values: [{ name: 'Last Name', value: 'X' }] }] },
        ],
      }),
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toMatch(
      /Email Demographics' must be sent with attribute set 'Email Addresses/,
    );
  });

  it('Locale comes from the calling code before the address country', async () => {
    // +1 555… has no region for libphonenumber; its calling code 1 is the US's.
    const out = await upsert(
      { email: 'locale@example.com', phone: '+15555550123', address: { country: 'FR' } },
      { ...SF, dryRun: true },
    );
    const sets = setsOf(out.outcomes[0]!.request!.body);
    expect(sets['MobileConnect Demographics']).toMatchObject({
      'Mobile Number': '15555550123',
      Locale: 'US',
    });
  });

  it('a key the gateway has not linked is looked up first, and an existing contact keeps HTML Enabled and Status', async () => {
    // Made in SFMC by someone else: plain-text email, MobileConnect status 2.
    t.salesforceMc.store.save('elsewhere@example.com', {
      'Email Addresses': { 'Email Address': 'elsewhere@example.com', 'HTML Enabled': false },
      'MobileConnect Demographics': { 'Mobile Number': '447911123456', Locale: 'GB', Status: 2 },
    });
    const out = await upsert({ email: 'elsewhere@example.com', firstName: 'Kept' });
    expect(out.outcomes[0]).toMatchObject({ status: 'UPDATED', error: null });
    const requests = t.salesforceMc.controls.requests.filter((r) => r.path !== '/v2/token');
    expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /contacts/v1/addresses/search/ContactKey',
      'PATCH /contacts/v1/contacts',
    ]);
    expect(requests[0]!.body).toEqual({
      filterConditionOperator: 'Is',
      filterConditionValue: 'elsewhere@example.com',
    });
    const stored = t.salesforceMc.store.get('elsewhere@example.com')!.attributeSets;
    expect(stored['Email Addresses']).toMatchObject({ 'HTML Enabled': false });
    expect(stored['MobileConnect Demographics']).toMatchObject({ Status: 2 });
    expect(stored['Email Demographics']).toEqual({ 'First Name': 'Kept' });

    // A key nobody has is created with the defaults, after the same look-up.
    t.salesforceMc.controls.reset();
    const fresh = await upsert({ email: 'fresh@example.com' });
    expect(fresh.outcomes[0]!.status).toBe('CREATED');
    expect(
      t.salesforceMc.controls.requests
        .filter((r) => r.path !== '/v2/token')
        .map((r) => `${r.method} ${r.path}`),
    ).toEqual(['POST /contacts/v1/addresses/search/ContactKey', 'POST /contacts/v1/contacts']);
  });

  it('a create without an email says which attribute set carries HTML Enabled', async () => {
    const out = await upsert({
      externalId: 'no-email-1',
      phone: '+447911123456',
      emailFormat: 'PLAIN_TEXT',
      firstName: 'Phone',
    });
    const o = out.outcomes[0]!;
    expect(o.droppedFields).toEqual(expect.arrayContaining(['emailFormat', 'firstName']));
    expect(o.details?.droppedFieldReasons?.['emailFormat']).toMatch(
      /Email Addresses \(which carries HTML Enabled\)/,
    );
  });
});
