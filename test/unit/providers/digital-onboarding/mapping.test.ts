import { describe, expect, it } from 'vitest';
import type { ContactPatch, ProviderOptions } from '../../../../src/model/contact.js';
import type { WritePlan } from '../../../../src/model/outcome.js';
import {
  blamedItems,
  interpretBulkAnswer,
  keysOfBody,
} from '../../../../src/providers/digital-onboarding/bulk.js';
import { readBulkEntries } from '../../../../src/providers/digital-onboarding/client.js';
import {
  idempotencyKeyFor,
  UUID_V4,
  uuidV4FromHash,
} from '../../../../src/providers/digital-onboarding/idempotency.js';
import {
  DO_ACCEPTED_FIELDS,
  DO_CLEARABLE_FIELDS,
  formatOverrideHeader,
  fromWireContact,
  fromWireCountry,
  mergeBodies,
  NO_OVERRIDES,
  type Plan,
  parseOverrideFlags,
  planUpdate,
  planUpsert,
  toWireBody,
  validateOverrideFlags,
} from '../../../../src/providers/digital-onboarding/mapping.js';
import {
  DO_READ_ONLY_FIELDS,
  DO_WRITABLE_FIELDS,
  type DoContactBody,
  type DoWireContact,
} from '../../../../src/providers/digital-onboarding/wire.js';

const UUID_A = '3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b';

interface Extra {
  known?: ContactPatch;
  remoteId?: string | null;
  overrides?: string[];
}
const input = (patch: ContactPatch, extra: Extra = {}) => ({
  patch,
  known: extra.known ?? {},
  remoteId: extra.remoteId ?? null,
  options: (extra.overrides
    ? { digitalOnboarding: { overrides: extra.overrides } }
    : {}) as ProviderOptions,
});

function ok(r: WritePlan<Plan>) {
  if (!r.ok) {
    throw new Error(r.error.message);
  }
  return r;
}

