import { describe, expect, it } from 'vitest';
import type { ContactPatch } from '../../../../src/model/contact.js';
import { fromWireContact, toWireContact } from '../../../../src/providers/notifuse/mapping.js';

const base = { known: {} as ContactPatch, remoteId: null as string | null };

function wire(
  patch: ContactPatch,
  extra: Partial<typeof base> = {},
  map: Record<string, string> = {},
) {
  const r = toWireContact({ ...base, ...extra, patch }, map);
  if (!r.ok) {
    throw new Error(r.error.message);
  }
  return r;
}

describe('Notifuse mapping: unified → wire', () => {
  it.each<[string, ContactPatch, Record<string, unknown>]>([
    ['email', { email: 'ada@example.com' }, { email: 'ada@example.com' }],
    ['externalId', { email: 'a@x.io', externalId: 'crm-1' }, { external_id: 'crm-1' }],
    ['phone', { email: 'a@x.io', phone: '+14155550123' }, { phone: '+14155550123' }],
    ['firstName', { email: 'a@x.io', firstName: 'Ada' }, { first_name: 'Ada' }],
    ['lastName', { email: 'a@x.io', lastName: 'Lovelace' }, { last_name: 'Lovelace' }],
    ['jobTitle', { email: 'a@x.io', jobTitle: 'Analyst' }, { job_title: 'Analyst' }],
    [
      'address.line1',
      { email: 'a@x.io', address: { line1: '1 Main St' } },
      { address_line_1: '1 Main St' },
    ],
    [
      'address.line2',
      { email: 'a@x.io', address: { line2: 'Apt 4' } },
      { address_line_2: 'Apt 4' },
    ],
    ['address.state', { email: 'a@x.io', address: { state: 'NY' } }, { state: 'NY' }],
    [
      'address.postalCode',
      { email: 'a@x.io', address: { postalCode: '10001' } },
      { postcode: '10001' },
    ],
    ['address.country', { email: 'a@x.io', address: { country: 'US' } }, { country: 'US' }],
    [
      'timezone',
      { email: 'a@x.io', timezone: 'America/New_York' },
      { timezone: 'America/New_York' },
    ],
    ['language', { email: 'a@x.io', language: 'en-US' }, { language: 'en-US' }],
    [
      'customFields column',
      { email: 'a@x.io', customFields: { custom_number_1: 42 } },
      { custom_number_1: 42 },
    ],
  ])('maps %s', (_name, patch, expected) => {
    expect(wire(patch).contact).toMatchObject(expected);
  });

  it('sends only what the patch carries (omitted stays omitted) and null as null', () => {
    const r = wire({ email: 'a@x.io', firstName: null, lastName: 'L' });
    expect(r.contact).toEqual({ email: 'a@x.io', first_name: null, last_name: 'L' });
    expect(r.clears).toBe(true);
    expect(wire({ email: 'a@x.io', lastName: 'L' }).clears).toBe(false);
  });

  it('lists what Notifuse cannot take in droppedFields', () => {
    const r = wire({
      email: 'a@x.io',
      homePhone: '+14155550123',
      workPhone: '+14155550124',
      namePrefix: 'Dr',
      nameSuffix: 'Jr',
      birthdate: '1990-01-01',
      address: { city: 'Paris', county: 'Kent' },
      emailFormat: 'HTML',
      emailConsent: { status: 'SUBSCRIBED' },
      smsConsent: { verified: true },
      customFields: { plan: 'pro' },
    });
    expect(r.contact).toEqual({ email: 'a@x.io' });
    expect(r.droppedFields.sort()).toEqual(
      [
        'homePhone',
        'workPhone',
        'namePrefix',
        'nameSuffix',
        'birthdate',
        'address.city',
        'address.county',
        'emailFormat',
        'emailConsent.status',
        'smsConsent.verified',
        'customFields.plan',
      ].sort(),
    );
  });

  it('clears a whole address with null, reporting the leaves it does not hold', () => {
    const r = wire({ email: 'a@x.io', address: null });
    expect(r.contact).toEqual({
      email: 'a@x.io',
      address_line_1: null,
      address_line_2: null,
      state: null,
      postcode: null,
      country: null,
    });
    expect(r.droppedFields.sort()).toEqual(['address.city', 'address.county']);
  });

  it('maps custom field keys through the configured map and checks column types', () => {
    const map = {
      plan: 'custom_string_1',
      score: 'custom_number_2',
      since: 'custom_datetime_1',
      prefs: 'custom_json_1',
    };
    expect(
      wire(
        {
          email: 'a@x.io',
          customFields: { plan: 'pro', score: 7, since: '2024-01-01T00:00:00Z', prefs: { a: 1 } },
        },
        {},
        map,
      ).contact,
    ).toEqual({
      email: 'a@x.io',
      custom_string_1: 'pro',
      custom_number_2: 7,
      custom_datetime_1: '2024-01-01T00:00:00Z',
      custom_json_1: { a: 1 },
    });
    const bad = toWireContact(
      { ...base, patch: { email: 'a@x.io', customFields: { score: 'seven' } } },
      map,
    );
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error).toMatchObject({ code: 'BAD_REQUEST', retryable: false });
    expect(!bad.ok && bad.error.message).toContain('customFields.score must be a number');
  });

  it('refuses values longer than Notifuse columns instead of failing a whole import chunk', () => {
    const r = toWireContact({
      ...base,
      patch: { email: 'a@x.io', address: { postalCode: 'x'.repeat(21) } },
    });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.message).toContain('postcode');
  });

  it('uses the stored email of a linked contact and never changes it (email is the key)', () => {
    const r = wire({ email: 'new@x.io', firstName: 'A' }, { remoteId: 'old@x.io' });
    expect(r.contact).toEqual({ email: 'old@x.io', first_name: 'A' });
    expect(r.droppedFields).toEqual(['email']);
    const cleared = wire({ email: null }, { remoteId: 'old@x.io' });
    expect(cleared.droppedFields).toEqual(['email']);
  });

  it('takes the email from the identity map when the patch has none', () => {
    expect(wire({ firstName: 'A' }, { known: { email: 'k@x.io' } }).contact.email).toBe('k@x.io');
  });

  it('skips a contact with no email at all', () => {
    const r = toWireContact({ ...base, patch: { phone: '+14155550123' } });
    expect(r).toMatchObject({
      ok: false,
      status: 'SKIPPED',
      error: { code: 'MISSING_REQUIRED_FIELD' },
    });
  });
});

