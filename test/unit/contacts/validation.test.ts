import { describe, expect, it } from 'vitest';
import { validateContactInput } from '../../../src/contacts/validation.js';

function check(input: Record<string, unknown>, path = 'input', requireIdentity = true) {
  return validateContactInput(input, path, { requireIdentity });
}

function errorsOf(input: Record<string, unknown>) {
  const r = check(input);
  return r.ok ? [] : r.errors.map((e) => [e.field, e.code]);
}

function normalised(input: Record<string, unknown>) {
  const r = check(input);
  if (!r.ok) {
    throw new Error(JSON.stringify(r.errors));
  }
  return r.value.patch;
}

describe('validateContactInput', () => {
  it('refuses a NUL character in a string or inside customFields, naming the field', () => {
    expect(errorsOf({ email: 'nul@example.com', firstName: 'A\u0000B' })).toEqual([
      ['input.firstName', 'INVALID_VALUE'],
    ]);
    expect(
      errorsOf({
        email: 'nul@example.com',
        customFields: { note: { deep: ['x\u0000'] }, ok: 'y' },
      }),
    ).toEqual([['input.customFields.note', 'INVALID_VALUE']]);
    expect(
      errorsOf({
        email: 'nul@example.com',
        providerOptions: { notifuse: { passThrough: { custom_string_5: ['x\u0000'] } } },
      }),
    ).toEqual([['input.providerOptions.notifuse.passThrough', 'INVALID_VALUE']]);
  });

  it.each([
    ['ada@example.com', 'ada@example.com'],
    ['  Ada.Lovelace+news@Example.COM ', 'ada.lovelace+news@example.com'],
    ["o'brien@sub.example.co.uk", "o'brien@sub.example.co.uk"],
  ])('accepts and normalises email %j', (raw, expected) => {
    expect(normalised({ email: raw }).email).toBe(expected);
  });

  it.each([
    'not-an-email',
    'ada@',
    '@example.com',
    'ada@example',
    'a b@example.com',
    'ada@@example.com',
  ])('refuses email %j on input.email', (raw) => {
    expect(errorsOf({ email: raw })).toEqual([['input.email', 'INVALID_EMAIL']]);
  });

  it.each(['+14155550123', '+447911123456', '+33612345678', '+15551234567'])(
    'accepts E.164 phone %j',
    (raw) => {
      expect(normalised({ email: 'a@example.com', phone: raw, workPhone: raw }).phone).toBe(raw);
    },
  );

  it.each([
    '4155550123',
    '+1 415 555 0123',
    '+1-415-555-0123',
    '(415) 555-0123',
    '+0123456789',
    '+12',
    '+1415555012345678',
  ])('refuses phone %j', (raw) => {
    expect(errorsOf({ email: 'a@example.com', homePhone: raw })).toEqual([
      ['input.homePhone', 'INVALID_PHONE'],
    ]);
  });

  it.each([
    ['America/New_York', 'America/New_York'],
    ['Europe/London', 'Europe/London'],
    ['UTC', 'UTC'],
    ['america/new_york', 'America/New_York'],
    // The caller's current IANA name is kept: ICU would answer the legacy links (#15 item 4).
    ['Asia/Kolkata', 'Asia/Kolkata'],
    ['Europe/Kyiv', 'Europe/Kyiv'],
    ['Asia/Ho_Chi_Minh', 'Asia/Ho_Chi_Minh'],
    ['America/Nuuk', 'America/Nuuk'],
  ])('accepts IANA time zone %j', (raw, expected) => {
    expect(normalised({ email: 'a@example.com', timezone: raw }).timezone).toBe(expected);
  });

  it.each(['+01:00', '-05:00', '\u221205:00', 'UTC\u22123', 'GMT +2'])(
    'refuses %j as a UTC offset (plus, hyphen-minus and minus sign)',
    (raw) => {
      const r = check({ email: 'a@example.com', timezone: raw });
      expect(r.ok ? null : r.errors[0]?.message).toMatch(/UTC offsets are not accepted/);
    },
  );

  it.each(['A1/Zone', 'Z9', 'Europe9'])(
    'says %j is an unknown zone, not an offset (the sign class is three signs, not a range)',
    (raw) => {
      const r = check({ email: 'a@example.com', timezone: raw });
      expect(r.ok ? null : r.errors[0]?.message).toMatch(/is not a known IANA time zone/);
    },
  );

  it.each(['+01:00', '-05:00', 'UTC+1', 'GMT-5', 'utc+05:30', 'Mars/Olympus', 'EST5EDT/Nowhere'])(
    'refuses time zone %j (UTC offsets and unknown names)',
    (raw) => {
      expect(errorsOf({ email: 'a@example.com', timezone: raw })).toEqual([
        ['input.timezone', 'INVALID_TIMEZONE'],
      ]);
    },
  );

  it.each(['1990-02-28', '2000-02-29', '1900-01-01'])('accepts date %j', (raw) => {
    expect(normalised({ email: 'a@example.com', birthdate: raw }).birthdate).toBe(raw);
  });

  it.each([
    '1990-02-30',
    '1999-02-29',
    '1990-13-01',
    '90-01-01',
    '1990/01/01',
    '1990-1-1',
    '2990-01-01',
    '1990-01-01T00:00:00Z',
  ])('refuses date %j', (raw) => {
    expect(errorsOf({ email: 'a@example.com', birthdate: raw })).toEqual([
      ['input.birthdate', 'INVALID_DATE'],
    ]);
  });

  it.each([
    ['US', 'US'],
    ['gb', 'GB'],
    ['De', 'DE'],
  ])('accepts country %j as %j', (raw, expected) => {
    expect(normalised({ email: 'a@example.com', address: { country: raw } }).address?.country).toBe(
      expected,
    );
  });

  it.each(['USA', 'UK', 'XX', 'U', 'United States', '840'])(
    'refuses country %j on input.address.country',
    (raw) => {
      expect(errorsOf({ email: 'a@example.com', address: { country: raw } })).toEqual([
        ['input.address.country', 'INVALID_COUNTRY'],
      ]);
    },
  );

  it('canonicalises language tags and refuses bad ones', () => {
    expect(normalised({ email: 'a@example.com', language: 'en-us' }).language).toBe('en-US');
    expect(errorsOf({ email: 'a@example.com', language: 'english please' })).toEqual([
      ['input.language', 'INVALID_LANGUAGE'],
    ]);
  });

  it('keeps omitted keys absent and null as null (null clears)', () => {
    const patch = normalised({
      email: 'a@example.com',
      firstName: null,
      address: { city: null, line1: 'x' },
    });
    expect(patch).toEqual({
      email: 'a@example.com',
      firstName: null,
      address: { city: null, line1: 'x' },
    });
    expect('lastName' in patch).toBe(false);
  });

  it('refuses empty strings with a hint to send null', () => {
    const r = check({ email: 'a@example.com', firstName: '   ' });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.errors[0]).toMatchObject({ field: 'input.firstName', code: 'INVALID_VALUE' });
    expect(!r.ok && r.errors[0]?.message).toMatch(/null to clear/);
  });

  it('reports every bad field at once, with the caller’s path', () => {
    const r = validateContactInput(
      { email: 'nope', phone: '123', address: { country: 'ZZ' }, timezone: '+02:00' },
      'inputs.3',
      { requireIdentity: true },
    );
    expect(r.ok ? [] : r.errors.map((e) => e.field)).toEqual([
      'inputs.3.email',
      'inputs.3.phone',
      'inputs.3.address.country',
      'inputs.3.timezone',
    ]);
  });

  it('requires an identity key on upserts but not on patches', () => {
    expect(errorsOf({ firstName: 'Ada' })).toEqual([['input', 'IDENTITY_REQUIRED']]);
    expect(errorsOf({ externalId: 'crm-1' })).toEqual([]);
    expect(errorsOf({ phone: '+14155550123' })).toEqual([]);
    expect(check({ firstName: 'Ada' }, 'patch', false).ok).toBe(true);
  });

  it('checks customFields keys and string lengths', () => {
    expect(errorsOf({ email: 'a@example.com', customFields: { 'bad key': 1 } })).toEqual([
      ['input.customFields.bad key', 'INVALID_VALUE'],
    ]);
    expect(errorsOf({ email: 'a@example.com', jobTitle: 'x'.repeat(256) })).toEqual([
      ['input.jobTitle', 'INVALID_VALUE'],
    ]);
  });
});