describe('Digital Onboarding mapping: unified → wire', () => {
  it.each<[string, ContactPatch, DoContactBody]>([
    ['externalId → unique_id', { externalId: 'crm-1' }, { unique_id: 'crm-1' }],
    ['email', { email: 'ada@example.com' }, { email: 'ada@example.com' }],
    ['phone → phone_mobile', { phone: '+13125550123' }, { phone_mobile: '+13125550123' }],
    ['homePhone → phone_home', { homePhone: '+13125550124' }, { phone_home: '+13125550124' }],
    ['workPhone → phone_work', { workPhone: '+13125550125' }, { phone_work: '+13125550125' }],
    ['firstName → name_first', { firstName: 'Ada' }, { name_first: 'Ada' }],
    ['lastName → name_last', { lastName: 'Lovelace' }, { name_last: 'Lovelace' }],
    ['namePrefix → name_title', { namePrefix: 'Dr' }, { name_title: 'Dr' }],
    ['nameSuffix → name_suffix', { nameSuffix: 'Jr' }, { name_suffix: 'Jr' }],
    [
      'address leaves',
      {
        address: {
          line1: '1 Main St',
          line2: 'Apt 2',
          city: 'Chicago',
          state: 'IL',
          postalCode: '60601',
          county: 'Cook',
          country: 'US',
        },
      },
      {
        address: '1 Main St',
        address2: 'Apt 2',
        city: 'Chicago',
        state: 'IL',
        post_code: '60601',
        county: 'Cook',
        country: 'US',
      },
    ],
    ['birthdate', { birthdate: '1990-02-28' }, { birthdate: '1990-02-28' }],
    ['timezone', { timezone: 'America/Chicago' }, { timezone: 'America/Chicago' }],
    [
      'email consent SUBSCRIBED + flags',
      { emailConsent: { status: 'SUBSCRIBED', verified: true, authorized: false } },
      {
        email_opted_in: true,
        email_unsubscribed: false,
        email_verified: true,
        email_authorized: false,
      },
    ],
    [
      'sms consent UNSUBSCRIBED',
      { smsConsent: { status: 'UNSUBSCRIBED', authorized: true } },
      { sms_opted_in: false, sms_unsubscribed: true, sms_authorized: true },
    ],
    [
      'customFields → meta_public merge patch',
      { customFields: { plan: 'gold', seats: 3, gone: null } },
      { meta_public: { plan: 'gold', seats: 3, gone: null } },
    ],
  ])('%s', (_name, patch, body) => {
    expect(toWireBody(patch)).toEqual({ body, droppedFields: [] });
  });

  it('drops what Digital Onboarding has no column for, and sends nothing for it', () => {
    expect(
      toWireBody({
        jobTitle: 'Engineer',
        language: 'en',
        emailFormat: 'HTML',
        emailConsent: { optInType: 'DOUBLE', status: 'PENDING' },
        smsConsent: { status: 'BOUNCED', optInType: 'SINGLE' },
      }),
    ).toEqual({
      body: {},
      droppedFields: [
        'jobTitle',
        'language',
        'emailFormat',
        'emailConsent.optInType',
        'emailConsent.status',
        'smsConsent.status',
        'smsConsent.optInType',
      ],
    });
  });

  it('null clears string columns and custom fields; consent booleans cannot be cleared', () => {
    expect(
      toWireBody({
        firstName: null,
        externalId: null,
        email: null,
        address: null,
        birthdate: null,
        timezone: null,
        customFields: null,
        emailConsent: null,
        smsConsent: { verified: null, status: null },
      }),
    ).toEqual({
      body: {
        name_first: null,
        unique_id: null,
        email: null,
        address: null,
        address2: null,
        city: null,
        state: null,
        post_code: null,
        county: null,
        country: null,
        birthdate: null,
        timezone: null,
        meta_public: null,
      },
      droppedFields: [
        'emailConsent.status',
        'emailConsent.optInType',
        'emailConsent.verified',
        'emailConsent.authorized',
        'smsConsent.verified',
        'smsConsent.status',
      ],
    });
  });

  it('omitted leaves are not sent', () => {
    expect(toWireBody({ address: { city: 'Oslo' } }).body).toEqual({ city: 'Oslo' });
    expect(toWireBody({}).body).toEqual({});
  });

  it('never produces a read-only column, whatever the patch carries', () => {
    const everything: ContactPatch = {
      externalId: 'x',
      email: 'e@example.com',
      phone: '+13125550123',
      homePhone: '+13125550124',
      workPhone: '+13125550125',
      firstName: 'a',
      lastName: 'b',
      namePrefix: 'c',
      nameSuffix: 'd',
      jobTitle: 'e',
      address: {
        line1: '1',
        line2: '2',
        city: 'c',
        state: 's',
        postalCode: 'p',
        county: 'k',
        country: 'US',
      },
      birthdate: '2000-01-01',
      timezone: 'UTC',
      language: 'en',
      emailFormat: 'HTML',
      emailConsent: { status: 'SUBSCRIBED', optInType: 'SINGLE', verified: true, authorized: true },
      smsConsent: { status: 'SUBSCRIBED', optInType: 'SINGLE', verified: true, authorized: true },
      customFields: { id: 'not-a-column', inserted_at: 'x', team_id: 'y' },
    };
    const { body } = toWireBody(everything);
    const keys = Object.keys(body);
    expect(keys.every((k) => (DO_WRITABLE_FIELDS as readonly string[]).includes(k))).toBe(true);
    for (const ro of DO_READ_ONLY_FIELDS) {
      expect(body).not.toHaveProperty(ro);
    }
    // Custom fields named like server columns stay inside meta_public.
    expect(body.meta_public).toEqual({ id: 'not-a-column', inserted_at: 'x', team_id: 'y' });
    // Every writable column is reachable from the unified model.
    expect([...keys].sort()).toEqual([...DO_WRITABLE_FIELDS].sort());
  });

  it('capabilities: accepted and clearable fields', () => {
    expect(DO_ACCEPTED_FIELDS).toContain('externalId');
    expect(DO_ACCEPTED_FIELDS).toContain('emailConsent.status');
    expect(DO_ACCEPTED_FIELDS).not.toContain('jobTitle');
    expect(DO_ACCEPTED_FIELDS).not.toContain('emailConsent.optInType');
    expect(DO_CLEARABLE_FIELDS).toContain('customFields');
    expect(DO_CLEARABLE_FIELDS).toContain('address.city');
    expect(DO_CLEARABLE_FIELDS).not.toContain('emailConsent.verified');
  });
});

