import { describe, expect, it } from 'vitest';
import { createMemoryIdentityStore } from '../../../src/store/identity.js';

const now = '2026-01-01T00:00:00.000Z';

describe('memory identity store', () => {
  it('matches by externalId, then email, then phone', async () => {
    const store = createMemoryIdentityStore();
    const { record } = await store.claim(
      { externalId: 'crm-1', email: 'a@x.io', phone: '+14155550123' },
      now,
    );
    expect((await store.find({ externalId: 'crm-1' }))?.id).toBe(record.id);
    expect((await store.find({ email: 'a@x.io' }))?.id).toBe(record.id);
    expect((await store.find({ phone: '+14155550123' }))?.id).toBe(record.id);
    expect(await store.find({ externalId: 'crm-2', email: 'zzz@x.io' })).toBeNull();
  });

  it('claims atomically: the same new keys twice give one record', async () => {
    const store = createMemoryIdentityStore();
    const [a, b] = await Promise.all([
      store.claim({ email: 'same@x.io' }, now),
      store.claim({ email: 'same@x.io' }, now),
    ]);
    expect(a.record.id).toBe(b.record.id);
    expect([a.created, b.created].sort()).toEqual([false, true]);
  });

  it('does not match by a lower key when a higher key given differs', async () => {
    const store = createMemoryIdentityStore();
    const { record } = await store.claim({ email: 'parent@x.io', phone: '+14155550123' }, now);
    // Same phone, another email: another person.
    expect(await store.find({ email: 'child@x.io', phone: '+14155550123' })).toBeNull();
    // Same email, no externalId on the record yet: a match that enriches it.
    expect((await store.find({ externalId: 'crm-9', email: 'parent@x.io' }))?.id).toBe(record.id);
    // Phone alone still finds it.
    expect((await store.find({ phone: '+14155550123' }))?.id).toBe(record.id);
  });

  it('re-indexes on save: a changed email moves, a cleared one is gone, others stay', async () => {
    const store = createMemoryIdentityStore();
    const { record } = await store.claim({ email: 'old@x.io', phone: '+14155550123' }, now);
    await store.save({ ...record, view: { email: 'new@x.io' } });
    expect(await store.find({ email: 'old@x.io' })).toBeNull();
    expect((await store.find({ email: 'new@x.io' }))?.id).toBe(record.id);
    expect((await store.find({ phone: '+14155550123' }))?.id).toBe(record.id);
    await store.save({ ...record, view: { email: null } });
    expect(await store.find({ email: 'new@x.io' })).toBeNull();
  });

  it('returns copies: mutating a result does not change the store', async () => {
    const store = createMemoryIdentityStore();
    const { record } = await store.claim({ email: 'copy@x.io' }, now);
    record.view.firstName = 'Mutated';
    expect((await store.get(record.id))?.view).toEqual({});
  });
});