describe('validateContactInput: Dotdigital options', () => {
  const record = {
    text: 'I agree',
    dateTimeConsented: '2024-05-01T09:00:00Z',
    url: 'https://example.com/signup',
    ipAddress: '203.0.113.7',
    userAgent: 'Mozilla/5.0',
  };

  it('passes good options through', () => {
    const r = check({
      email: 'a@example.com',
      providerOptions: {
        dotdigital: {
          mergeOption: 'OVERWRITE_IF_EMPTY',
          lists: [3, 3, 9],
          preferences: [{ id: 1, isOptedIn: true }],
          consentRecords: [record],
        },
      },
    });
    expect(r.ok && r.value.options).toEqual({
      dotdigital: {
        mergeOption: 'OVERWRITE_IF_EMPTY',
        lists: [3, 9],
        preferences: [{ id: 1, isOptedIn: true }],
        consentRecords: [record],
      },
    });
  });

  it('names each bad consent field and list id', () => {
    const r = check({
      email: 'a@example.com',
      providerOptions: {
        dotdigital: {
          lists: [0],
          consentRecords: [
            { ...record, dateTimeConsented: 'yesterday', url: 'ftp://x', ipAddress: '999.1.1.1' },
          ],
        },
      },
    });
    expect(r.ok ? [] : r.errors.map((e) => [e.field, e.code])).toEqual([
      ['input.providerOptions.dotdigital.lists.0', 'INVALID_VALUE'],
      ['input.providerOptions.dotdigital.consentRecords.0.dateTimeConsented', 'INVALID_DATE'],
      ['input.providerOptions.dotdigital.consentRecords.0.url', 'INVALID_VALUE'],
      ['input.providerOptions.dotdigital.consentRecords.0.ipAddress', 'INVALID_VALUE'],
    ]);
  });

  it('refuses more than five consent records', () => {
    expect(
      errorsOf({
        email: 'a@example.com',
        providerOptions: { dotdigital: { consentRecords: Array(6).fill(record) } },
      }),
    ).toEqual([['input.providerOptions.dotdigital.consentRecords', 'INVALID_VALUE']]);
  });
});
