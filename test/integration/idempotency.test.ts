import { describe, expect, it } from 'vitest';
import { useTestGateway } from '../helpers/gateway.js';
import { upsertMany, upsertOne } from '../helpers/operations.js';

const UPSERT = upsertOne(
  'contact { id firstName } outcomes { provider status attempts durationMs } errors { field }',
);
const UPSERT_MANY = upsertMany(
  'items { contact { id } outcomes { status } } summary { total succeeded upstreamRequests }',
);

const t = useTestGateway({}, { only: ['NOTIFUSE'] });

describe('idempotency', () => {
  it('replays the first result for the same key and input without calling the provider again', async () => {
    const vars = {
      input: { email: 'idem@example.com', firstName: 'Once' },
      options: { idempotencyKey: 'k-1' },
    };
    const first = await t.gql(UPSERT, vars);
    const second = await t.gql(UPSERT, vars);
    expect(first.data).toMatchObject({
      upsertContact: { outcomes: [{ provider: 'NOTIFUSE', status: 'CREATED' }] },
    });
    expect(second.data).toEqual(first.data);
    expect(t.notifuse.controls.requestCount()).toBe(1);
    // Without the key the same input is a new write: UPDATED.
    const third = await t.gql(UPSERT, { input: vars.input });
    expect(third.data).toMatchObject({ upsertContact: { outcomes: [{ status: 'UPDATED' }] } });
    expect(t.notifuse.controls.requestCount()).toBe(2);
  });

  it('refuses the same key with a different input', async () => {
    await t.gql(UPSERT, {
      input: { email: 'idem2@example.com', firstName: 'A' },
      options: { idempotencyKey: 'k-2' },
    });
    const res = await t.gql(UPSERT, {
      input: { email: 'idem2@example.com', firstName: 'B' },
      options: { idempotencyKey: 'k-2' },
    });
    expect(res.data).toBeNull();
    expect(res.errors?.[0]).toMatchObject({ extensions: { code: 'IDEMPOTENCY_CONFLICT' } });
    expect(t.notifuse.controls.requestCount()).toBe(1);
    expect(t.notifuse.store.get('idem2@example.com')).toMatchObject({ first_name: 'A' });
  });

  it('honours the Idempotency-Key header, for batches too', async () => {
    const inputs = [{ email: 'h1@example.com' }, { email: 'h2@example.com' }];
    const first = await t.gql(UPSERT_MANY, { inputs }, { 'idempotency-key': 'batch-7' });
    const second = await t.gql(UPSERT_MANY, { inputs }, { 'idempotency-key': 'batch-7' });
    expect(second.data).toEqual(first.data);
    expect(first.data).toMatchObject({
      upsertContacts: { summary: { total: 2, succeeded: 2, upstreamRequests: 1 } },
    });
    expect(t.notifuse.controls.requestCount()).toBe(1);
  });

  it('does not record dry runs', async () => {
    const input = { email: 'idem-dry@example.com' };
    await t.gql(UPSERT, { input, options: { idempotencyKey: 'k-dry', dryRun: true } });
    const real = await t.gql(UPSERT, { input, options: { idempotencyKey: 'k-dry' } });
    expect(real.data).toMatchObject({ upsertContact: { outcomes: [{ status: 'CREATED' }] } });
    expect(t.notifuse.controls.requestCount()).toBe(1);
  });
});
