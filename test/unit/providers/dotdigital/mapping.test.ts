import { describe, expect, it } from 'vitest';
import type { ContactPatch, ProviderOptions } from '../../../../src/model/contact.js';
import type { WritePlan } from '../../../../src/model/outcome.js';
import {
  dotdigitalFields,
  fromWireChannelStatus,
  fromWireContact,
  fromWireEmailType,
  fromWireMobileNumber,
  fromWireOptInType,
  matchKey,
  mergeImportContacts,
  type Plan,
  resolveDataFieldMap,
  toImportContact,
  toImportMergeOption,
  toQueryMergeOption,
  toWireContact,
  toWireMobileNumber,
} from '../../../../src/providers/dotdigital/mapping.js';
import type { WireContact } from '../../../../src/providers/dotdigital/wire.js';

interface Extra {
  known?: ContactPatch;
  remoteId?: string | null;
  options?: ProviderOptions;
}

function map(patch: ContactPatch, extra: Extra = {}, dataFieldMap: Record<string, string> = {}) {
  return toWireContact(
    {
      patch,
      known: extra.known ?? {},
      remoteId: extra.remoteId ?? null,
      options: extra.options ?? {},
    },
    resolveDataFieldMap(dataFieldMap),
  );
}

function plan(
  patch: ContactPatch,
  extra: Extra = {},
  dataFieldMap: Record<string, string> = {},
): Plan {
  const r: WritePlan<Plan> = map(patch, extra, dataFieldMap);
  if (!r.ok) {
    throw new Error(r.error.message);
  }
  return r;
}

