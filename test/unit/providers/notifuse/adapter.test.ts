import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNotifuseAdapter } from '../../../../src/providers/notifuse/index.js';
import type { ProviderAdapter } from '../../../../src/providers/types.js';
import { startNotifuseSandbox } from '../../../../src/sandbox/notifuse/index.js';
import { adapterConfig, adapterDeps, ctx, item } from '../../../helpers/adapter.js';
import { useSandbox } from '../../../helpers/sandbox-http.js';

/** The adapter against its sandbox: the answers every documented form of Notifuse can give. */
const sandbox = useSandbox(() =>
  startNotifuseSandbox({ apiKey: 'unit-key', workspaceId: 'ws_unit' }),
);
let adapter: ProviderAdapter;

beforeAll(async () => {
  adapter = createNotifuseAdapter(
    adapterConfig.notifuse(sandbox.url, { apiKey: 'unit-key', workspaceId: 'ws_unit' }),
    adapterDeps(),
  );
});
afterAll(async () => {
  await adapter.close();
});

describe('Notifuse adapter: upsert answers', () => {
  it('accepts the seed form {action: "created", contact: {...}} and maps the contact back', async () => {
    sandbox.controls.inject({
      path: '/api/contacts.upsert',
      faults: [
        {
          kind: 'status',
          status: 200,
          body: {
            action: 'created',
            contact: { email: 'seed@example.com', first_name: 'Seed', country: 'US' },
            error: null,
          },
        },
      ],
    });
    const [r] = await adapter.upsertMany(
      [item({ email: 'seed@example.com', firstName: 'Seed' })],
      ctx(),
    );
    expect(r).toMatchObject({
      status: 'CREATED',
      remoteId: 'seed@example.com',
      contact: { email: 'seed@example.com', firstName: 'Seed', address: { country: 'US' } },
    });
  });

  it('accepts "updated" and the docs form {email, action: "update", error: null}', async () => {
    sandbox.controls.inject({
      path: '/api/contacts.upsert',
      faults: [
        {
          kind: 'status',
          status: 200,
          body: { action: 'updated', contact: { email: 'u@example.com' } },
        },
        {
          kind: 'status',
          status: 200,
          body: { email: 'u@example.com', action: 'update', error: null },
        },
      ],
    });
    const first = await adapter.upsertMany([item({ email: 'u@example.com' })], ctx());
    const second = await adapter.upsertMany([item({ email: 'u@example.com' })], ctx());
    expect([first[0]!.status, second[0]!.status]).toEqual(['UPDATED', 'UPDATED']);
  });

  it('reports a 200 with action "error" as FAILED, not retryable', async () => {
    sandbox.controls.inject({
      path: '/api/contacts.upsert',
      faults: [
        {
          kind: 'status',
          status: 200,
          body: { email: 'e@example.com', action: 'error', error: 'invalid email format' },
        },
      ],
    });
    const [r] = await adapter.upsertMany([item({ email: 'e@example.com' })], ctx());
    expect(r).toMatchObject({
      status: 'FAILED',
      error: { code: 'BAD_REQUEST', httpStatus: 200, retryable: false },
    });
    expect(r!.error!.message).toContain('invalid email format');
  });

  it('classifies permission failures (400 or 500) as FORBIDDEN and never retryable', async () => {
    sandbox.controls.inject({
      faults: [
        {
          kind: 'status',
          status: 400,
          body: { error: 'Insufficient permissions: write access to contacts required' },
        },
        {
          kind: 'status',
          status: 500,
          body: { error: 'Insufficient permissions: write access to lists required' },
        },
      ],
    });
    const [single] = await adapter.upsertMany([item({ email: 'p@example.com' })], ctx());
    const batch = await adapter.upsertMany(
      [item({ email: 'p1@example.com' }), item({ email: 'p2@example.com' })],
      ctx(),
    );
    expect(single).toMatchObject({
      status: 'FAILED',
      error: { code: 'FORBIDDEN', httpStatus: 400, retryable: false },
    });
    expect(batch.map((r) => r.error)).toEqual([
      expect.objectContaining({ code: 'FORBIDDEN', httpStatus: 500, retryable: false }),
      expect.objectContaining({ code: 'FORBIDDEN', httpStatus: 500, retryable: false }),
    ]);
  });

  it('keeps Retry-After of a 429 from a fronting proxy in the details', async () => {
    sandbox.controls.inject({
      faults: [
        {
          kind: 'status',
          status: 429,
          headers: { 'retry-after': '7' },
          body: { error: 'Too many requests' },
        },
      ],
    });
    const [r] = await adapter.upsertMany([item({ email: 'rl@example.com' })], ctx());
    expect(r).toMatchObject({
      status: 'FAILED',
      error: { code: 'RATE_LIMITED', retryable: true, details: { retryAfterMs: 7000 } },
    });
  });
});

