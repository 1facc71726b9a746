import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Secret } from '../../../../src/config.js';
import { type CallPolicy, singleAttemptPolicy } from '../../../../src/http/policy.js';
import type { ProviderOptions } from '../../../../src/model/contact.js';
import { asUpstreamError } from '../../../../src/model/errors.js';
import type { Outcome } from '../../../../src/model/outcome.js';
import type { DigitalOnboardingConfig } from '../../../../src/providers/digital-onboarding/config.js';
import {
  idempotencyKeyFor,
  UUID_V4,
} from '../../../../src/providers/digital-onboarding/idempotency.js';
import { createDigitalOnboardingAdapter } from '../../../../src/providers/digital-onboarding/index.js';
import type { ProviderAdapter } from '../../../../src/providers/types.js';
import { startDigitalOnboardingSandbox } from '../../../../src/sandbox/digital-onboarding/index.js';
import { adapterConfig, adapterDeps, adapterSet, ctx, item } from '../../../helpers/adapter.js';
import { useSandbox } from '../../../helpers/sandbox-http.js';

/** The adapter against the Digital Onboarding sandbox on a loopback port: real HTTP, real wire. */
const TOKEN = 'do-unit-partner-token-S3cret';
const CONTACTS = '/v2/partner/contacts';

const sandbox = useSandbox(() => startDigitalOnboardingSandbox({ token: TOKEN }));
let adapter: ProviderAdapter;
const adapters = adapterSet();
const flags = (...overrides: string[]) => ({ digitalOnboarding: { overrides } }) as ProviderOptions;

/** Retries a retryable failure once, like the resilience policy will. */
const retryOncePolicy: CallPolicy = {
  async execute(call, fn) {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return { ok: true, value: await fn(attempt), attempts: attempt };
      } catch (err) {
        const error = asUpstreamError(call.provider, err);
        if (attempt >= 2 || !error.retryable || !call.idempotent) {
          return { ok: false, error, attempts: attempt };
        }
      }
    }
  },
};

function makeAdapter(
  over: Partial<DigitalOnboardingConfig> = {},
  policy: CallPolicy = singleAttemptPolicy,
): ProviderAdapter {
  const a = createDigitalOnboardingAdapter(
    adapterConfig.digitalOnboarding(
      sandbox.url,
      { token: TOKEN, batchSize: sandbox.maxBulkItems },
      over,
    ),
    adapterDeps(policy),
  );
  return adapters.add(a);
}

const requests = (method?: string) =>
  sandbox.controls.requests.filter((r) => method === undefined || r.method === method);

function expectNoToken(value: unknown) {
  expect(JSON.stringify(value)).not.toContain(TOKEN);
}

beforeAll(async () => {
  adapter = makeAdapter();
});
afterAll(async () => {
  await adapters.close();
});
beforeEach(() => {
  sandbox.store.clear();
});