describe('Digital Onboarding mapping: how a write is addressed', () => {
  it('POSTs keyed by unique_id from the patch, else from the identity map, else by email', () => {
    expect(ok(planUpsert(input({ externalId: 'crm-1', email: 'a@x.io' })))).toMatchObject({
      method: 'POST',
      key: { field: 'unique_id', value: 'crm-1' },
      body: { unique_id: 'crm-1', email: 'a@x.io' },
    });
    expect(
      ok(
        planUpsert(input({ firstName: 'A' }, { known: { externalId: 'crm-2', email: 'k@x.io' } })),
      ),
    ).toMatchObject({
      method: 'POST',
      key: { field: 'unique_id', value: 'crm-2' },
      body: { unique_id: 'crm-2', name_first: 'A' },
    });
    const byEmail = ok(planUpsert(input({ firstName: 'B' }, { known: { email: 'k@x.io' } })));
    expect(byEmail).toMatchObject({ method: 'POST', key: { field: 'email', value: 'k@x.io' } });
    expect(byEmail.body).toEqual({ name_first: 'B', email: 'k@x.io' });
  });

  it('a cleared externalId falls back to the email key', () => {
    expect(ok(planUpsert(input({ externalId: null, email: 'a@x.io' })))).toMatchObject({
      method: 'POST',
      key: { field: 'email', value: 'a@x.io' },
      body: { unique_id: null, email: 'a@x.io' },
    });
  });

  it('skips a contact without externalId or email', () => {
    expect(planUpsert(input({ phone: '+13125550123' }))).toMatchObject({
      ok: false,
      status: 'SKIPPED',
      error: { code: 'MISSING_REQUIRED_FIELD', retryable: false },
    });
  });

  it('a linked contact alone is PATCHed by its UUID', () => {
    const plan = ok(
      planUpsert(input({ lastName: 'K' }, { remoteId: UUID_A, known: { externalId: 'crm-1' } })),
    );
    expect(plan).toMatchObject({ method: 'PATCH', remoteId: UUID_A, body: { name_last: 'K' } });
  });

  it('in a batch, a linked contact joins the POST only while its key is unchanged', () => {
    const known = { externalId: 'crm-1', email: 'old@x.io' };
    expect(
      ok(planUpsert(input({ email: 'new@x.io' }, { remoteId: UUID_A, known }), { batch: true })),
    ).toMatchObject({ method: 'POST', key: { field: 'unique_id', value: 'crm-1' } });
    expect(
      ok(planUpsert(input({ externalId: 'crm-9' }, { remoteId: UUID_A, known }), { batch: true })),
    ).toMatchObject({ method: 'PATCH', remoteId: UUID_A });
    expect(
      ok(
        planUpsert(
          input({ email: 'new@x.io' }, { remoteId: UUID_A, known: { email: 'old@x.io' } }),
          {
            batch: true,
          },
        ),
      ),
    ).toMatchObject({ method: 'PATCH' });
    expect(
      ok(
        planUpsert(
          input({ email: 'OLD@x.io' }, { remoteId: UUID_A, known: { email: 'old@x.io' } }),
          {
            batch: true,
          },
        ),
      ),
    ).toMatchObject({ method: 'POST', key: { field: 'email' } });
  });

  it('updates need a UUID remote id', () => {
    expect(planUpdate(input({ firstName: 'A' }))).toMatchObject({
      ok: false,
      status: 'SKIPPED',
      error: { code: 'PROVIDER_NOT_LINKED' },
    });
    expect(planUpdate(input({ firstName: 'A' }, { remoteId: '12345' }))).toMatchObject({
      ok: false,
      status: 'FAILED',
      error: { code: 'BAD_REQUEST' },
    });
    expect(ok(planUpdate(input({ firstName: null }, { remoteId: UUID_A })))).toMatchObject({
      method: 'PATCH',
      remoteId: UUID_A,
      body: { name_first: null },
      droppedFields: [],
    });
  });

  it('merges two writes of one contact: later wins, meta_public merged', () => {
    expect(
      mergeBodies(
        { email: 'a@x.io', name_first: 'A', meta_public: { a: 1, b: 1 } },
        { email: 'a@x.io', name_last: 'B', meta_public: { b: 2 } },
      ),
    ).toEqual({ email: 'a@x.io', name_first: 'A', name_last: 'B', meta_public: { a: 1, b: 2 } });
    expect(mergeBodies({ meta_public: { a: 1 } }, { meta_public: null })).toEqual({
      meta_public: null,
    });
  });
});