describe('Notifuse adapter: import answers', () => {
  it('marks a contact the import answer left out as FAILED, and per-item errors alone', async () => {
    sandbox.controls.inject({
      path: '/api/contacts.import',
      faults: [
        {
          kind: 'status',
          status: 200,
          body: {
            operations: [
              { email: 'b@example.com', action: 'update' },
              {
                email: '',
                action: 'error',
                error: 'invalid contact at index 2: email is required',
              },
              { email: 'A@example.com', action: 'create' },
            ],
          },
        },
      ],
    });
    const results = await adapter.upsertMany(
      [
        item({ email: 'a@example.com' }),
        item({ email: 'b@example.com' }),
        item({ email: 'c@example.com' }),
        item({ email: 'd@example.com' }),
      ],
      ctx(),
    );
    // c is matched by the index its refusal names (its email comes back ""); d got no entry.
    expect(
      results.map((r) => [r.status, r.remoteId, r.error?.code ?? null, r.error?.retryable ?? null]),
    ).toEqual([
      ['CREATED', 'a@example.com', null, null],
      ['UPDATED', 'b@example.com', null, null],
      ['FAILED', null, 'BAD_REQUEST', false],
      ['FAILED', null, 'UPSTREAM_BAD_RESPONSE', true],
    ]);
  });

  it('fails a chunk Notifuse could not write, contact by contact, as the sandbox answers it', async () => {
    // One value over a column limit fails the whole statement at Notifuse. The adapter refuses it
    // before sending, so only that contact fails and the others are written.
    const results = await adapter.upsertMany(
      [
        item({ email: 'ok@example.com' }),
        item({ email: 'long@example.com', address: { postalCode: 'x'.repeat(30) } }),
      ],
      ctx(),
    );
    expect(results.map((r) => r.status)).toEqual(['CREATED', 'FAILED']);
    expect(results[1]!.error).toMatchObject({
      code: 'BAD_REQUEST',
      retryable: false,
      httpStatus: null,
    });
    expect(sandbox.store.get('ok@example.com')).toBeDefined();
    expect(sandbox.controls.requestCount()).toBe(1);
  });

  it('subscribes to lists through the import and reports the option dropped when it must clear', async () => {
    const stats = ctx();
    const results = await adapter.upsertMany(
      [
        item(
          { email: 'l1@example.com' },
          { options: { notifuse: { subscribeToLists: ['news'] } } },
        ),
        item(
          { email: 'l2@example.com', firstName: null },
          { options: { notifuse: { subscribeToLists: ['news'] } } },
        ),
        item({ email: 'l3@example.com' }),
      ],
      stats,
    );
    expect(results.map((r) => r.status)).toEqual(['CREATED', 'CREATED', 'CREATED']);
    expect(results[1]!.droppedFields).toEqual(['providerOptions.notifuse.subscribeToLists']);
    expect(stats.stats.upstreamRequests).toBe(3);
    const imports = sandbox.controls.requests
      .filter((r) => r.path === '/api/contacts.import')
      .map((r) => r.body);
    expect(imports).toContainEqual({
      workspace_id: 'ws_unit',
      contacts: [{ email: 'l1@example.com' }],
      subscribe_to_lists: ['news'],
    });
    expect(imports).toContainEqual({
      workspace_id: 'ws_unit',
      contacts: [{ email: 'l3@example.com' }],
    });
    expect(sandbox.store.get('l1@example.com')!['contact_lists']).toEqual([
      expect.objectContaining({ list_id: 'news', status: 'active' }),
    ]);
  });
});

describe('Notifuse adapter: reads', () => {
  it('reads by email and external id, null when not found, errors as data', async () => {
    await adapter.upsertMany(
      [item({ email: 'r@example.com', externalId: 'ext-r', lastName: 'R' })],
      ctx(),
    );
    sandbox.controls.inject({
      path: '/api/contacts.getByEmail',
      faults: [{ kind: 'pass' }, { kind: 'pass' }, { kind: 'malformed' }],
    });
    const stats = ctx();
    const answers = await adapter.readMany(
      [
        { by: 'email', value: 'r@example.com' },
        { by: 'email', value: 'missing@example.com' },
        { by: 'externalId', value: 'ext-r' },
      ],
      stats,
    );
    expect(answers[0]).toMatchObject({
      remoteId: 'r@example.com',
      contact: { lastName: 'R', externalId: 'ext-r' },
    });
    expect(answers[1]).toBeNull();
    expect(answers[2]).toMatchObject({ remoteId: 'r@example.com' });
    expect(stats.stats.upstreamRequests).toBe(3);
    const broken = await adapter.readMany([{ by: 'remoteId', value: 'r@example.com' }], ctx());
    expect(broken[0]).toMatchObject({ code: 'UPSTREAM_BAD_RESPONSE', retryable: true });
  });
});