describe('Digital Onboarding adapter: single writes', () => {
  it('creates (201) then updates (200) with one POST object, Bearer token and an Idempotency-Key', async () => {
    const stats = ctx();
    const [first] = await adapter.upsertMany(
      [item({ externalId: 'crm-1', email: 'ada@example.com', firstName: 'Ada' })],
      stats,
    );
    const stored = sandbox.store.findByUniqueId('crm-1');
    expect(first).toMatchObject({
      status: 'CREATED',
      remoteId: stored!.id,
      error: null,
      attempts: 1,
      droppedFields: [],
      contact: { externalId: 'crm-1', email: 'ada@example.com', firstName: 'Ada' },
    });
    expect(stats.stats.upstreamRequests).toBe(1);
    const [second] = await adapter.upsertMany(
      [item({ externalId: 'crm-1', lastName: 'King', jobTitle: 'Countess' })],
      ctx(),
    );
    expect(second).toMatchObject({
      status: 'UPDATED',
      remoteId: stored!.id,
      droppedFields: ['jobTitle'],
      contact: { firstName: 'Ada', lastName: 'King' },
    });

    const [create, update] = requests('POST');
    expect(create).toMatchObject({
      path: CONTACTS,
      body: { unique_id: 'crm-1', email: 'ada@example.com', name_first: 'Ada' },
    });
    expect(update!.body).toEqual({ unique_id: 'crm-1', name_last: 'King' });
    for (const r of [create!, update!]) {
      expect(r.headers['authorization']).toBe(`Bearer ${TOKEN}`);
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['idempotency-key']).toMatch(UUID_V4);
      expect(r.headers['x-operator-override']).toBeUndefined();
    }
    expect(create!.headers['idempotency-key']).not.toBe(update!.headers['idempotency-key']);
    expectNoToken([first, second]);
  });

  it('updateMany PATCHes by the contact UUID: null clears, custom fields merge, only the patch is sent', async () => {
    const [created] = await adapter.upsertMany(
      [
        item({
          email: 'patch@example.com',
          firstName: 'Gone',
          lastName: 'Stays',
          customFields: { a: 1, b: 2 },
        }),
      ],
      ctx(),
    );
    const id = created!.remoteId!;
    sandbox.controls.reset();
    const stats = ctx();
    const [r] = await adapter.updateMany(
      [
        item(
          {
            firstName: null,
            customFields: { b: null, c: 3 },
            smsConsent: { status: 'SUBSCRIBED', verified: null },
          },
          { remoteId: id, known: { email: 'patch@example.com' } },
        ),
      ],
      stats,
    );
    expect(r).toMatchObject({
      status: 'UPDATED',
      remoteId: id,
      droppedFields: ['smsConsent.verified'],
    });
    expect(stats.stats.upstreamRequests).toBe(1);
    const [patch] = requests('PATCH');
    expect(patch!.path).toBe(`${CONTACTS}/${id}`);
    expect(patch!.body).toEqual({
      name_first: null,
      meta_public: { b: null, c: 3 },
      sms_opted_in: true,
      sms_unsubscribed: false,
    });
    expect(patch!.headers['idempotency-key']).toMatch(UUID_V4);
    expect(patch!.headers['x-operator-override']).toBeUndefined();
    expect(sandbox.store.get(id)).toMatchObject({
      name_first: null,
      name_last: 'Stays',
      meta_public: { a: 1, c: 3 },
      sms_opted_in: true,
    });
    expect(r!.contact).toMatchObject({
      lastName: 'Stays',
      customFields: { a: 1, c: 3 },
      smsConsent: { status: 'SUBSCRIBED' },
    });
    expect(r!.contact!.firstName).toBeUndefined();
  });

  it('updateMany skips an unlinked contact without calling Digital Onboarding', async () => {
    const [r] = await adapter.updateMany([item({ firstName: 'X' })], ctx());
    expect(r).toMatchObject({ status: 'SKIPPED', error: { code: 'PROVIDER_NOT_LINKED' } });
    expect(requests()).toHaveLength(0);
  });

  it('a linked contact alone is PATCHed; one Digital Onboarding lost is created again by POST', async () => {
    const [created] = await adapter.upsertMany(
      [item({ externalId: 'crm-5', email: 'lost@example.com' })],
      ctx(),
    );
    const oldId = created!.remoteId!;
    const known = { externalId: 'crm-5', email: 'lost@example.com' };
    const [kept] = await adapter.upsertMany(
      [item({ lastName: 'K' }, { remoteId: oldId, known })],
      ctx(),
    );
    expect(kept).toMatchObject({ status: 'UPDATED', remoteId: oldId, attempts: 1 });
    expect(requests('PATCH').map((r) => r.path)).toEqual([`${CONTACTS}/${oldId}`]);

    sandbox.store.delete(oldId);
    sandbox.controls.reset();
    const stats = ctx();
    const [again] = await adapter.upsertMany(
      [item({ lastName: 'Back' }, { remoteId: oldId, known })],
      stats,
    );
    expect(again).toMatchObject({ status: 'CREATED', attempts: 2, error: null });
    expect(again!.remoteId).not.toBe(oldId);
    expect(requests().map((r) => [r.method, r.path])).toEqual([
      ['PATCH', `${CONTACTS}/${oldId}`],
      ['POST', CONTACTS],
    ]);
    expect(requests('POST')[0]!.body).toEqual({ unique_id: 'crm-5', name_last: 'Back' });
    expect(stats.stats.upstreamRequests).toBe(2);
  });

  it('skips a contact without externalId or email, without calling Digital Onboarding', async () => {
    const [r] = await adapter.upsertMany([item({ phone: '+13125550123' })], ctx());
    expect(r).toMatchObject({ status: 'SKIPPED', error: { code: 'MISSING_REQUIRED_FIELD' } });
    expect(requests()).toHaveLength(0);
  });

  it('a contact Digital Onboarding refuses (422) fails with its code, not retryable', async () => {
    const [r] = await adapter.upsertMany(
      [item({ email: 'ok@example.com', timezone: '+05:00' })],
      ctx(),
    );
    expect(r).toMatchObject({
      status: 'FAILED',
      error: { code: 'invalid_format', httpStatus: 422, retryable: false },
    });
    expect(r!.error!.message).toContain('timezone');
    expect(sandbox.store.size).toBe(0);
  });
});