describe('Dotdigital mapping: unified → wire', () => {
  it.each<[string, ContactPatch, Record<string, unknown>]>([
    ['email', { email: 'ada@example.com' }, { identifiers: { email: 'ada@example.com' } }],
    [
      'phone as digits-only E.164',
      { email: 'a@x.io', phone: '+447123123123' },
      { identifiers: { email: 'a@x.io', mobileNumber: '447123123123' } },
    ],
    ['firstName', { email: 'a@x.io', firstName: 'Ada' }, { dataFields: { FIRSTNAME: 'Ada' } }],
    ['lastName', { email: 'a@x.io', lastName: 'L' }, { dataFields: { LASTNAME: 'L' } }],
    [
      'address.postalCode',
      { email: 'a@x.io', address: { postalCode: 'NW1 6XE' } },
      { dataFields: { POSTCODE: 'NW1 6XE' } },
    ],
    [
      'FULLNAME when both names are in the patch',
      { email: 'a@x.io', firstName: 'Ada', lastName: 'Lovelace' },
      { dataFields: { FIRSTNAME: 'Ada', LASTNAME: 'Lovelace', FULLNAME: 'Ada Lovelace' } },
    ],
    [
      'customFields key upper-cased',
      { email: 'a@x.io', customFields: { plan: 'pro', score: 4.5, vip: true } },
      { dataFields: { PLAN: 'pro', SCORE: 4.5, VIP: true } },
    ],
    [
      'emailFormat HTML',
      { email: 'a@x.io', emailFormat: 'HTML' },
      { channelProperties: { email: { emailType: 'html' } } },
    ],
    [
      'emailFormat PLAIN_TEXT',
      { email: 'a@x.io', emailFormat: 'PLAIN_TEXT' },
      { channelProperties: { email: { emailType: 'plainText' } } },
    ],
    [
      'email consent',
      { email: 'a@x.io', emailConsent: { status: 'UNSUBSCRIBED', optInType: 'VERIFIED_DOUBLE' } },
      { channelProperties: { email: { status: 'unsubscribed', optInType: 'verifiedDouble' } } },
    ],
    [
      'suppressed + single',
      { email: 'a@x.io', emailConsent: { status: 'SUPPRESSED', optInType: 'SINGLE' } },
      { channelProperties: { email: { status: 'suppressed', optInType: 'single' } } },
    ],
    [
      'double / unknown opt-in',
      { email: 'a@x.io', emailConsent: { status: 'SUBSCRIBED', optInType: 'UNKNOWN' } },
      { channelProperties: { email: { status: 'subscribed', optInType: 'unknown' } } },
    ],
    [
      'sms consent',
      { email: 'a@x.io', smsConsent: { status: 'SUBSCRIBED' } },
      { channelProperties: { sms: { status: 'subscribed' } } },
    ],
  ])('maps %s', (_name, patch, expected) => {
    expect(plan(patch).body).toEqual({ identifiers: { email: 'a@x.io' }, ...expected });
  });

  it('maps DOUBLE to double', () => {
    expect(
      plan({ email: 'a@x.io', emailConsent: { optInType: 'DOUBLE' } }).body.channelProperties,
    ).toEqual({ email: { optInType: 'double' } });
  });

  it('sends only what the patch carries (omitted stays omitted) and null clears data fields', () => {
    const r = plan({ email: 'a@x.io', firstName: null, lastName: 'L' });
    expect(r.body).toEqual({
      identifiers: { email: 'a@x.io' },
      dataFields: { FIRSTNAME: null, LASTNAME: 'L' },
    });
    expect(r.droppedFields).toEqual([]);
    expect(plan({ email: 'a@x.io' }).body).toEqual({ identifiers: { email: 'a@x.io' } });
  });

  it('clears FULLNAME only when both names are cleared, and leaves it alone with one name', () => {
    expect(plan({ email: 'a@x.io', firstName: null, lastName: null }).body.dataFields).toEqual({
      FIRSTNAME: null,
      LASTNAME: null,
      FULLNAME: null,
    });
    expect(plan({ email: 'a@x.io', firstName: 'A' }).body.dataFields).toEqual({
      FIRSTNAME: 'A',
    });
    expect(plan({ email: 'a@x.io', firstName: 'A', lastName: null }).body.dataFields).toEqual({
      FIRSTNAME: 'A',
      LASTNAME: null,
    });
  });

  it('never clears identifiers or channel properties: those nulls are dropped', () => {
    const r = plan(
      { email: null, phone: null, emailFormat: null, emailConsent: null, smsConsent: null },
      { remoteId: '42' },
    );
    expect(r.body).toEqual({});
    expect(r.droppedFields).toEqual([
      'email',
      'phone',
      'emailFormat',
      'emailConsent.status',
      'emailConsent.optInType',
      'emailConsent.verified',
      'emailConsent.authorized',
      'smsConsent.status',
      'smsConsent.optInType',
      'smsConsent.verified',
      'smsConsent.authorized',
    ]);
  });

  it('drops unified fields with no target, as dotted paths', () => {
    const r = plan({
      email: 'a@x.io',
      externalId: 'crm-1',
      jobTitle: 'Analyst',
      address: { line1: '1 Main', postalCode: 'N1', country: 'GB' },
      birthdate: '1990-01-01',
      emailConsent: { status: 'PENDING', verified: true },
      smsConsent: { status: 'BOUNCED', optInType: 'SINGLE' },
    });
    expect(r.body.dataFields).toEqual({ POSTCODE: 'N1' });
    expect(r.body.channelProperties).toBeUndefined();
    expect(r.droppedFields).toEqual([
      'externalId',
      'jobTitle',
      'address.line1',
      'address.country',
      'birthdate',
      'emailConsent.status',
      'emailConsent.verified',
      'smsConsent.status',
      'smsConsent.optInType',
    ]);
  });

  it('address: null clears POSTCODE and drops the leaves Dotdigital has no field for', () => {
    const r = plan({ email: 'a@x.io', address: null });
    expect(r.body.dataFields).toEqual({ POSTCODE: null });
    expect(r.droppedFields).toContain('address.line1');
    expect(r.droppedFields).not.toContain('address.postalCode');
  });

  it('merges config.dataFieldMap over the defaults (unified paths and customFields keys)', () => {
    const r = plan(
      {
        email: 'a@x.io',
        firstName: 'Ada',
        jobTitle: 'Analyst',
        birthdate: '1990-01-01',
        customFields: { plan: 'pro', other: 1 },
      },
      {},
      { firstName: 'FNAME', jobTitle: 'JOBTITLE', birthdate: 'DOB', 'customFields.plan': 'TIER' },
    );
    expect(r.body.dataFields).toEqual({
      FNAME: 'Ada',
      JOBTITLE: 'Analyst',
      DOB: '1990-01-01',
      TIER: 'pro',
      OTHER: 1,
    });
    expect(r.droppedFields).toEqual([]);
  });

  it('drops custom keys that are no data field name, hold objects, or collide with mapped fields', () => {
    const r = plan({
      email: 'a@x.io',
      customFields: { 'a.b': 1, 'x-y': 2, obj: { a: 1 }, list: [1], postcode: 'N1', fullName: 'X' },
    });
    expect(r.body.dataFields).toBeUndefined();
    expect(r.droppedFields).toEqual([
      'customFields.a.b',
      'customFields.x-y',
      'customFields.obj',
      'customFields.list',
      'customFields.postcode',
      'customFields.fullName',
    ]);
  });

  it('customFields: null clears the mapped custom data fields, or is dropped without any', () => {
    expect(
      plan({ email: 'a@x.io', customFields: null }, {}, { 'customFields.plan': 'PLAN' }).body
        .dataFields,
    ).toEqual({ PLAN: null });
    const bare = plan({ email: 'a@x.io', customFields: null });
    expect(bare.body.dataFields).toBeUndefined();
    expect(bare.droppedFields).toEqual(['customFields']);
  });

  it('a custom key null clears its data field', () => {
    expect(plan({ email: 'a@x.io', customFields: { plan: null } }).body.dataFields).toEqual({
      PLAN: null,
    });
  });

  it('carries lists, preferences and consent records from providerOptions.dotdigital', () => {
    const consent = {
      text: 'Yes please',
      dateTimeConsented: '2024-05-01T09:00:00Z',
      url: 'https://example.com/signup',
      ipAddress: '192.0.2.1',
      userAgent: 'Mozilla/5.0',
    };
    const r = plan(
      { email: 'a@x.io' },
      {
        options: {
          dotdigital: {
            lists: [7, 8],
            preferences: [{ id: 3, isOptedIn: true }],
            consentRecords: [consent],
            mergeOption: 'OVERWRITE_IF_EMPTY',
          },
        },
      },
    );
    expect(r.body).toEqual({
      identifiers: { email: 'a@x.io' },
      lists: [7, 8],
      preferences: [{ id: 3, isOptedIn: true }],
      consentRecords: [consent],
    });
    expect(r.mergeOption).toBe('OVERWRITE_IF_EMPTY');
    expect(plan({ email: 'a@x.io' }, { options: { dotdigital: { lists: [] } } }).body).toEqual({
      identifiers: { email: 'a@x.io' },
    });
  });
});

