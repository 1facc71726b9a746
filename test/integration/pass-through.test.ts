import { describe, expect, it } from 'vitest';
import { type TestGateway, useTestGateway } from '../helpers/gateway.js';
import { upsertOne } from '../helpers/operations.js';

// #15 item 9: providerOptions.<provider>.passThrough, merged into the wire body after mapping,
// shown in dry runs, refused (InputError naming the field) where it would overwrite a mapped
// field or break the provider's OpenAPI document, bounded by GATEWAY_MAX_JSON_*.
const UPSERT = upsertOne(
  'outcomes { provider status request error { code message details } } errors { field code message }',
);

interface Payload {
  outcomes: Array<{
    provider: string;
    status: string;
    request: { method: string; body: Record<string, unknown> } | null;
    error: { code: string; message: string } | null;
  }>;
  errors: Array<{ field: string; code: string; message: string }>;
}

const t = useTestGateway({ RETRY_MAX_ATTEMPTS: '1', GATEWAY_OUTBOX: 'off' });

async function upsert(input: Record<string, unknown>, options: Record<string, unknown>) {
  const res = await t.gql<{ upsertContact: Payload }>(UPSERT, { input, options });
  expect(res.errors).toBeUndefined();
  return res.data.upsertContact;
}

function sent(sandbox: TestGateway['dotdigital'] | TestGateway['notifuse']) {
  return sandbox.controls.requests.filter((r) => r.method !== 'GET' && !r.path.startsWith('/v2/'));
}

describe('passThrough is merged after mapping, for all four providers', () => {
  it('Dotdigital: whatsApp and resubscribeOptions reach the PATCH, and the dry run shows them', async () => {
    const extra = {
      channelProperties: {
        whatsApp: { status: 'subscribed' },
        email: { resubscribeOptions: { resubscribeWithNoChallenge: true } },
      },
    };
    const input = {
      email: 'pt-dd@example.com',
      phone: '+447911123456',
      providerOptions: { dotdigital: { passThrough: extra } },
    };
    const dry = await upsert(input, { providers: ['DOTDIGITAL'], dryRun: true });
    expect(dry.outcomes[0]!.request!.body).toMatchObject(extra);
    const out = await upsert(input, { providers: ['DOTDIGITAL'] });
    expect(out.outcomes[0]!.status).toBe('CREATED');
    expect(sent(t.dotdigital).at(-1)!.body).toMatchObject(extra);
  });

  it('Notifuse: an extra column of ContactInput reaches contacts.upsert', async () => {
    const out = await upsert(
      {
        email: 'pt-nf@example.com',
        providerOptions: { notifuse: { passThrough: { custom_string_5: 'from pass-through' } } },
      },
      { providers: ['NOTIFUSE'] },
    );
    expect(out.outcomes[0]!.status).toBe('CREATED');
    expect(sent(t.notifuse).at(-1)!.body).toMatchObject({
      contact: { email: 'pt-nf@example.com', custom_string_5: 'from pass-through' },
    });
  });

  it('Salesforce MC: an attribute set beyond the map is sent and stored', async () => {
    const push = { 'MobilePush Demographics': { 'Device ID': 'dev-1', Application: 'app-1' } };
    const out = await upsert(
      {
        externalId: 'pt-sf-1',
        email: 'pt-sf@example.com',
        providerOptions: { salesforceMc: { passThrough: { attributeSets: push } } },
      },
      { providers: ['SALESFORCE_MC'] },
    );
    expect(out.errors).toEqual([]);
    expect(out.outcomes[0]!.status).toBe('CREATED');
    expect(t.salesforceMc.store.get('pt-sf-1')!.attributeSets['MobilePush Demographics']).toEqual({
      'Device ID': 'dev-1',
      Application: 'app-1',
    });
  });

  it('Digital Onboarding: an extra body key is merged (dry run), sent and stored', async () => {
    const input = {
      email: 'pt-do@example.com',
      providerOptions: { digitalOnboarding: { passThrough: { county: 'Kent' } } },
    };
    const out = await upsert(input, { providers: ['DIGITAL_ONBOARDING'], dryRun: true });
    expect(out.errors).toEqual([]);
    expect(JSON.stringify(out.outcomes[0]!.request!.body)).toContain('"county":"Kent"');
    expect(t.digitalOnboarding.controls.requests).toEqual([]);

    const written = await upsert(input, { providers: ['DIGITAL_ONBOARDING'] });
    expect(written.outcomes[0]!.status).toBe('CREATED');
    expect(t.digitalOnboarding.controls.requests.at(-1)!.body).toEqual({
      email: 'pt-do@example.com',
      county: 'Kent',
    });
    expect(t.digitalOnboarding.store.findByEmail('pt-do@example.com')).toMatchObject({
      county: 'Kent',
    });
  });
});

