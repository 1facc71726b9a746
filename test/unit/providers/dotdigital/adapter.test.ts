import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Secret } from '../../../../src/config.js';
import type { DotdigitalConfig } from '../../../../src/providers/dotdigital/config.js';
import { createDotdigitalAdapter } from '../../../../src/providers/dotdigital/index.js';
import type { ProviderAdapter, ReadResult } from '../../../../src/providers/types.js';
import { startDotdigitalSandbox } from '../../../../src/sandbox/dotdigital/index.js';
import { adapterConfig, adapterDeps, adapterSet, ctx, item } from '../../../helpers/adapter.js';
import { dotdigitalThrottled } from '../../../helpers/faults.js';
import { useSandbox } from '../../../helpers/sandbox-http.js';

/** The adapter against the Dotdigital sandbox on a loopback port: real HTTP, real wire requests. */
const USER = 'apiuser-unit@apiconnector.com';
const PASSWORD = 'unit-password-S3cret';
const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

const sandbox = useSandbox(() => startDotdigitalSandbox({ username: USER, password: PASSWORD }));
let adapter: ProviderAdapter;
const adapters = adapterSet();

function makeAdapter(over: Partial<DotdigitalConfig> = {}): ProviderAdapter {
  const a = createDotdigitalAdapter(
    adapterConfig.dotdigital(sandbox.url, { username: USER, password: PASSWORD }, over),
    adapterDeps(),
  );
  return adapters.add(a);
}

/** Contact calls (the account's data field list, read once per adapter, is left out). */
const requests = (method?: string) =>
  sandbox.controls.requests.filter(
    (r) => (method === undefined || r.method === method) && r.path !== '/v2/data-fields',
  );

async function readEmail(email: string): Promise<ReadResult | null> {
  const [r] = await adapter.readMany([{ by: 'email', value: email }], ctx());
  if (r && 'code' in r) {
    throw new Error(r.message);
  }
  return r ?? null;
}

beforeAll(async () => {
  adapter = makeAdapter();
});
afterAll(async () => {
  await adapters.close();
});
beforeEach(() => {
  sandbox.setImportProcessingMs(0);
});