describe('Dotdigital mapping: how a contact is addressed', () => {
  it.each<[string, ContactPatch, Extra, { identifier: string; value: string }, unknown]>([
    [
      'contactId once linked (identifiers only from the patch)',
      { firstName: 'A' },
      { remoteId: '123', known: { email: 'k@x.io' } },
      { identifier: 'contactId', value: '123' },
      undefined,
    ],
    [
      'contactId, new email in the patch is sent as an identifier',
      { email: 'new@x.io' },
      { remoteId: '123' },
      { identifier: 'contactId', value: '123' },
      { email: 'new@x.io' },
    ],
    [
      'email from the patch',
      { email: 'p@x.io', phone: '+14155550123' },
      { known: { email: 'k@x.io' } },
      { identifier: 'email', value: 'p@x.io' },
      { email: 'p@x.io', mobileNumber: '14155550123' },
    ],
    [
      'email from the identity map',
      { firstName: 'A' },
      { known: { email: 'k@x.io', phone: '+14155550123' } },
      { identifier: 'email', value: 'k@x.io' },
      { email: 'k@x.io' },
    ],
    [
      'mobile number when there is no email',
      { phone: '+14155550123' },
      {},
      { identifier: 'mobileNumber', value: '14155550123' },
      { mobileNumber: '14155550123' },
    ],
    [
      'known mobile number',
      { firstName: 'A' },
      { known: { phone: '+14155550123' } },
      { identifier: 'mobileNumber', value: '14155550123' },
      { mobileNumber: '14155550123' },
    ],
  ])('%s', (_name, patch, extra, lookup, identifiers) => {
    const r = plan(patch, extra);
    expect(r.lookup).toEqual(lookup);
    expect(r.body.identifiers).toEqual(identifiers);
  });

  it('skips a contact with neither email nor mobile number, reporting what it dropped', () => {
    const r = map({ externalId: 'crm-1', firstName: 'A' });
    expect(r).toMatchObject({
      ok: false,
      status: 'SKIPPED',
      error: { code: 'MISSING_REQUIRED_FIELD', retryable: false },
      droppedFields: ['externalId'],
    });
  });

  it('fails a remote id that is not a contactId', () => {
    expect(map({ firstName: 'A' }, { remoteId: 'a@x.io' })).toMatchObject({
      ok: false,
      status: 'FAILED',
      error: { code: 'BAD_REQUEST' },
    });
  });

  it('spells merge options kebab-case in the query and camelCase in the import body', () => {
    expect(
      (['OVERWRITE', 'OVERWRITE_IF_NOT_EMPTY', 'OVERWRITE_IF_EMPTY'] as const).map((o) => [
        toQueryMergeOption(o),
        toImportMergeOption(o),
      ]),
    ).toEqual([
      ['overwrite', 'overwrite'],
      ['overwrite-if-not-empty', 'overwriteIfNotEmpty'],
      ['overwrite-if-empty', 'overwriteIfEmpty'],
    ]);
    expect(toQueryMergeOption(null)).toBeUndefined();
    expect(toImportMergeOption(undefined)).toBeUndefined();
  });

  it('builds import contacts with matchIdentifier and a numeric contactId', () => {
    expect(toImportContact(plan({ lastName: 'B' }, { remoteId: '77' }))).toEqual({
      matchIdentifier: 'contactId',
      identifiers: { contactId: 77 },
      dataFields: { LASTNAME: 'B' },
    });
    expect(toImportContact(plan({ email: 'a@x.io', firstName: 'A' }))).toEqual({
      matchIdentifier: 'email',
      identifiers: { email: 'a@x.io' },
      dataFields: { FIRSTNAME: 'A' },
    });
  });

  it('merges two writes of one contact: later wins per field, lists united', () => {
    const a = toImportContact(
      plan(
        { email: 'a@x.io', firstName: 'A', lastName: 'L', emailFormat: 'HTML' },
        { options: { dotdigital: { lists: [1], preferences: [{ id: 1, isOptedIn: true }] } } },
      ),
    );
    const b = toImportContact(
      plan(
        { email: 'a@x.io', firstName: 'B', smsConsent: { status: 'SUBSCRIBED' } },
        { options: { dotdigital: { lists: [2, 1], preferences: [{ id: 1, isOptedIn: false }] } } },
      ),
    );
    expect(mergeImportContacts(a, b)).toEqual({
      matchIdentifier: 'email',
      identifiers: { email: 'a@x.io' },
      dataFields: { FIRSTNAME: 'B', LASTNAME: 'L', FULLNAME: 'B L' },
      channelProperties: { email: { emailType: 'html' }, sms: { status: 'subscribed' } },
      lists: [1, 2],
      preferences: [{ id: 1, isOptedIn: false }],
    });
  });

  it('compares identifiers as Dotdigital does when matching results back', () => {
    expect(matchKey('email', 'A@X.io')).toBe(matchKey('email', 'a@x.io'));
    expect(matchKey('mobileNumber', '+447123123123')).toBe(
      matchKey('mobileNumber', '447123123123'),
    );
    expect(matchKey('contactId', 12)).toBe(matchKey('contactId', '12'));
    expect(matchKey('email', '12')).not.toBe(matchKey('contactId', '12'));
  });

  it('mobile numbers: digits out, + back in, either form read', () => {
    expect(toWireMobileNumber('+447123123123')).toBe('447123123123');
    expect(fromWireMobileNumber('447123123123')).toBe('+447123123123');
    expect(fromWireMobileNumber('+447123123123')).toBe('+447123123123');
    expect(fromWireMobileNumber('')).toBeUndefined();
  });
});