describe('Notifuse mapping: wire → unified', () => {
  it('maps a Notifuse contact back, ignoring what has no unified field', () => {
    const r = fromWireContact(
      {
        email: 'Ada@Example.com',
        external_id: 'crm-1',
        first_name: 'Ada',
        last_name: 'Lovelace',
        full_name: 'Ada Lovelace',
        phone: '+14155550123',
        address_line_1: '1 Main',
        address_line_2: 'Apt 4',
        state: 'NY',
        postcode: '10001',
        country: 'US',
        job_title: 'Analyst',
        timezone: 'America/New_York',
        language: 'en-US',
        custom_string_1: 'pro',
        custom_json_2: { a: 1 },
        contact_lists: [{ list_id: 'news', status: 'active' }],
        created_at: '2024-01-01T00:00:00Z',
        updated_at: '2024-02-01T00:00:00Z',
        lifetime_value: 12,
      },
      { plan: 'custom_string_1' },
    );
    expect(r).toEqual({
      remoteId: 'ada@example.com',
      createdAt: '2024-01-01T00:00:00Z',
      updatedAt: '2024-02-01T00:00:00Z',
      contact: {
        email: 'ada@example.com',
        externalId: 'crm-1',
        firstName: 'Ada',
        lastName: 'Lovelace',
        phone: '+14155550123',
        jobTitle: 'Analyst',
        timezone: 'America/New_York',
        language: 'en-US',
        address: {
          line1: '1 Main',
          line2: 'Apt 4',
          state: 'NY',
          postalCode: '10001',
          country: 'US',
        },
        customFields: { plan: 'pro', custom_json_2: { a: 1 } },
      },
    });
  });

  it('is lenient: nulls, missing keys and wrong types are simply absent', () => {
    expect(fromWireContact({ email: 'a@x.io', first_name: null, phone: 12 }).contact).toEqual({
      email: 'a@x.io',
    });
  });

  it('round-trips every field it accepts', () => {
    const patch: ContactPatch = {
      email: 'a@x.io',
      externalId: 'e',
      phone: '+14155550123',
      firstName: 'F',
      lastName: 'L',
      jobTitle: 'J',
      timezone: 'UTC',
      language: 'fr',
      address: { line1: '1', line2: '2', state: 'S', postalCode: 'P', country: 'FR' },
      customFields: { custom_string_3: 'x' },
    };
    expect(fromWireContact(wire(patch).contact).contact).toEqual(patch);
  });
});