describe('Digital Onboarding mapping: override flags', () => {
  it.each<[string[], string | null]>([
    [[], null],
    [['force'], null],
    [['bulk'], null],
    [['bypass_validation=email_format'], null],
    [['bypass_validation=email_format|phone_format', 'force'], null],
    [['force, bypass_validation=phone_format'], null],
  ])('accepts %j', (flags, expected) => {
    expect(validateOverrideFlags(flags)).toBe(expected);
  });

  it.each<[string[], RegExp]>([
    [['explode'], /unknown override flag "explode"/],
    [['dry_run'], /WriteOptions\.dryRun/],
    [['destructive'], /providerOptions\.digitalOnboarding\.destructive/],
    [['force=yes'], /takes no value/],
    [['bypass_validation'], /needs validator names/],
    [['bypass_validation='], /needs validator names/],
    [['bypass_validation=zip_format'], /unknown validator "zip_format"/],
    [['FORCE'], /malformed override flag/],
    [['force,,bulk'], /empty override flag/],
    [[''], /empty override flag/],
  ])('refuses %j', (flags, message) => {
    expect(validateOverrideFlags(flags)).toMatch(message);
  });

  it('formats the header in a fixed order, de-duplicating validators', () => {
    const parsed = parseOverrideFlags([
      'bypass_validation=phone_format',
      'force',
      'bypass_validation=email_format|phone_format',
    ]);
    expect(parsed).toMatchObject({ ok: true });
    const flags = parsed.ok ? parsed.flags : NO_OVERRIDES;
    expect(formatOverrideHeader({ ...flags, bulk: true, dryRun: true })).toBe(
      'bulk,force,bypass_validation=phone_format|email_format,dry_run',
    );
    expect(formatOverrideHeader(NO_OVERRIDES)).toBeNull();
  });

  it('a write with a bad flag fails before any request', () => {
    expect(planUpsert(input({ email: 'a@x.io' }, { overrides: ['nuke'] }))).toMatchObject({
      ok: false,
      status: 'FAILED',
      error: { code: 'BAD_REQUEST', retryable: false },
    });
    expect(
      ok(planUpsert(input({ email: 'a@x.io' }, { overrides: ['force'] }))).overrides,
    ).toMatchObject({ force: true, bulk: false, dryRun: false });
  });
});

const WIRE: DoWireContact = {
  id: UUID_A,
  type: 'contact',
  team_id: '0b6c7c1e-1111-4222-8333-444455556666',
  unique_id: 'crm-1',
  name_first: 'Ada',
  name_last: 'Lovelace',
  name_title: 'Countess',
  name_suffix: null,
  email: 'Ada@Example.com',
  phone_home: '+442071234567',
  phone_mobile: '+447700900123',
  phone_work: '',
  address: '12 St James Sq',
  address2: null,
  city: 'London',
  state: null,
  post_code: 'SW1Y 4JH',
  county: 'Greater London',
  country: 'gb',
  birthdate: '1815-12-10',
  timezone: 'Europe/London',
  sms_verified: false,
  sms_opted_in: false,
  sms_authorized: false,
  sms_unsubscribed: false,
  email_verified: true,
  email_opted_in: true,
  email_authorized: true,
  email_unsubscribed: false,
  meta_public: { plan: 'gold' },
  inserted_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-02T00:00:00.000Z',
  last_seen_at: '2026-01-03T00:00:00.000Z',
};