describe('passThrough refusals are InputErrors naming the field, and nothing is sent', () => {
  it.each([
    [
      'a mapped Dotdigital data field',
      {
        firstName: 'Ada',
        providerOptions: { dotdigital: { passThrough: { dataFields: { FIRSTNAME: 'X' } } } },
      },
      'input.providerOptions.dotdigital.passThrough.dataFields.FIRSTNAME',
      /would overwrite a field the gateway maps/,
    ],
    [
      'a value Dotdigital’s OpenAPI does not allow',
      {
        providerOptions: {
          dotdigital: { passThrough: { channelProperties: { whatsApp: { status: 'bogus' } } } },
        },
      },
      'input.providerOptions.dotdigital.passThrough',
      /OpenAPI document.*channelProperties\/whatsApp\/status/,
    ],
    [
      'a key Notifuse’s ContactInput does not define',
      { providerOptions: { notifuse: { passThrough: { not_a_column: 1 } } } },
      'input.providerOptions.notifuse.passThrough',
      /OpenAPI document.*not_a_column/,
    ],
    [
      'a mapped Notifuse column',
      { firstName: 'Ada', providerOptions: { notifuse: { passThrough: { first_name: 'X' } } } },
      'input.providerOptions.notifuse.passThrough.first_name',
      /would overwrite/,
    ],
    [
      'a mapped Salesforce MC attribute',
      {
        externalId: 'pt-sf-2',
        providerOptions: {
          salesforceMc: {
            passThrough: { attributeSets: { 'Email Addresses': { 'HTML Enabled': false } } },
          },
        },
      },
      'input.providerOptions.salesforceMc.passThrough.attributeSets.Email Addresses.HTML Enabled',
      /would overwrite an attribute/,
    ],
    [
      'a mapped Digital Onboarding field',
      { providerOptions: { digitalOnboarding: { passThrough: { email: 'other@example.com' } } } },
      'input.providerOptions.digitalOnboarding.passThrough.email',
      /would overwrite/,
    ],
  ])('%s', async (_name, extra, field, message) => {
    const out = await upsert({ email: 'pt-refused@example.com', ...extra }, {});
    expect(out.outcomes).toEqual([]);
    expect(out.errors).toEqual([
      expect.objectContaining({
        field,
        code: 'INVALID_VALUE',
        message: expect.stringMatching(message),
      }),
    ]);
    for (const s of [t.dotdigital, t.notifuse, t.salesforceMc, t.digitalOnboarding]) {
      expect(s.controls.requests.filter((r) => r.path !== '/v2/token')).toEqual([]);
    }
  });

  it('the JSON limits of customFields apply (GATEWAY_MAX_JSON_DEPTH)', async () => {
    const deep = { a: { b: { c: { d: { e: { f: 1 } } } } } };
    const out = await upsert(
      { email: 'pt-deep@example.com', providerOptions: { notifuse: { passThrough: deep } } },
      {},
    );
    expect(out.errors).toEqual([
      expect.objectContaining({
        field: 'input.providerOptions.notifuse.passThrough',
        message: expect.stringMatching(/GATEWAY_MAX_JSON_DEPTH/),
      }),
    ]);
  });
});