describe('Dotdigital mapping: wire → unified', () => {
  const wire = (over: Partial<WireContact>): WireContact => ({
    contactId: 35212311,
    status: 'subscribed',
    created: '2024-05-01T09:00:00Z',
    updated: '2024-05-02T10:00:00Z',
    identifiers: { email: 'Ada@Example.com', mobileNumber: '447123123123' },
    ...over,
  });

  it('maps identifiers, data fields, channels and timestamps', () => {
    const r = fromWireContact(
      wire({
        dataFields: {
          FIRSTNAME: 'Ada',
          LASTNAME: 'Lovelace',
          FULLNAME: 'Ada Lovelace',
          POSTCODE: 'NW1',
          GENDER: 'female',
          EMPTY: null,
          BLANK: '',
        },
        channelProperties: {
          email: { emailType: 'Html', optInType: 'VerifiedDouble', status: 'subscribed' },
          sms: { status: 'unsubscribed' },
        },
      }),
    );
    expect(r).toEqual({
      remoteId: '35212311',
      createdAt: '2024-05-01T09:00:00Z',
      updatedAt: '2024-05-02T10:00:00Z',
      contact: {
        email: 'ada@example.com',
        phone: '+447123123123',
        firstName: 'Ada',
        lastName: 'Lovelace',
        address: { postalCode: 'NW1' },
        customFields: { GENDER: 'female' },
        emailFormat: 'HTML',
        emailConsent: { status: 'SUBSCRIBED', optInType: 'VERIFIED_DOUBLE' },
        smsConsent: { status: 'UNSUBSCRIBED' },
      },
    });
  });

  it('reads data fields back through the configured map, case-insensitively', () => {
    const m = resolveDataFieldMap({ 'customFields.plan': 'TIER', birthdate: 'DOB' });
    const r = fromWireContact(
      wire({
        dataFields: { tier: 'pro', DOB: '1990-01-01T00:00:00', firstname: 'Ada', SCORE: 3 },
      }),
      m,
    );
    expect(r.contact).toMatchObject({
      firstName: 'Ada',
      birthdate: '1990-01-01',
      customFields: { plan: 'pro', SCORE: 3 },
    });
  });

  it('leaves out what Dotdigital does not return (absent = unknown)', () => {
    expect(fromWireContact(wire({ identifiers: {} })).contact).toEqual({});
  });

  it.each<[unknown, string | undefined]>([
    ['Html', 'HTML'],
    ['html', 'HTML'],
    ['PlainText', 'PLAIN_TEXT'],
    ['plainText', 'PLAIN_TEXT'],
    ['plain_text', 'PLAIN_TEXT'],
    ['weird', undefined],
    [null, undefined],
  ])('emailType %s → %s', (input, expected) => {
    expect(fromWireEmailType(input)).toBe(expected);
  });

  it.each<[unknown, string | undefined]>([
    ['Single', 'SINGLE'],
    ['single', 'SINGLE'],
    ['Double', 'DOUBLE'],
    ['VerifiedDouble', 'VERIFIED_DOUBLE'],
    ['verifiedDouble', 'VERIFIED_DOUBLE'],
    ['Unknown', 'UNKNOWN'],
    ['somethingNew', 'UNKNOWN'],
    [undefined, undefined],
  ])('optInType %s → %s', (input, expected) => {
    expect(fromWireOptInType(input)).toBe(expected);
  });

  it.each<[string, string]>([
    ['subscribed', 'SUBSCRIBED'],
    ['Subscribed', 'SUBSCRIBED'],
    ['unsubscribed', 'UNSUBSCRIBED'],
    ['pendingOptIn', 'PENDING'],
    ['softBounced', 'BOUNCED'],
    ['hardBounced', 'BOUNCED'],
    ['bounced', 'BOUNCED'],
    ['ispComplained', 'COMPLAINED'],
    ['directComplaint', 'COMPLAINED'],
    ['knownComplainer', 'COMPLAINED'],
    ['suppressed', 'SUPPRESSED'],
    ['sharedsuppression', 'SUPPRESSED'],
    ['sharedDomainSuppression', 'SUPPRESSED'],
    ['domainSuppressed', 'SUPPRESSED'],
    ['blockedlocalpart', 'SUPPRESSED'],
    ['spamTrap', 'SUPPRESSED'],
    ['purchased', 'SUPPRESSED'],
    ['knownLitigator', 'SUPPRESSED'],
    ['deleted', 'SUPPRESSED'],
    ['binned', 'SUPPRESSED'],
    ['noSubscription', 'UNKNOWN'],
    ['brandNewStatus', 'UNKNOWN'],
  ])('channel status %s → %s', (input, expected) => {
    expect(fromWireChannelStatus(input)).toBe(expected);
  });
});

describe('Dotdigital mapping: capabilities', () => {
  it('accepts identifiers, channels and mapped data fields; clears only data fields', () => {
    const f = dotdigitalFields(resolveDataFieldMap({ jobTitle: 'JOBTITLE', email: 'EMAILFIELD' }));
    expect(f.acceptedFields).toEqual([
      'email',
      'phone',
      'firstName',
      'lastName',
      'jobTitle',
      'address.postalCode',
      'emailFormat',
      'emailConsent.status',
      'emailConsent.optInType',
      'smsConsent.status',
      'customFields',
    ]);
    expect(f.clearableFields).toEqual([
      'firstName',
      'lastName',
      'jobTitle',
      'address.postalCode',
      'customFields',
    ]);
  });
});