describe('Digital Onboarding mapping: wire → unified', () => {
  it('maps every column back, omitting null and empty ones', () => {
    expect(fromWireContact(WIRE)).toEqual({
      remoteId: UUID_A,
      contact: {
        externalId: 'crm-1',
        email: 'ada@example.com',
        phone: '+447700900123',
        homePhone: '+442071234567',
        firstName: 'Ada',
        lastName: 'Lovelace',
        namePrefix: 'Countess',
        address: {
          line1: '12 St James Sq',
          city: 'London',
          postalCode: 'SW1Y 4JH',
          county: 'Greater London',
          country: 'GB',
        },
        birthdate: '1815-12-10',
        timezone: 'Europe/London',
        emailConsent: { status: 'SUBSCRIBED', verified: true, authorized: true },
        smsConsent: { verified: false, authorized: false },
        customFields: { plan: 'gold' },
      },
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-02T00:00:00.000Z',
      lastSeenAt: '2026-01-03T00:00:00.000Z',
    });
  });

  it.each<[string, Partial<DoWireContact>, ContactPatch]>([
    [
      'unsubscribed wins over a stale opt-in',
      { email_opted_in: true, email_unsubscribed: true },
      { emailConsent: { status: 'UNSUBSCRIBED' } },
    ],
    ['false/false claims no status', { sms_opted_in: false, sms_unsubscribed: false }, {}],
    [
      'a country name becomes its code',
      { country: 'United States of America' },
      { address: { country: 'US' } },
    ],
    ['an unknown country is not guessed', { country: 'Atlantis' }, {}],
    [
      'a date-time birthdate keeps its date',
      { birthdate: '1990-02-28T00:00:00Z' },
      { birthdate: '1990-02-28' },
    ],
    ['an empty meta_public is no custom fields', { meta_public: {} }, {}],
  ])('%s', (_name, wire, contact) => {
    expect(fromWireContact({ id: UUID_A, ...wire }).contact).toEqual(contact);
  });

  it('round-trips what it sends', () => {
    const patch: ContactPatch = {
      externalId: 'crm-7',
      email: 'r@example.com',
      firstName: 'R',
      address: { city: 'Oslo', country: 'NO' },
      birthdate: '2001-09-09',
      emailConsent: { status: 'SUBSCRIBED', verified: false, authorized: true },
      customFields: { tier: 2 },
    };
    const { body } = toWireBody(patch);
    const back = fromWireContact({ id: UUID_A, ...(body as Partial<DoWireContact>) });
    expect(back.contact).toEqual(patch);
  });

  it('fromWireCountry', () => {
    expect(fromWireCountry('us')).toBe('US');
    expect(fromWireCountry('Germany')).toBe('DE');
    expect(fromWireCountry('XX')).toBeUndefined();
  });
});

describe('Digital Onboarding idempotency keys', () => {
  const req = {
    method: 'POST',
    path: '/v2/partner/contacts',
    overrides: null,
    body: { email: 'a' },
  };

  it('derives a UUID v4 from the gateway key, the request and its flags', () => {
    const k = idempotencyKeyFor(['gw-1'], req);
    expect(k).toMatch(UUID_V4);
    expect(idempotencyKeyFor(['gw-1'], { ...req, body: { email: 'a' } })).toBe(k);
    expect(idempotencyKeyFor(['gw-2'], req)).not.toBe(k);
    expect(idempotencyKeyFor(['gw-1'], { ...req, body: { email: 'b' } })).not.toBe(k);
    expect(idempotencyKeyFor(['gw-1'], { ...req, overrides: 'dry_run' })).not.toBe(k);
    expect(idempotencyKeyFor(['gw-1'], { ...req, method: 'PATCH' })).not.toBe(k);
    // Order of items' keys does not matter; duplicates collapse.
    expect(idempotencyKeyFor(['b', 'a', 'a'], req)).toBe(idempotencyKeyFor(['a', 'b'], req));
  });

  it('is random without a gateway key (or when any item lacks one)', () => {
    const a = idempotencyKeyFor([], req);
    const b = idempotencyKeyFor([null], req);
    const c = idempotencyKeyFor(['gw-1', null], req);
    for (const k of [a, b, c]) {
      expect(k).toMatch(UUID_V4);
    }
    expect(new Set([a, b, c, idempotencyKeyFor([null], req)]).size).toBe(4);
  });

  it('uuidV4FromHash sets the version and variant bits', () => {
    for (const s of ['', 'x', 'another input']) {
      expect(uuidV4FromHash(s)).toMatch(UUID_V4);
    }
    expect(uuidV4FromHash('x')).toBe(uuidV4FromHash('x'));
  });
});