describe('Dotdigital adapter: single PATCH', () => {
  it('creates (201) then updates (200) by email, with Basic auth and only the patch sent', async () => {
    const stats = ctx();
    const [first] = await adapter.upsertMany(
      [item({ email: 'ada@example.com', firstName: 'Ada', lastName: 'Lovelace' })],
      stats,
    );
    expect(first).toMatchObject({
      status: 'CREATED',
      remoteId: expect.stringMatching(/^\d+$/),
      error: null,
      attempts: 1,
      droppedFields: [],
      contact: { email: 'ada@example.com', firstName: 'Ada', lastName: 'Lovelace' },
    });
    const [second] = await adapter.upsertMany(
      [item({ email: 'ada@example.com', lastName: 'King' })],
      ctx(),
    );
    expect(second).toMatchObject({ status: 'UPDATED', remoteId: first!.remoteId });
    // The account's data fields (GET /v2/data-fields, then cached), and the PATCH.
    expect(stats.stats.upstreamRequests).toBe(2);

    const [create, update] = requests('PATCH');
    expect(create).toMatchObject({
      path: '/contacts/v3/email/ada%40example.com',
      query: {},
      body: {
        identifiers: { email: 'ada@example.com' },
        dataFields: { FIRSTNAME: 'Ada', LASTNAME: 'Lovelace', FULLNAME: 'Ada Lovelace' },
      },
    });
    expect(create!.headers['authorization']).toBe(BASIC);
    expect(create!.headers['content-type']).toBe('application/json');
    expect(update!.body).toEqual({
      identifiers: { email: 'ada@example.com' },
      dataFields: { LASTNAME: 'King' },
    });
    expect(await readEmail('ada@example.com')).toMatchObject({
      remoteId: first!.remoteId,
      contact: { firstName: 'Ada', lastName: 'King' },
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
  });

  it('percent-encodes a + in the email path value', async () => {
    const [r] = await adapter.upsertMany(
      [item({ email: 'first+tag@example.com', firstName: 'Plus' })],
      ctx(),
    );
    expect(r!.status).toBe('CREATED');
    expect(requests('PATCH')[0]!.path).toBe('/contacts/v3/email/first%2Btag%40example.com');
    expect(await readEmail('first+tag@example.com')).toMatchObject({
      remoteId: r!.remoteId,
      contact: { email: 'first+tag@example.com', firstName: 'Plus' },
    });
    expect(requests('GET')[0]!.path).toBe('/contacts/v3/email/first%2Btag%40example.com');
  });

  it('updates a linked contact by contactId (updateMany and upsert alike)', async () => {
    const [created] = await adapter.upsertMany(
      [item({ email: 'linked@example.com', firstName: 'L' })],
      ctx(),
    );
    const contactId = created!.remoteId!;
    sandbox.controls.reset();
    const results = await adapter.updateMany(
      [
        item({ lastName: 'One' }, { remoteId: contactId }),
        item({ email: 'renamed@example.com' }, { remoteId: contactId }),
      ],
      ctx(),
    );
    expect(results.map((r) => [r.status, r.remoteId])).toEqual([
      ['UPDATED', contactId],
      ['UPDATED', contactId],
    ]);
    const paths = requests('PATCH').map((r) => r.path);
    expect(paths).toEqual([
      `/contacts/v3/contactId/${contactId}`,
      `/contacts/v3/contactId/${contactId}`,
    ]);
    const bodies = requests('PATCH').map((r) => r.body);
    expect(bodies).toContainEqual({ dataFields: { LASTNAME: 'One' } });
    expect(bodies).toContainEqual({ identifiers: { email: 'renamed@example.com' } });
    expect(await readEmail('renamed@example.com')).toMatchObject({ remoteId: contactId });
  });

  it('sends the merge option kebab-case in the query and Dotdigital honours it', async () => {
    await adapter.upsertMany([item({ email: 'merge@example.com', firstName: 'Kept' })], ctx());
    const [r] = await adapter.upsertMany(
      [
        item(
          { email: 'merge@example.com', firstName: 'Ignored', lastName: 'Filled' },
          { options: { dotdigital: { mergeOption: 'OVERWRITE_IF_EMPTY' } } },
        ),
      ],
      ctx(),
    );
    expect(r!.status).toBe('UPDATED');
    const patch = requests('PATCH').at(-1)!;
    expect(patch.query).toEqual({ 'merge-option': 'overwrite-if-empty' });
    expect(r!.contact).toMatchObject({ firstName: 'Kept', lastName: 'Filled' });
  });

  it('null clears a data field; a null identifier is reported dropped, never sent', async () => {
    await adapter.upsertMany(
      [item({ email: 'clear@example.com', firstName: 'Gone', lastName: 'Stays' })],
      ctx(),
    );
    const [r] = await adapter.upsertMany(
      [item({ email: 'clear@example.com', firstName: null, phone: null })],
      ctx(),
    );
    expect(r).toMatchObject({ status: 'UPDATED', droppedFields: ['phone'] });
    expect(requests('PATCH').at(-1)!.body).toEqual({
      identifiers: { email: 'clear@example.com' },
      dataFields: { FIRSTNAME: null },
    });
    const read = await readEmail('clear@example.com');
    expect(read!.contact.firstName).toBeUndefined();
    expect(read!.contact.lastName).toBe('Stays');
  });

  it('maps consent, format and mobile number onto the wire and reads them back normalised', async () => {
    const [r] = await adapter.upsertMany(
      [
        item(
          {
            email: 'consent@example.com',
            phone: '+447123123123',
            emailFormat: 'PLAIN_TEXT',
            emailConsent: { status: 'SUBSCRIBED', optInType: 'SINGLE' },
            smsConsent: { status: 'SUBSCRIBED' },
          },
          { options: { dotdigital: { lists: [7] } } },
        ),
      ],
      ctx(),
    );
    expect(r!.status).toBe('CREATED');
    expect(requests('PATCH')[0]!.body).toEqual({
      identifiers: { email: 'consent@example.com', mobileNumber: '447123123123' },
      channelProperties: {
        email: { status: 'subscribed', optInType: 'single', emailType: 'plainText' },
        sms: { status: 'subscribed' },
      },
      lists: [7],
    });
    expect((await readEmail('consent@example.com'))!.contact).toMatchObject({
      phone: '+447123123123',
      emailFormat: 'PLAIN_TEXT',
      emailConsent: { status: 'SUBSCRIBED', optInType: 'SINGLE' },
    });
  });

  it('skips a contact without email or mobile number, without calling Dotdigital', async () => {
    const [r] = await adapter.upsertMany([item({ firstName: 'Nobody' })], ctx());
    expect(r).toMatchObject({ status: 'SKIPPED', error: { code: 'MISSING_REQUIRED_FIELD' } });
    expect(requests()).toHaveLength(0);
  });
});

describe('Dotdigital adapter: bulk import', () => {
  it('sends 300 contacts through one import, polls, and matches every contactId back', async () => {
    sandbox.setImportProcessingMs(40);
    const stats = ctx();
    const items = Array.from({ length: 300 }, (_, i) =>
      item({ email: `imp${i}@example.com`, firstName: `I${i}` }),
    );
    const results = await adapter.upsertMany(items, stats);
    const imports = requests('PUT');
    expect(imports).toHaveLength(1);
    expect(imports[0]!.path).toBe('/contacts/v3/import');
    expect(imports[0]!.headers['authorization']).toBe(BASIC);
    const body = imports[0]!.body as {
      mergeOption?: string;
      contacts: Array<Record<string, unknown>>;
    };
    expect(body.mergeOption).toBeUndefined();
    expect(body.contacts).toHaveLength(300);
    expect(body.contacts[5]).toEqual({
      matchIdentifier: 'email',
      identifiers: { email: 'imp5@example.com' },
      dataFields: { FIRSTNAME: 'I5' },
    });
    const polls = requests('GET');
    expect(polls.length).toBeGreaterThanOrEqual(1);
    const importId = polls[0]!.path.split('/').at(-1)!;
    expect(polls.every((p) => p.path === `/contacts/v3/import/${importId}`)).toBe(true);
    expect(stats.stats.upstreamRequests).toBe(1 + polls.length);

    expect(results.every((r) => r.status === 'CREATED')).toBe(true);
    expect(results[0]!.details).toEqual({ importId });
    expect(new Set(results.map((r) => r.remoteId)).size).toBe(300);
    // Each remote id is the contactId Dotdigital gave that very email.
    const reads = await adapter.readMany(
      items.map((it) => ({ by: 'email' as const, value: it.patch.email! })),
      ctx(),
    );
    expect(reads.map((r) => (r && 'remoteId' in r ? r.remoteId : r))).toEqual(
      results.map((r) => r.remoteId),
    );
  });

  it('matches results by identifier, not position, and reads failure codes in either case', async () => {
    sandbox.controls.inject({
      method: 'PUT',
      path: '/contacts/v3/import',
      faults: [{ kind: 'status', status: 202, body: { importId: 'scripted-import' } }],
    });
    sandbox.controls.inject({
      method: 'GET',
      path: '/contacts/v3/import/scripted-import',
      faults: [
        {
          kind: 'status',
          status: 200,
          body: { importId: 'scripted-import', status: 'NotFinished' },
        },
        {
          kind: 'status',
          status: 200,
          body: {
            importId: 'scripted-import',
            status: 'Finished',
            updated: [{ contactId: 9, identifiers: { email: 'known@example.com' } }],
            created: [
              { contactId: 12, identifiers: { mobileNumber: '14155550123' } },
              { contactId: 11, identifiers: { email: 'B@Example.com' } },
            ],
            failures: [
              {
                matchIdentifier: 'email',
                identifiers: { email: 'bad@example.com' },
                failures: [{ failureCode: 'InvalidEmail', description: 'Invalid value for email' }],
              },
              {
                matchIdentifier: 'email',
                identifiers: { email: 'b@example.com' },
                failures: [
                  { failureCode: 'consentRecordsNotApplied', description: 'Consent not applied' },
                ],
              },
            ],
          },
        },
      ],
    });
    const results = await adapter.upsertMany(
      [
        item({ email: 'bad@example.com' }),
        item({ email: 'b@example.com' }),
        item({ lastName: 'Known' }, { remoteId: '9' }),
        item({ phone: '+14155550123' }),
        item({ email: 'ghost@example.com' }),
      ],
      ctx(),
    );
    expect(results.map((r) => [r.status, r.remoteId, r.error?.code ?? null])).toEqual([
      ['FAILED', null, 'InvalidEmail'],
      ['CREATED', '11', 'consentRecordsNotApplied'],
      ['UPDATED', '9', null],
      ['CREATED', '12', null],
      ['FAILED', null, 'UPSTREAM_BAD_RESPONSE'],
    ]);
    expect(results[0]!.error).toMatchObject({ retryable: false, httpStatus: 200 });
    expect(results[0]!.error!.message).toContain('Invalid value for email');
    expect((requests('PUT')[0]!.body as { contacts: unknown[] }).contacts).toContainEqual({
      matchIdentifier: 'contactId',
      identifiers: { contactId: 9 },
      dataFields: { LASTNAME: 'Known' },
    });
    expect(requests('GET')).toHaveLength(2);
  });

  it('fails one bad contact of a real import alone', async () => {
    const results = await adapter.upsertMany(
      [
        item({ email: 'good1@example.com' }),
        item({ email: 'not-an-email' }),
        item({ email: 'good2@example.com' }),
      ],
      ctx(),
    );
    expect(results.map((r) => r.status)).toEqual(['CREATED', 'FAILED', 'CREATED']);
    expect(results[1]!.error!.code.toLowerCase()).toBe('invalidemail');
    expect(results[1]!.error!.retryable).toBe(false);
    expect(requests('PUT')).toHaveLength(1);
  });

  it('reports contacts QUEUED with the importId when the import outlives importMaxWaitMs', async () => {
    sandbox.setImportProcessingMs(2_000);
    const impatient = makeAdapter({ importMaxWaitMs: 100, importPollIntervalMs: 20 });
    const stats = ctx();
    const started = performance.now();
    const results = await impatient.upsertMany(
      [item({ email: 'slow1@example.com' }), item({ email: 'slow2@example.com' })],
      stats,
    );
    expect(performance.now() - started).toBeLessThan(1_500);
    const importId = requests('GET')[0]!.path.split('/').at(-1);
    expect(results).toEqual([
      expect.objectContaining({
        status: 'QUEUED',
        remoteId: null,
        details: { importId },
        error: null,
      }),
      expect.objectContaining({
        status: 'QUEUED',
        remoteId: null,
        details: { importId },
        error: null,
      }),
    ]);
    // Backoff: 20, 40, then what is left of the 100 ms: at most three polls (a fixed 20 ms interval
    // would make five). On a loaded machine late timers can leave room for one poll only.
    expect(requests('GET').length).toBeGreaterThanOrEqual(1);
    expect(requests('GET').length).toBeLessThanOrEqual(3);
    expect(stats.stats.upstreamRequests).toBe(2 + requests('GET').length);
  });

  it('splits by merge option and batch size; one contact alone goes by PATCH', async () => {
    const small = makeAdapter({ batchSize: 2 });
    const results = await small.upsertMany(
      [
        item({ email: 'c1@example.com' }),
        item({ email: 'c2@example.com' }),
        item({ email: 'c3@example.com' }),
        item(
          { email: 'c4@example.com' },
          { options: { dotdigital: { mergeOption: 'OVERWRITE_IF_NOT_EMPTY' } } },
        ),
        item(
          { email: 'c5@example.com' },
          { options: { dotdigital: { mergeOption: 'OVERWRITE_IF_NOT_EMPTY' } } },
        ),
        item(
          { email: 'c6@example.com' },
          { options: { dotdigital: { mergeOption: 'OVERWRITE_IF_EMPTY' } } },
        ),
      ],
      ctx(),
    );
    expect(results.map((r) => r.status)).toEqual(Array(6).fill('CREATED'));
    const imports = requests('PUT').map((r) => {
      const b = r.body as {
        mergeOption?: string;
        contacts: Array<{ identifiers: { email: string } }>;
      };
      return [b.mergeOption ?? null, b.contacts.map((c) => c.identifiers.email)];
    });
    expect(imports).toHaveLength(3);
    expect(imports).toContainEqual([null, ['c1@example.com', 'c2@example.com']]);
    expect(imports).toContainEqual([null, ['c3@example.com']]);
    expect(imports).toContainEqual(['overwriteIfNotEmpty', ['c4@example.com', 'c5@example.com']]);
    expect(requests('PATCH').map((r) => [r.path, r.query])).toEqual([
      ['/contacts/v3/email/c6%40example.com', { 'merge-option': 'overwrite-if-empty' }],
    ]);
  });

  it('merges two writes of one contact in a batch into one import entry', async () => {
    const results = await adapter.upsertMany(
      [
        item({ email: 'dup@example.com', firstName: 'A' }),
        item({ email: 'other@example.com' }),
        item({ email: 'DUP@example.com', lastName: 'B' }),
      ],
      ctx(),
    );
    const contacts = (requests('PUT')[0]!.body as { contacts: Array<Record<string, unknown>> })
      .contacts;
    expect(contacts).toHaveLength(2);
    expect(contacts[0]).toMatchObject({
      dataFields: { FIRSTNAME: 'A', LASTNAME: 'B', FULLNAME: 'A B' },
    });
    expect(results[0]!.remoteId).toBe(results[2]!.remoteId);
    expect(results.map((r) => r.status)).toEqual(['CREATED', 'CREATED', 'CREATED']);
  });

  it('fails every contact of an import Dotdigital refuses', async () => {
    sandbox.controls.inject({
      method: 'PUT',
      faults: [
        {
          kind: 'status',
          status: 429,
          body: {
            errorCode: 'contacts:tooManyActiveImports',
            description: 'Too many active imports',
          },
        },
      ],
    });
    const results = await adapter.upsertMany(
      [item({ email: 'r1@example.com' }), item({ email: 'r2@example.com' })],
      ctx(),
    );
    for (const r of results) {
      expect(r).toMatchObject({
        status: 'FAILED',
        error: { code: 'contacts:tooManyActiveImports', httpStatus: 429, retryable: true },
      });
    }
    expect(requests('GET')).toHaveLength(0);
  });
});

describe('Dotdigital adapter: errors', () => {
  it('409 contacts:idAlreadyExists is a non-retryable conflict with the provider code', async () => {
    sandbox.controls.inject({
      method: 'PATCH',
      faults: [
        {
          kind: 'status',
          status: 409,
          body: {
            errorCode: 'contacts:idAlreadyExists',
            description: 'Identifier already exists',
            details: [{ item: 'mobileNumber', error: 'belongs to contact 5' }],
          },
        },
      ],
    });
    const [r] = await adapter.upsertMany([item({ email: 'conflict@example.com' })], ctx());
    expect(r).toMatchObject({
      status: 'FAILED',
      remoteId: null,
      error: { code: 'contacts:idAlreadyExists', httpStatus: 409, retryable: false },
    });
    expect(r!.error!.message).toContain('Identifier already exists');
    expect(r!.error!.message).toContain('mobileNumber: belongs to contact 5');
  });

  it('a real 409 from the sandbox: an identifier that belongs to another contact', async () => {
    await adapter.upsertMany([item({ email: 'owner@example.com', phone: '+14155550111' })], ctx());
    const [r] = await adapter.upsertMany(
      [item({ email: 'thief@example.com', phone: '+14155550111' })],
      ctx(),
    );
    expect(r).toMatchObject({
      status: 'FAILED',
      error: { code: 'contacts:idAlreadyExists', httpStatus: 409, retryable: false },
    });
  });

  it('429 is retryable and keeps the x-ratelimit headers and Retry-After in details', async () => {
    sandbox.controls.inject({
      method: 'PATCH',
      faults: [dotdigitalThrottled(12)],
    });
    const [r] = await adapter.upsertMany([item({ email: 'limited@example.com' })], ctx());
    expect(r).toMatchObject({
      status: 'FAILED',
      error: {
        code: 'throttled',
        httpStatus: 429,
        retryable: true,
        details: {
          rateLimitScope: 'Medium',
          rateLimitLimit: 100,
          rateLimitReset: 30,
          rateLimitResetAt: expect.any(String),
          retryAfterMs: 12_000,
        },
      },
    });
  });

  it('429 without a body or Retry-After: RATE_LIMITED, wait from an epoch x-ratelimit-reset', async () => {
    const resetAt = Math.floor(Date.now() / 1000) + 20;
    sandbox.controls.inject({
      method: 'PATCH',
      faults: [
        {
          kind: 'status',
          status: 429,
          headers: { 'x-ratelimit-reset': String(resetAt) },
          body: '',
        },
      ],
    });
    const [r] = await adapter.upsertMany([item({ email: 'limited2@example.com' })], ctx());
    expect(r!.error).toMatchObject({ code: 'RATE_LIMITED', retryable: true });
    expect(r!.error!.details!['rateLimitResetAt']).toBe(new Date(resetAt * 1000).toISOString());
    expect(r!.error!.details!['retryAfterMs']).toBeGreaterThan(15_000);
    expect(r!.error!.details!['retryAfterMs']).toBeLessThanOrEqual(20_000);
  });

  it('the sandbox rate limit answers 429 with its headers, mapped the same way', async () => {
    sandbox.setRateLimits({ Medium: { limit: 1, windowMs: 60_000 } });
    try {
      const results = await adapter.updateMany(
        [item({ lastName: 'A' }, { remoteId: '1' }), item({ lastName: 'B' }, { remoteId: '2' })],
        ctx(),
      );
      const limited = results.find((r) => r.error?.httpStatus === 429);
      expect(limited!.error).toMatchObject({
        retryable: true,
        details: { rateLimitLimit: 1, retryAfterMs: expect.any(Number) },
      });
    } finally {
      sandbox.setRateLimits(null);
    }
  });

  it('401 (wrong password) is UNAUTHORIZED, not retryable, and never echoes the secret', async () => {
    const wrong = createDotdigitalAdapter(
      {
        url: sandbox.url,
        username: USER,
        password: new Secret('wrong-password-XYZ'),
        dataFieldMap: {},
        batchSize: 1000,
        importMaxWaitMs: 1_000,
        importPollIntervalMs: 10,
        concurrency: 2,
      },
      adapterDeps(),
    );
    adapters.add(wrong);
    const results = await wrong.upsertMany([item({ email: 'who@example.com' })], ctx());
    const reads = await wrong.readMany([{ by: 'email', value: 'who@example.com' }], ctx());
    expect(results[0]).toMatchObject({
      status: 'FAILED',
      error: { code: 'UNAUTHORIZED', httpStatus: 401, retryable: false },
    });
    expect(reads[0]).toMatchObject({ code: 'UNAUTHORIZED', httpStatus: 401, retryable: false });
    const text = JSON.stringify([results, reads]);
    expect(text).not.toContain('wrong-password-XYZ');
    expect(text).not.toContain(Buffer.from(`${USER}:wrong-password-XYZ`).toString('base64'));
  });

  it('5xx is retryable; a malformed success body is UPSTREAM_BAD_RESPONSE', async () => {
    sandbox.controls.inject({
      method: 'PATCH',
      faults: [
        { kind: 'status', status: 503, body: 'Service Unavailable' },
        { kind: 'malformed', status: 200 },
      ],
    });
    const [down] = await adapter.upsertMany([item({ email: 'down@example.com' })], ctx());
    const [bad] = await adapter.upsertMany([item({ email: 'down@example.com' })], ctx());
    expect(down!.error).toMatchObject({
      code: 'UPSTREAM_HTTP_ERROR',
      httpStatus: 503,
      retryable: true,
    });
    expect(bad!.error).toMatchObject({ code: 'UPSTREAM_BAD_RESPONSE', httpStatus: 200 });
  });
});

describe('Dotdigital adapter: reads and dry runs', () => {
  it('reads by email and by contactId; 404 contacts:contactNotFound is null', async () => {
    const [c] = await adapter.upsertMany(
      [item({ email: 'reader@example.com', firstName: 'Rea', address: { postalCode: 'N1' } })],
      ctx(),
    );
    sandbox.controls.reset();
    const stats = ctx();
    const reads = await adapter.readMany(
      [
        { by: 'email', value: 'reader@example.com' },
        { by: 'remoteId', value: c!.remoteId! },
        { by: 'email', value: 'nobody@example.com' },
        { by: 'externalId', value: 'crm-1' },
      ],
      stats,
    );
    expect(reads[0]).toMatchObject({
      remoteId: c!.remoteId,
      contact: { email: 'reader@example.com', firstName: 'Rea', address: { postalCode: 'N1' } },
    });
    expect(reads[1]).toEqual(reads[0]);
    expect(reads[2]).toBeNull();
    expect(reads[3]).toMatchObject({ code: 'BAD_REQUEST', retryable: false });
    expect(
      requests('GET')
        .map((r) => r.path)
        .sort(),
    ).toEqual(
      [
        '/contacts/v3/email/reader%40example.com',
        `/contacts/v3/contactId/${c!.remoteId}`,
        '/contacts/v3/email/nobody%40example.com',
      ].sort(),
    );
    expect(stats.stats.upstreamRequests).toBe(3);
  });

  it('a read failure other than contactNotFound is a ProviderErrorInfo', async () => {
    sandbox.controls.inject({
      method: 'GET',
      faults: [
        {
          kind: 'status',
          status: 500,
          body: { errorCode: 'contacts:internal', description: 'boom' },
        },
      ],
    });
    const [r] = await adapter.readMany([{ by: 'email', value: 'x@example.com' }], ctx());
    expect(r).toMatchObject({ code: 'contacts:internal', httpStatus: 500, retryable: true });
  });

  it('planWrite returns the exact PATCH with credentials redacted, and sends nothing', () => {
    const plan = adapter.planWrite(
      item(
        { email: 'dry+run@example.com', firstName: 'Dry', jobTitle: 'Dropped' },
        { options: { dotdigital: { mergeOption: 'OVERWRITE_IF_NOT_EMPTY' } } },
      ),
    );
    expect(plan).toEqual({
      ok: true,
      request: {
        method: 'PATCH',
        url: `${sandbox.url}/contacts/v3/email/dry%2Brun%40example.com?merge-option=overwrite-if-not-empty`,
        headers: {
          accept: 'application/json',
          authorization: 'Basic [redacted]',
          'content-type': 'application/json',
        },
        body: { identifiers: { email: 'dry+run@example.com' }, dataFields: { FIRSTNAME: 'Dry' } },
      },
      droppedFields: ['jobTitle'],
      details: {
        droppedFieldReasons: { jobTitle: expect.stringMatching(/no Dotdigital data field/) },
      },
    });
    expect(JSON.stringify(plan)).not.toContain(PASSWORD);
    expect(adapter.planWrite(item({ firstName: 'X' }))).toMatchObject({
      ok: false,
      error: { code: 'MISSING_REQUIRED_FIELD' },
    });
    expect(requests()).toHaveLength(0);
  });

  it('reports capabilities from the config', () => {
    expect(adapter.capabilities).toMatchObject({ maxBatchSize: 1000, readKeys: ['email'] });
    expect(adapter.capabilities.clearableFields).not.toContain('email');
    expect(adapter.capabilities.acceptedFields).toContain('email');
    expect(adapter.baseUrl).toBe(sandbox.url);
  });
});