describe('Digital Onboarding adapter: bulk upserts', () => {
  it('sends 250 contacts in ⌈250/B⌉ POSTs with X-Operator-Override: bulk; one bad item fails alone', async () => {
    const B = sandbox.maxBulkItems;
    const items = Array.from({ length: 250 }, (_, i) =>
      item({
        externalId: `b-${i}`,
        email: i === 137 ? 'not-an-email' : `bulk${i}@example.com`,
        firstName: `F${i}`,
      }),
    );
    const stats = ctx();
    const results = await adapter.upsertMany(items, stats);
    const posts = requests('POST');
    expect(posts).toHaveLength(Math.ceil(250 / B));
    expect(stats.stats.upstreamRequests).toBe(Math.ceil(250 / B));
    const sizes = posts
      .map((p) => (p.body as { items: unknown[] }).items.length)
      .sort((a, b) => b - a);
    expect(sizes).toEqual([100, 100, 50]);
    for (const p of posts) {
      expect(p.path).toBe(CONTACTS);
      expect(p.headers['x-operator-override']).toBe('bulk');
      expect(p.headers['idempotency-key']).toMatch(UUID_V4);
      expect(p.headers['authorization']).toBe(`Bearer ${TOKEN}`);
    }
    expect(new Set(posts.map((p) => p.headers['idempotency-key'])).size).toBe(posts.length);
    expect(
      (
        posts.find((p) => (p.body as { items: unknown[] }).items.length === 50)!.body as {
          items: unknown[];
        }
      ).items[0],
    ).toEqual({ unique_id: 'b-200', email: 'bulk200@example.com', name_first: 'F200' });

    const bad = results[137]!;
    expect(bad).toMatchObject({
      status: 'FAILED',
      remoteId: null,
      error: { code: 'invalid_format', httpStatus: 422, retryable: false },
    });
    expect(bad.error!.message).toContain('email');
    results.forEach((r, i) => {
      if (i === 137) {
        return;
      }
      expect(r.status).toBe('CREATED');
      expect(r.remoteId).toBe(sandbox.store.findByUniqueId(`b-${i}`)!.id);
      expect(r.contact).toMatchObject({ firstName: `F${i}` });
    });
    expect(sandbox.store.size).toBe(249);
    expectNoToken(results);
  });

  it('re-upserted contacts come back UPDATED; two writes of one contact are merged into one item', async () => {
    await adapter.upsertMany(
      [item({ email: 'dup@example.com' }), item({ email: 'other@example.com' })],
      ctx(),
    );
    sandbox.controls.reset();
    const results = await adapter.upsertMany(
      [
        item({ email: 'dup@example.com', firstName: 'A' }),
        item({ email: 'new@example.com' }),
        item({ email: 'DUP@example.com', lastName: 'B' }),
      ],
      ctx(),
    );
    const [post] = requests('POST');
    expect(requests('POST')).toHaveLength(1);
    expect((post!.body as { items: unknown[] }).items).toEqual([
      // Later wins column by column (the gateway lower-cases emails before adapters see them).
      { email: 'DUP@example.com', name_first: 'A', name_last: 'B' },
      { email: 'new@example.com' },
    ]);
    expect(results.map((r) => r.status)).toEqual(['UPDATED', 'CREATED', 'UPDATED']);
    expect(results[0]!.remoteId).toBe(results[2]!.remoteId);
    expect(results[0]!.details).toMatchObject({ mergedWith: 1 });
  });

  it('items with their own override flags travel in their own bulk request', async () => {
    const results = await adapter.upsertMany(
      [
        item({ email: 'g1@example.com' }),
        item(
          { email: 'g2@example.com', phone: '12345' },
          { options: flags('bypass_validation=phone_format') },
        ),
        item({ email: 'g3@example.com' }),
        item({ email: 'g4@example.com' }, { options: flags('force') }),
      ],
      ctx(),
    );
    expect(results.map((r) => r.status)).toEqual(['CREATED', 'CREATED', 'CREATED', 'CREATED']);
    const byHeader = Object.fromEntries(
      requests('POST').map((p) => [
        p.headers['x-operator-override'],
        (p.body as { items: Array<{ email: string }> }).items.map((i) => i.email),
      ]),
    );
    expect(byHeader).toEqual({
      bulk: ['g1@example.com', 'g3@example.com'],
      'bulk,bypass_validation=phone_format': ['g2@example.com'],
      'bulk,force': ['g4@example.com'],
    });
    expect(sandbox.store.findByEmail('g2@example.com')!.phone_mobile).toBe('12345');
  });

  it('a refused bulk request that blames items: those fail alone and the rest are sent again', async () => {
    sandbox.controls.inject({
      method: 'POST',
      path: CONTACTS,
      faults: [
        {
          kind: 'status',
          status: 422,
          body: {
            errors: [
              {
                code: 'blocked_domain',
                title: 'Blocked',
                detail: 'items[1].email uses a blocked domain',
                meta: { field: 'items[1].email' },
              },
            ],
          },
        },
      ],
    });
    const results = await adapter.upsertMany(
      [
        item({ email: 'keep1@example.com' }),
        item({ email: 'spam@blocked.example' }),
        item({ email: 'keep2@example.com' }),
      ],
      ctx(),
    );
    expect(results.map((r) => [r.status, r.error?.code ?? null])).toEqual([
      ['CREATED', null],
      ['FAILED', 'blocked_domain'],
      ['CREATED', null],
    ]);
    expect(results[1]!.error).toMatchObject({ httpStatus: 422, retryable: false });
    expect(results[0]!.attempts).toBe(2);
    const posts = requests('POST');
    expect(
      posts.map((p) => (p.body as { items: Array<{ email: string }> }).items.map((i) => i.email)),
    ).toEqual([
      ['keep1@example.com', 'spam@blocked.example', 'keep2@example.com'],
      ['keep1@example.com', 'keep2@example.com'],
    ]);
    expect(posts[0]!.headers['idempotency-key']).not.toBe(posts[1]!.headers['idempotency-key']);
  });

  it('a bulk refusal that blames no item fails every item of it', async () => {
    sandbox.controls.inject({
      method: 'POST',
      faults: [
        {
          kind: 'status',
          status: 403,
          body: {
            errors: [
              {
                code: 'bulk_override_required',
                title: 'Override required',
                detail: 'needs bulk',
                meta: { row_count: 2 },
              },
            ],
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
        error: {
          code: 'bulk_override_required',
          httpStatus: 403,
          retryable: false,
          details: { errors: [{ code: 'bulk_override_required', meta: { row_count: 2 } }] },
        },
      });
    }
    expect(requests('POST')).toHaveLength(1);
  });
});

describe('Digital Onboarding adapter: lenient bulk answers', () => {
  const A = '11111111-1111-4111-8111-111111111111';
  const B = '22222222-2222-4222-8222-222222222222';
  const C = '33333333-3333-4333-8333-333333333333';
  const T1 = '2026-01-01T00:00:00Z';
  const T2 = '2026-01-02T00:00:00Z';
  const batch = () => [
    item({ externalId: 'u-a', email: 'a@example.com' }),
    item({ email: 'b@example.com' }),
    item({ externalId: 'u-c' }),
  ];
  const answer = (body: unknown) =>
    sandbox.controls.inject({
      method: 'POST',
      path: CONTACTS,
      faults: [{ kind: 'status', status: 200, body }],
    });
  const summary = (results: Outcome[]) =>
    results.map((r) => [r.status, r.remoteId, r.error?.code ?? null]);

  it('a bare array of contacts in another order is matched by unique_id and email', async () => {
    answer([
      { id: C, unique_id: 'u-c', inserted_at: T1, updated_at: T2 },
      { id: B, email: 'B@example.com', inserted_at: T1, updated_at: T1 },
      { id: A, unique_id: 'u-a', email: 'a@example.com', inserted_at: T1, updated_at: T1 },
    ]);
    expect(summary(await adapter.upsertMany(batch(), ctx()))).toEqual([
      ['CREATED', A, null],
      ['CREATED', B, null],
      ['UPDATED', C, null],
    ]);
  });

  it('{items: [per-item results]} with index, status and errors', async () => {
    answer({
      items: [
        // A per-item status is no evidence (DO-1 answers 201 either way): the timestamps are.
        {
          index: 1,
          status: 200,
          contact: { id: B, email: 'b@example.com', inserted_at: T1, updated_at: T2 },
        },
        {
          index: 2,
          errors: [{ code: 'locked', title: 'Locked', detail: 'workflow', meta: { status: 409 } }],
        },
        { index: 0, status: 201, contact: { id: A, unique_id: 'u-a' } },
      ],
    });
    const results = await adapter.upsertMany(batch(), ctx());
    expect(summary(results)).toEqual([
      ['CREATED', A, null],
      ['UPDATED', B, null],
      ['FAILED', null, 'locked'],
    ]);
    expect(results[2]!.error).toMatchObject({ httpStatus: 409, retryable: false });
    expect(results[2]!.error!.message).toContain('Locked: workflow');
  });

  it('{results: [...]} missing an item reports that item as a retryable bad response', async () => {
    answer({
      results: [{ contact: { id: A, unique_id: 'u-a' } }, { data: { id: C, unique_id: 'u-c' } }],
    });
    const results = await adapter.upsertMany(batch(), ctx());
    expect(summary(results)).toEqual([
      ['CREATED', A, null],
      ['FAILED', null, 'UPSTREAM_BAD_RESPONSE'],
      ['CREATED', C, null],
    ]);
    expect(results[1]!.error!.retryable).toBe(true);
  });

  it('a 200 with no list at all fails the chunk as a bad response', async () => {
    answer({ ok: true });
    sandbox.controls.inject({
      method: 'POST',
      path: CONTACTS,
      faults: [{ kind: 'malformed', status: 200 }],
    });
    for (let i = 0; i < 2; i += 1) {
      const results = await adapter.upsertMany(batch(), ctx());
      expect(results.map((r) => r.error?.code)).toEqual(Array(3).fill('UPSTREAM_BAD_RESPONSE'));
    }
  });
});

describe('Digital Onboarding adapter: Idempotency-Key', () => {
  it('is the same on every retry of one call (single and bulk)', async () => {
    const retrying = makeAdapter({}, retryOncePolicy);
    sandbox.controls.inject({
      method: 'POST',
      path: CONTACTS,
      faults: [
        { kind: 'status', status: 503, body: { errors: [{ code: 'unavailable' }] } },
        { kind: 'pass' },
        { kind: 'reset' },
      ],
    });
    const [single] = await retrying.upsertMany([item({ email: 'retry@example.com' })], ctx());
    expect(single).toMatchObject({ status: 'CREATED', attempts: 2 });
    const stats = ctx();
    const bulk = await retrying.upsertMany(
      [item({ email: 'r1@example.com' }), item({ email: 'r2@example.com' })],
      stats,
    );
    expect(bulk.map((r) => [r.status, r.attempts])).toEqual([
      ['CREATED', 2],
      ['CREATED', 2],
    ]);
    expect(stats.stats.upstreamRequests).toBe(2);
    const keys = requests('POST').map((r) => r.headers['idempotency-key']);
    expect(keys).toHaveLength(4);
    expect(keys[0]).toMatch(UUID_V4);
    expect(keys[1]).toBe(keys[0]);
    expect(keys[3]).toBe(keys[2]);
    expect(keys[2]).not.toBe(keys[0]);
    expect(sandbox.store.size).toBe(3);
  });

  it('is derived from the gateway idempotency key: same key and input → same header, replayed once', async () => {
    const write = (gatewayKey: string | null) =>
      adapter.upsertMany(
        [item({ externalId: 'idem-1', firstName: 'Once' }, { idempotencyKey: gatewayKey })],
        ctx(),
      );
    const [first] = await write('client-key-1');
    const updatedAt = sandbox.store.findByUniqueId('idem-1')!.updated_at;
    const [second] = await write('client-key-1');
    const [third] = await write('client-key-2');
    const [fourth] = await write(null);
    const [fifth] = await write(null);
    const keys = requests('POST').map((r) => r.headers['idempotency-key']);
    expect(keys[0]).toBe(
      idempotencyKeyFor(['client-key-1'], {
        method: 'POST',
        path: CONTACTS,
        overrides: null,
        body: { unique_id: 'idem-1', name_first: 'Once' },
      }),
    );
    expect(keys[1]).toBe(keys[0]);
    expect(new Set(keys).size).toBe(4);
    // The sandbox replayed the first answer: same status, same contact, nothing written again.
    expect(second).toMatchObject({ status: 'CREATED', remoteId: first!.remoteId });
    expect(third!.status).toBe('UPDATED');
    expect(fourth!.status).toBe('UPDATED');
    expect(fifth!.status).toBe('UPDATED');
    expect(sandbox.store.findByUniqueId('idem-1')!.updated_at).not.toBe(updatedAt);
  });

  it('a bulk request gets a derived key too, different per chunk', async () => {
    const small = makeAdapter({ batchSize: 2 });
    const items = () =>
      ['k1', 'k2', 'k3'].map((k) => item({ externalId: k }, { idempotencyKey: 'batch-key' }));
    await small.upsertMany(items(), ctx());
    await small.upsertMany(items(), ctx());
    const keys = requests('POST').map((r) => r.headers['idempotency-key']);
    expect(keys).toHaveLength(4);
    expect(new Set(keys.slice(0, 2)).size).toBe(2);
    expect(new Set(keys.slice(2)).size).toBe(2);
    expect([...keys.slice(2)].sort()).toEqual([...keys.slice(0, 2)].sort());
  });
});

describe('Digital Onboarding adapter: auth and errors', () => {
  it('401 scope_missing is a non-retryable ProviderError with the provider code and scope', async () => {
    sandbox.addToken('read-only-token-XYZ', ['partner:contacts:read']);
    const readOnly = makeAdapter({ token: new Secret('read-only-token-XYZ') });
    const results = [
      ...(await readOnly.upsertMany([item({ email: 'ro@example.com' })], ctx())),
      ...(await readOnly.upsertMany(
        [item({ email: 'ro1@example.com' }), item({ email: 'ro2@example.com' })],
        ctx(),
      )),
    ];
    for (const r of results) {
      expect(r).toMatchObject({
        status: 'FAILED',
        error: {
          code: 'scope_missing',
          httpStatus: 401,
          retryable: false,
          details: { requiredScope: 'partner:contacts:write' },
        },
      });
    }
    const reads = await readOnly.readMany([{ by: 'email', value: 'nobody@example.com' }], ctx());
    expect(reads).toEqual([null]);
    expect(JSON.stringify(results)).not.toContain('read-only-token-XYZ');
  });

  it('403 for an override the token may not use (scope insufficient) fails the batch, not retryable', async () => {
    sandbox.addToken('no-bulk-token', ['partner:contacts:*']);
    sandbox.setAllowedOverrides('no-bulk-token', ['force']);
    const noBulk = makeAdapter({ token: new Secret('no-bulk-token') });
    const results = await noBulk.upsertMany(
      [item({ email: 'nb1@example.com' }), item({ email: 'nb2@example.com' })],
      ctx(),
    );
    for (const r of results) {
      expect(r.error).toMatchObject({
        code: 'scope_insufficient',
        httpStatus: 403,
        retryable: false,
      });
    }
    const [single] = await noBulk.upsertMany(
      [item({ email: 'nb1@example.com' }, { options: flags('force') })],
      ctx(),
    );
    expect(single!.status).toBe('CREATED');
  });

  it('403 override_required keeps the provider code; an unknown token is 401 invalid_token', async () => {
    sandbox.controls.inject({
      method: 'PATCH',
      faults: [
        {
          kind: 'status',
          status: 403,
          body: {
            errors: [
              {
                code: 'override_required',
                title: 'Override required',
                detail: 'force needed',
                meta: { required_override: 'force' },
              },
            ],
          },
        },
      ],
    });
    const [r] = await adapter.updateMany(
      [item({ firstName: 'X' }, { remoteId: '44444444-4444-4444-8444-444444444444' })],
      ctx(),
    );
    expect(r).toMatchObject({
      status: 'FAILED',
      error: { code: 'override_required', httpStatus: 403, retryable: false },
    });
    expect(r!.error!.message).toBe(
      'Digital Onboarding answered 403 override_required: Override required: force needed',
    );

    const stranger = makeAdapter({ token: new Secret('unknown-token-QQQ') });
    const [u] = await stranger.upsertMany([item({ email: 'x@example.com' })], ctx());
    expect(u!.error).toMatchObject({ code: 'invalid_token', httpStatus: 401, retryable: false });
    expect(JSON.stringify(u)).not.toContain('unknown-token-QQQ');
  });

  it('429 and 5xx are retryable with Retry-After and RateLimit-* in details; 404 on PATCH is not', async () => {
    sandbox.controls.inject({
      method: 'POST',
      faults: [
        {
          kind: 'status',
          status: 429,
          headers: { 'retry-after': '7', 'ratelimit-limit': '100', 'ratelimit-remaining': '0' },
          body: { errors: [{ code: 'rate_limited', title: 'Too many requests' }] },
        },
        { kind: 'status', status: 502, body: 'Bad Gateway' },
      ],
    });
    const [limited] = await adapter.upsertMany([item({ email: 'l@example.com' })], ctx());
    const [down] = await adapter.upsertMany([item({ email: 'l@example.com' })], ctx());
    expect(limited!.error).toMatchObject({
      code: 'rate_limited',
      httpStatus: 429,
      retryable: true,
      details: { retryAfterMs: 7000, rateLimitLimit: 100, rateLimitRemaining: 0 },
    });
    expect(down!.error).toMatchObject({
      code: 'UPSTREAM_HTTP_ERROR',
      httpStatus: 502,
      retryable: true,
    });
    const [missing] = await adapter.updateMany(
      [item({ firstName: 'X' }, { remoteId: '55555555-5555-4555-8555-555555555555' })],
      ctx(),
    );
    expect(missing!.error).toMatchObject({ code: 'not_found', httpStatus: 404, retryable: false });
  });
});

describe('Digital Onboarding adapter: reads, dry runs, capabilities', () => {
  it('reads by remote id, email and externalId; unknown is null; a failure is a ProviderError', async () => {
    const [c] = await adapter.upsertMany(
      [
        item({
          externalId: 'read-1',
          email: 'reader@example.com',
          firstName: 'Rea',
          address: { city: 'Oslo', country: 'NO' },
          emailConsent: { status: 'SUBSCRIBED', verified: true },
        }),
      ],
      ctx(),
    );
    sandbox.controls.reset();
    sandbox.controls.inject({
      method: 'GET',
      path: `${CONTACTS}/66666666-6666-4666-8666-666666666666`,
      faults: [
        { kind: 'status', status: 500, body: { errors: [{ code: 'internal', title: 'boom' }] } },
      ],
    });
    const stats = ctx();
    const reads = await adapter.readMany(
      [
        { by: 'remoteId', value: c!.remoteId! },
        { by: 'email', value: 'READER@example.com' },
        { by: 'externalId', value: 'read-1' },
        { by: 'email', value: 'nobody@example.com' },
        { by: 'remoteId', value: '77777777-7777-4777-8777-777777777777' },
        { by: 'remoteId', value: '66666666-6666-4666-8666-666666666666' },
      ],
      stats,
    );
    expect(reads[0]).toEqual({
      remoteId: c!.remoteId,
      contact: {
        externalId: 'read-1',
        email: 'reader@example.com',
        firstName: 'Rea',
        address: { city: 'Oslo', country: 'NO' },
        emailConsent: { status: 'SUBSCRIBED', verified: true, authorized: false },
        smsConsent: { verified: false, authorized: false },
      },
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(reads[1]).toEqual(reads[0]);
    expect(reads[2]).toEqual(reads[0]);
    expect(reads[3]).toBeNull();
    expect(reads[4]).toBeNull();
    expect(reads[5]).toMatchObject({ code: 'internal', httpStatus: 500, retryable: true });
    expect(stats.stats.upstreamRequests).toBe(6);
    const gets = requests('GET').map((r) => [r.path, r.query]);
    expect(gets).toContainEqual([CONTACTS, { email: 'READER@example.com' }]);
    expect(gets).toContainEqual([CONTACTS, { unique_id: 'read-1' }]);
  });

  it('planWrite returns the exact request with dry_run and a redacted token, and sends nothing', async () => {
    const plan = adapter.planWrite(
      item(
        { externalId: 'dry-1', email: 'dry@example.com', jobTitle: 'Dropped' },
        { options: flags('force'), idempotencyKey: 'gw-dry' },
      ),
    );
    const body = { unique_id: 'dry-1', email: 'dry@example.com' };
    expect(plan).toEqual({
      ok: true,
      request: {
        method: 'POST',
        url: `${sandbox.url}${CONTACTS}`,
        headers: {
          accept: 'application/json',
          authorization: 'Bearer [redacted]',
          'content-type': 'application/json',
          'idempotency-key': idempotencyKeyFor(['gw-dry'], {
            method: 'POST',
            path: CONTACTS,
            overrides: 'force,dry_run',
            body,
          }),
          'x-operator-override': 'force,dry_run',
        },
        body,
      },
      droppedFields: ['jobTitle'],
    });
    expectNoToken(plan);
    expect(requests()).toHaveLength(0);

    // The planned request is one Digital Onboarding accepts: sent as is (with the real token), it
    // answers as a dry run and stores nothing.
    if (!plan.ok) {
      throw new Error('unreachable');
    }
    const res = await fetch(plan.request.url, {
      method: plan.request.method,
      headers: { ...plan.request.headers, authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(plan.request.body),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-dry-run')).toBe('true');
    expect(sandbox.store.size).toBe(0);
  });

  it('planWrite of a linked contact is the PATCH updateContact sends; bad flags are refused', () => {
    const id = '88888888-8888-4888-8888-888888888888';
    const plan = adapter.planWrite(item({ firstName: null }, { remoteId: id }));
    expect(plan).toMatchObject({
      ok: true,
      request: {
        method: 'PATCH',
        url: `${sandbox.url}${CONTACTS}/${id}`,
        headers: { 'x-operator-override': 'dry_run', authorization: 'Bearer [redacted]' },
        body: { name_first: null },
      },
    });
    expect(
      adapter.planWrite(item({ email: 'x@example.com' }, { options: flags('dry_run') })),
    ).toMatchObject({
      ok: false,
      error: { code: 'BAD_REQUEST', retryable: false },
    });
    expect(adapter.planWrite(item({ firstName: 'X' }))).toMatchObject({
      ok: false,
      error: { code: 'MISSING_REQUIRED_FIELD' },
    });
    expect(requests()).toHaveLength(0);
  });

  it('reports capabilities from the config', () => {
    expect(adapter.id).toBe('DIGITAL_ONBOARDING');
    expect(adapter.baseUrl).toBe(sandbox.url);
    expect(makeAdapter({ batchSize: 25 }).capabilities).toMatchObject({
      maxBatchSize: 25,
      readKeys: ['email', 'externalId'],
    });
    expect(adapter.capabilities.acceptedFields).toContain('externalId');
    expect(adapter.capabilities.clearableFields).not.toContain('emailConsent.status');
  });
});