describe('Digital Onboarding bulk answers', () => {
  const requests: DoContactBody[] = [
    { unique_id: 'u1', email: 'one@x.io' },
    { email: 'two@x.io' },
    { unique_id: 'u3' },
  ];
  const contact = (id: string, extra: Partial<DoWireContact>) => ({
    id,
    inserted_at: '2026-01-01T00:00:00Z',
    updated_at: '2026-01-01T00:00:00Z',
    ...extra,
  });

  it('reads a bare array, {items}, {results} and {data}', () => {
    expect(readBulkEntries([{ id: 'a' }, 3])).toEqual([{ id: 'a' }, null]);
    expect(readBulkEntries({ items: [{ id: 'a' }] })).toEqual([{ id: 'a' }]);
    expect(readBulkEntries({ results: [] })).toEqual([]);
    expect(readBulkEntries({ data: [{ id: 'b' }] })).toEqual([{ id: 'b' }]);
    expect(readBulkEntries({ id: 'x' })).toBeNull();
  });

  it('matches shuffled bare contacts by unique_id and email, not position', () => {
    const out = interpretBulkAnswer(requests, [
      contact('id-3', { unique_id: 'u3' }),
      contact('id-2', { email: 'TWO@x.io', updated_at: '2026-01-02T00:00:00Z' }),
      contact('id-1', { unique_id: 'u1', email: 'one@x.io' }),
    ]);
    expect(out.map((o) => (o.kind === 'written' ? [o.contact.id, o.created] : o.kind))).toEqual([
      ['id-1', true],
      ['id-2', false],
      ['id-3', true],
    ]);
  });

  it('reads per-item results with index, status words and errors', () => {
    const out = interpretBulkAnswer(requests, [
      { index: 2, status: 201, action: 'updated', contact: { id: 'id-3' } },
      { index: 0, action: 'created', data: { id: 'id-1' } },
      { index: 1, errors: [{ code: 'invalid_format', detail: 'bad', meta: { status: 422 } }] },
    ]);
    expect(out).toEqual([
      { kind: 'written', created: true, contact: { id: 'id-1' } },
      {
        kind: 'failed',
        status: 422,
        errors: [{ code: 'invalid_format', detail: 'bad', meta: { status: 422 } }],
      },
      { kind: 'written', created: false, contact: { id: 'id-3' } },
    ]);
  });

  it('uses position only when the answer has one entry per item and nothing contradicts it', () => {
    const positional = interpretBulkAnswer(requests, [
      { errors: [{ code: 'x' }] },
      contact('id-2', {}),
      contact('id-9', { unique_id: 'u1' }),
    ]);
    expect(positional.map((o) => o.kind)).toEqual(['written', 'written', 'missing']);
    expect(positional[0]).toMatchObject({ contact: { id: 'id-9' } });
    expect(positional[1]).toMatchObject({ contact: { id: 'id-2' } });
    // Fewer answers than items: nothing is matched by position.
    expect(interpretBulkAnswer(requests, [contact('id-2', {})]).map((o) => o.kind)).toEqual([
      'missing',
      'missing',
      'missing',
    ]);
  });

  it('a known remote id decides created vs updated when the entry says nothing', () => {
    const out = interpretBulkAnswer(
      [{ email: 'a@x.io' }, { email: 'b@x.io' }],
      [
        { id: 'keep', email: 'a@x.io' },
        { id: 'new', email: 'b@x.io' },
      ],
      ['keep', 'old'],
    );
    expect(out.map((o) => o.kind === 'written' && o.created)).toEqual([false, true]);
  });

  it('blames items by meta.field, pointer, index or key', () => {
    const blamed = blamedItems(
      [
        { code: 'invalid_format', meta: { field: 'items[2].email' } },
        { code: 'x', meta: { pointer: '/items/0/email' } },
        { code: 'y', meta: { index: 1 } },
        { code: 'z', meta: { email: 'TWO@x.io' } },
        { code: 'limit', meta: { field: 'items' } },
        { code: 'far', meta: { index: 99 } },
      ],
      requests,
    );
    expect([...blamed.entries()].map(([i, es]) => [i, es.map((e) => e.code)])).toEqual([
      [2, ['invalid_format']],
      [0, ['x']],
      [1, ['y', 'z']],
      [-1, ['limit', 'far']],
    ]);
    expect(keysOfBody({ unique_id: ' u ', email: 'A@B.io' })).toEqual([
      'unique_id:u',
      'email:a@b.io',
    ]);
  });
});
