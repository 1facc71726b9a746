/**
 * One suite for every store engine: memory, embedded PGlite, and PostgreSQL when `DATABASE_URL` is
 * set (CI's second store run). The SQL stores must behave exactly like the memory ones.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ProviderErrorInfo } from '../../../src/model/errors.js';
import type { WriteItem } from '../../../src/providers/types.js';
import { type Database, openDatabase, quoteIdent } from '../../../src/store/db.js';
import type { IdentityRecord } from '../../../src/store/identity.js';
import { MIGRATIONS } from '../../../src/store/migrations.js';
import type { NewOutboxItem } from '../../../src/store/outbox.js';
import {
  createSqlIdempotencyStore,
  createSqlIdentityStore,
} from '../../../src/store/sql-stores.js';
import {
  allEngines,
  DATABASE_URL,
  freshHarness,
  type Harness,
  recordStatements,
  STARTUP_MS,
} from './engines.js';

const now = '2026-01-01T00:00:00.000Z';
const T0 = Date.parse(now);
const at = (ms: number) => new Date(T0 + ms).toISOString();

const engines = allEngines();
afterAll(async () => {
  for (const e of engines) {
    await e.teardown();
  }
});

const writeItem = (gatewayId: string, email: string): WriteItem => ({
  ref: 'r1',
  gatewayId,
  patch: { email, firstName: 'Ada', address: { city: 'Zürich', country: 'CH' }, phone: null },
  known: {
    email,
    customFields: { tier: 'gold', score: 9.5, tags: ['a', 'b'], nested: { x: null } },
  },
  remoteId: null,
  options: {},
  idempotencyKey: 'idem-1',
});

const error: ProviderErrorInfo = {
  code: 'UPSTREAM_UNAVAILABLE',
  message: 'HTTP 503',
  httpStatus: 503,
  retryable: true,
  details: { retryAfterMs: 1000, body: '<html>…</html>' },
};

const newItem = (email: string, nextAttemptAt: string): NewOutboxItem => ({
  provider: 'NOTIFUSE',
  kind: 'upsert',
  gatewayId: `g-${email}`,
  item: writeItem(`g-${email}`, email),
  lastError: error,
  nextAttemptAt,
});

describe.each(engines)('stores on $name', (engine) => {
  let h: Harness;
  beforeEach(async () => {
    h = await engine.open();
  }, STARTUP_MS);
  afterEach(async () => {
    await h.close();
  });

  describe('identity', () => {
    it('matches by externalId, then email, then phone', async () => {
      const { record, created } = await h.identity.claim(
        { externalId: 'crm-1', email: 'a@x.io', phone: '+14155550123' },
        now,
      );
      expect(created).toBe(true);
      expect(record).toStrictEqual({
        id: record.id,
        view: {},
        records: {},
        createdAt: now,
        updatedAt: now,
      });
      expect((await h.identity.find({ externalId: 'crm-1' }))?.id).toBe(record.id);
      expect((await h.identity.find({ email: 'a@x.io' }))?.id).toBe(record.id);
      expect((await h.identity.find({ phone: '+14155550123' }))?.id).toBe(record.id);
      expect(await h.identity.find({ externalId: 'crm-2', email: 'zzz@x.io' })).toBeNull();
      expect(await h.identity.find({})).toBeNull();
      expect(await h.identity.find({ email: '', phone: null })).toBeNull();
      expect(await h.identity.get('00000000-0000-4000-8000-000000000000')).toBeNull();
      const again = await h.identity.claim({ email: 'a@x.io' }, at(5));
      expect(again).toStrictEqual({ record, created: false });
    });

    it('claims atomically: 20 concurrent claims of one new key give one record', async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, () => h.identity.claim({ email: 'same@x.io' }, now)),
      );
      expect(new Set(results.map((r) => r.record.id)).size).toBe(1);
      expect(results.filter((r) => r.created)).toHaveLength(1);
    });

    it('claims many at once like one by one: known, new, repeated and contested keys', async () => {
      const known = (await h.identity.claim({ email: 'known@x.io' }, now)).record;
      const other = (await h.identity.claim({ externalId: 'crm-9', email: 'held@x.io' }, now))
        .record;
      const list = [
        { email: 'known@x.io' },
        { email: 'new@x.io', phone: '+14155550100' },
        { email: 'new@x.io' },
        // The email is another record's, the externalId is new: the matching rule turns it down.
        { externalId: 'crm-10', email: 'held@x.io' },
      ];
      const claimed = h.identity.claimMany
        ? await h.identity.claimMany(list, at(1))
        : await Promise.all(list.map(async (k) => (await h.identity.claim(k, at(1))).record));
      expect(claimed).toHaveLength(4);
      expect(claimed[0]).toStrictEqual(known);
      expect(claimed[1]!.id).not.toBe(known.id);
      expect(claimed[2]!.id).toBe(claimed[1]!.id);
      expect(claimed[3]!.id).not.toBe(other.id);
      expect((await h.identity.find({ phone: '+14155550100' }))?.id).toBe(claimed[1]!.id);
      expect((await h.identity.find({ externalId: 'crm-10' }))?.id).toBe(claimed[3]!.id);
      expect(await h.identity.get(claimed[1]!.id)).toStrictEqual({
        id: claimed[1]!.id,
        view: {},
        records: {},
        createdAt: at(1),
        updatedAt: at(1),
      });
    });

    it('keeps a family sharing a phone apart (a lower key never overrides a higher one)', async () => {
      const parent = (await h.identity.claim({ email: 'parent@x.io', phone: '+14155550123' }, now))
        .record;
      // Same phone, another email: another person.
      expect(await h.identity.find({ email: 'child@x.io', phone: '+14155550123' })).toBeNull();
      // Same email, no externalId on the record yet: a match that enriches it.
      expect((await h.identity.find({ externalId: 'crm-9', email: 'parent@x.io' }))?.id).toBe(
        parent.id,
      );
      // Same email but the record holds another externalId: another person.
      await h.identity.save({ ...parent, view: { externalId: 'crm-1', email: 'parent@x.io' } });
      expect(await h.identity.find({ externalId: 'crm-9', email: 'parent@x.io' })).toBeNull();
      // Phone alone still finds the parent.
      expect((await h.identity.find({ phone: '+14155550123' }))?.id).toBe(parent.id);

      // The child is claimed as a new contact; the shared phone now points at the newest claim
      // (as in the memory store), while each is still found by its email.
      const child = await h.identity.claim({ email: 'child@x.io', phone: '+14155550123' }, at(1));
      expect(child.created).toBe(true);
      expect(child.record.id).not.toBe(parent.id);
      expect((await h.identity.find({ phone: '+14155550123' }))?.id).toBe(child.record.id);
      expect((await h.identity.find({ email: 'parent@x.io' }))?.id).toBe(parent.id);
      expect((await h.identity.find({ email: 'child@x.io' }))?.id).toBe(child.record.id);
      expect((await h.identity.find({ email: 'parent@x.io', phone: '+14155550123' }))?.id).toBe(
        parent.id,
      );
      // A second claim of the child's keys finds the child.
      const again = await h.identity.claim({ email: 'child@x.io', phone: '+14155550123' }, at(2));
      expect(again.created).toBe(false);
      expect(again.record.id).toBe(child.record.id);
    });

    it('re-indexes on save: a changed email moves, a cleared one is gone, others stay', async () => {
      const { record } = await h.identity.claim({ email: 'old@x.io', phone: '+14155550123' }, now);
      await h.identity.save({ ...record, view: { email: 'new@x.io' } });
      expect(await h.identity.find({ email: 'old@x.io' })).toBeNull();
      expect((await h.identity.find({ email: 'new@x.io' }))?.id).toBe(record.id);
      expect((await h.identity.find({ phone: '+14155550123' }))?.id).toBe(record.id);
      await h.identity.save({ ...record, view: { email: null } });
      expect(await h.identity.find({ email: 'new@x.io' })).toBeNull();
      expect((await h.identity.find({ phone: '+14155550123' }))?.id).toBe(record.id);
      await h.identity.save({ ...record, view: { phone: null, externalId: 'crm-7' } });
      expect(await h.identity.find({ phone: '+14155550123' })).toBeNull();
      expect((await h.identity.find({ externalId: 'crm-7' }))?.id).toBe(record.id);
    });

    it('takes a key over from another record on save, and a stale owner no longer releases it', async () => {
      const a = (await h.identity.claim({ email: 'a@x.io' }, now)).record;
      const b = (await h.identity.claim({ email: 'b@x.io' }, now)).record;
      await h.identity.save({ ...b, view: { email: 'a@x.io' } });
      expect((await h.identity.find({ email: 'a@x.io' }))?.id).toBe(b.id);
      expect(await h.identity.find({ email: 'b@x.io' })).toBeNull();
      // a still believes it holds a@x.io; moving a away must not drop b's entry.
      await h.identity.save({ ...a, view: { email: 'a2@x.io' } });
      expect((await h.identity.find({ email: 'a@x.io' }))?.id).toBe(b.id);
      expect((await h.identity.find({ email: 'a2@x.io' }))?.id).toBe(a.id);
    });

    it('a save with unchanged keys points back a key another record took meanwhile', async () => {
      const a = (await h.identity.claim({ email: 'back@x.io' }, now)).record;
      const b = (await h.identity.claim({ email: 'other@x.io' }, now)).record;
      await h.identity.save({ ...a, view: { email: 'back@x.io', firstName: 'A' } });
      await h.identity.save({ ...b, view: { email: 'back@x.io' } });
      expect((await h.identity.find({ email: 'back@x.io' }))?.id).toBe(b.id);
      // a writes again with the keys it holds: the entry is pointed at it again, as any save does.
      await h.identity.save({ ...a, view: { email: 'back@x.io', firstName: 'A2' } });
      expect(await h.identity.find({ email: 'back@x.io' })).toMatchObject({
        id: a.id,
        view: { firstName: 'A2' },
      });
    });

    it('saves round-trip exactly and links are only ever added', async () => {
      const { record } = await h.identity.claim({ email: 'links@x.io' }, now);
      const full: IdentityRecord = {
        ...record,
        view: {
          email: 'links@x.io',
          firstName: 'Zoë',
          address: { line1: '1 Main St', city: 'Zürich', country: 'CH' },
          birthdate: '1990-02-03',
          emailConsent: { status: 'SUBSCRIBED', optInType: 'DOUBLE', verified: true },
          customFields: { tier: 'gold', score: 9.5, tags: ['a', 'b'], nested: { x: null } },
        },
        records: {
          NOTIFUSE: { provider: 'NOTIFUSE', remoteId: 'links@x.io', syncedAt: at(1) },
        },
        updatedAt: at(4),
      };
      await h.identity.save(full);
      expect(await h.identity.get(record.id)).toStrictEqual(full);
      // A writer holding an older copy (without NOTIFUSE) adds DOTDIGITAL: both stay.
      await h.identity.save({
        ...record,
        records: { DOTDIGITAL: { provider: 'DOTDIGITAL', remoteId: '42', syncedAt: at(2) } },
        view: full.view,
        updatedAt: at(5),
      });
      const got = await h.identity.get(record.id);
      expect(got?.records).toStrictEqual({
        NOTIFUSE: { provider: 'NOTIFUSE', remoteId: 'links@x.io', syncedAt: at(1) },
        DOTDIGITAL: { provider: 'DOTDIGITAL', remoteId: '42', syncedAt: at(2) },
      });
      expect(got?.updatedAt).toBe(at(5));
      expect(got?.createdAt).toBe(now);
      // A newer link for the same provider replaces the old one.
      await h.identity.save({
        ...full,
        records: { NOTIFUSE: { provider: 'NOTIFUSE', remoteId: 'new-id', syncedAt: at(9) } },
      });
      expect((await h.identity.get(record.id))?.records.NOTIFUSE?.remoteId).toBe('new-id');
      expect((await h.identity.find({ email: 'links@x.io' }))?.id).toBe(record.id);
      // A link replaces the stored one whole: a stale mark the new link lacks is gone.
      const stale = { provider: 'NOTIFUSE', remoteId: 'new-id', syncedAt: at(9), staleAt: at(10) };
      await h.identity.save({ ...full, records: { NOTIFUSE: { ...stale, provider: 'NOTIFUSE' } } });
      expect((await h.identity.get(record.id))?.records.NOTIFUSE).toStrictEqual(stale);
      const fresh = { provider: 'NOTIFUSE' as const, remoteId: 'new-id', syncedAt: at(11) };
      await h.identity.save({ ...full, records: { NOTIFUSE: fresh } });
      expect((await h.identity.get(record.id))?.records).toStrictEqual({
        NOTIFUSE: fresh,
        DOTDIGITAL: { provider: 'DOTDIGITAL', remoteId: '42', syncedAt: at(2) },
      });
    });

    it('saves a record it never claimed, and indexes it', async () => {
      const record: IdentityRecord = {
        id: '7f1c1f4e-6a0e-4a57-9a57-2a3a2c6d7e01',
        view: { externalId: 'ext-1' },
        records: { NOTIFUSE: { provider: 'NOTIFUSE', remoteId: 'n-1', syncedAt: now } },
        createdAt: now,
        updatedAt: now,
      };
      await h.identity.save(record);
      expect(await h.identity.find({ externalId: 'ext-1' })).toStrictEqual(record);
    });

    it('returns copies: mutating a result does not change the store', async () => {
      const { record } = await h.identity.claim({ email: 'copy@x.io' }, now);
      record.view.firstName = 'Mutated';
      expect((await h.identity.get(record.id))?.view).toEqual({});
    });
  });

  describe('idempotency', () => {
    const result = {
      contact: { id: 'c1', email: 'a@x.io', createdAt: at(1), address: null },
      outcomes: [{ provider: 'NOTIFUSE', status: 'CREATED', attempts: 1, durationMs: 12.5 }],
      errors: [],
    };

    it('reserves, reports in progress, refuses another input, replays the result', async () => {
      const s = h.idempotency();
      expect(await s.begin('k1', 'fp-a', T0)).toStrictEqual({ state: 'new' });
      expect(await s.begin('k1', 'fp-a', T0 + 10)).toStrictEqual({ state: 'in_progress' });
      expect(await s.begin('k1', 'fp-b', T0 + 10)).toStrictEqual({ state: 'conflict' });
      await s.complete('k1', result, T0 + 20);
      expect(await s.begin('k1', 'fp-a', T0 + 30)).toStrictEqual({ state: 'replay', result });
      expect(await s.begin('k1', 'fp-b', T0 + 30)).toStrictEqual({ state: 'conflict' });
      // Other keys are independent.
      expect(await s.begin('k2', 'fp-b', T0 + 30)).toStrictEqual({ state: 'new' });
    });

    it('replays falsy results too', async () => {
      const s = h.idempotency();
      for (const [i, value] of [null, 0, '', false, [], {}].entries()) {
        expect((await s.begin(`f${i}`, 'fp', T0)).state).toBe('new');
        await s.complete(`f${i}`, value, T0);
        expect(await s.begin(`f${i}`, 'fp', T0 + 1)).toStrictEqual({
          state: 'replay',
          result: value,
        });
      }
    });

    it('frees an abandoned key', async () => {
      const s = h.idempotency();
      expect((await s.begin('k', 'fp-a', T0)).state).toBe('new');
      await s.abandon('k');
      expect((await s.begin('k', 'fp-b', T0 + 1)).state).toBe('new');
      expect((await s.begin('k', 'fp-a', T0 + 2)).state).toBe('conflict');
    });

    it('lets a new begin take over a reservation left in progress longer than inProgressTtlMs', async () => {
      const s = h.idempotency({ inProgressTtlMs: 60_000 });
      expect((await s.begin('k', 'fp-a', T0)).state).toBe('new');
      expect((await s.begin('k', 'fp-a', T0 + 59_999)).state).toBe('in_progress');
      expect((await s.begin('k', 'fp-b', T0 + 59_999)).state).toBe('conflict');
      // Its process died: the key is taken over (whatever the input) and reserved afresh.
      expect((await s.begin('k', 'fp-b', T0 + 60_000)).state).toBe('new');
      expect((await s.begin('k', 'fp-b', T0 + 60_001)).state).toBe('in_progress');
      expect((await s.begin('k', 'fp-a', T0 + 60_001)).state).toBe('conflict');
      await s.complete('k', result, T0 + 70_000);
      // A completed key is never taken over before it expires.
      expect(await s.begin('k', 'fp-b', T0 + 10 * 60_000)).toStrictEqual({
        state: 'replay',
        result,
      });
    });

    it('forgets keys after ttlMs (counted from complete)', async () => {
      const s = h.idempotency({ ttlMs: 1000, inProgressTtlMs: 10_000 });
      expect((await s.begin('k', 'fp-a', T0)).state).toBe('new');
      // A reservation expires with its ttl even when inProgressTtlMs is longer.
      expect((await s.begin('k', 'fp-a', T0 + 1000)).state).toBe('new');
      await s.complete('k', result, T0 + 1500);
      expect((await s.begin('k', 'fp-a', T0 + 2499)).state).toBe('replay');
      expect((await s.begin('k', 'fp-b', T0 + 2500)).state).toBe('new');
    });

    it('gives one of 20 concurrent begins of one key the reservation', async () => {
      const s = h.idempotency();
      const states = await Promise.all(Array.from({ length: 20 }, () => s.begin('race', 'fp', T0)));
      expect(states.filter((x) => x.state === 'new')).toHaveLength(1);
      expect(states.filter((x) => x.state === 'in_progress')).toHaveLength(19);
    });
  });

  describe('outbox', () => {
    it('enqueues, lists oldest first, round-trips items exactly', async () => {
      const first = await h.outbox.enqueue([newItem('a@x.io', at(1000))], at(0));
      const second = await h.outbox.enqueue(
        [
          newItem('b@x.io', at(0)),
          { ...newItem('c@x.io', at(0)), lastError: null, kind: 'update' },
        ],
        at(10),
      );
      const { importId: _none, ...sent } = newItem('a@x.io', at(1000));
      expect(first[0]).toStrictEqual({
        ...sent,
        id: first[0]!.id,
        attempts: 0,
        createdAt: at(0),
        status: 'QUEUED',
        updatedAt: first[0]!.updatedAt,
        endedAt: null,
        remoteId: null,
        importId: null,
        cursor: first[0]!.cursor,
      });
      expect(new Set([...first, ...second].map((i) => i.id)).size).toBe(3);
      expect(await h.outbox.list(10)).toStrictEqual([...first, ...second]);
      expect(await h.outbox.list(1)).toStrictEqual(first);
      expect(await h.outbox.enqueue([], at(20))).toEqual([]);
    });

    it('releaseLeases gives back the leases this handle holds (shutdown): due again at once, QUEUED', async () => {
      const [a, b] = await h.outbox.enqueue(
        [newItem('lease-a@x.io', at(0)), newItem('lease-b@x.io', at(0))],
        at(0),
      );
      expect(await h.outbox.releaseLeases()).toBe(0);
      const claimed = await h.outbox.claimDue(at(1000), 10, 600_000);
      expect(claimed.map((i) => i.id)).toEqual([a!.id, b!.id]);
      expect(await h.outbox.claimDue(at(1001), 10, 600_000)).toEqual([]);
      await h.outbox.reschedule(b!.id, at(5000), { code: 'X', message: 'x', retryable: true });
      expect(await h.outbox.releaseLeases()).toBe(1);
      const again = await h.outbox.claimDue(at(1002), 10, 600_000);
      expect(again.map((i) => [i.id, i.status])).toEqual([[a!.id, 'DELIVERING']]);
      expect(await h.outbox.releaseLeases()).toBe(1);
      expect((await h.outbox.list(10)).map((i) => i.status)).toEqual(['QUEUED', 'QUEUED']);
    });

    it('claims due items once, leases them, and makes them due again when the lease ends', async () => {
      const [late] = await h.outbox.enqueue([newItem('late@x.io', at(5000))], at(0));
      const [soon] = await h.outbox.enqueue([newItem('soon@x.io', at(100))], at(1));
      const [now0] = await h.outbox.enqueue([newItem('now@x.io', at(0))], at(2));
      const claimed = await h.outbox.claimDue(at(1000), 10, 30_000);
      expect(claimed.map((i) => i.id)).toEqual([now0!.id, soon!.id]);
      expect(claimed.map((i) => i.attempts)).toEqual([1, 1]);
      expect(claimed[0]).toStrictEqual({
        ...now0,
        attempts: 1,
        status: 'DELIVERING',
        updatedAt: claimed[0]!.updatedAt,
      });
      // Leased: nobody else takes them, even once due items exist.
      expect((await h.outbox.claimDue(at(6000), 10, 30_000)).map((i) => i.id)).toEqual([late!.id]);
      expect(await h.outbox.claimDue(at(30_999), 10, 30_000)).toEqual([]);
      // The lease (taken at 1000 for 30 s) ran out: the taker died, the items are due again.
      const again = await h.outbox.claimDue(at(31_000), 10, 30_000);
      expect(again.map((i) => [i.id, i.attempts])).toEqual([
        [now0!.id, 2],
        [soon!.id, 2],
      ]);
    });

    it('honours the limit, oldest due first', async () => {
      await h.outbox.enqueue(
        [3, 1, 2].map((n) => newItem(`${n}@x.io`, at(n))),
        at(0),
      );
      const claimed = await h.outbox.claimDue(at(10), 2, 1000);
      expect(claimed.map((i) => i.gatewayId)).toEqual(['g-1@x.io', 'g-2@x.io']);
      expect(await h.outbox.claimDue(at(10), 0, 1000)).toEqual([]);
    });

    it('reschedule releases the lease; remove takes the item out', async () => {
      const [a, b] = await h.outbox.enqueue(
        [newItem('a@x.io', at(0)), newItem('b@x.io', at(0))],
        at(0),
      );
      await h.outbox.claimDue(at(0), 10, 60_000);
      const later: ProviderErrorInfo = { code: 'RATE_LIMITED', message: '429', retryable: true };
      await h.outbox.reschedule(a!.id, at(500), later);
      await h.outbox.remove(b!.id);
      expect(await h.outbox.claimDue(at(499), 10, 60_000)).toEqual([]);
      const [again] = await h.outbox.claimDue(at(500), 10, 60_000);
      expect(again).toStrictEqual({
        ...a,
        attempts: 2,
        nextAttemptAt: at(500),
        lastError: later,
        status: 'DELIVERING',
        updatedAt: again!.updatedAt,
      });
      expect((await h.outbox.list(10)).map((i) => i.id)).toEqual([a!.id]);
      await h.outbox.remove(a!.id);
      expect(await h.outbox.list(10)).toEqual([]);
      // Unknown ids are no-ops.
      await h.outbox.remove(a!.id);
      await h.outbox.reschedule(a!.id, at(1), later);
    });

    it('keeps ended writes as history: get, page newest first, filters, purge', async () => {
      const [a, b, c] = await h.outbox.enqueue(
        [
          newItem('a@x.io', at(0)),
          newItem('b@x.io', at(0)),
          { ...newItem('c@x.io', at(0)), provider: 'DOTDIGITAL', kind: 'poll', importId: 'imp-1' },
        ],
        at(0),
      );
      expect(c!.importId).toBe('imp-1');
      await h.outbox.claimDue(at(0), 10, 60_000);
      expect((await h.outbox.get(a!.id))?.status).toBe('DELIVERING');
      const done = await h.outbox.finish(a!.id, {
        status: 'DELIVERED',
        remoteId: 'r-a',
        error: null,
      });
      expect(done).toMatchObject({ id: a!.id, status: 'DELIVERED', remoteId: 'r-a' });
      expect(done!.endedAt).not.toBeNull();
      // Ended once: a second finish (another replica) changes nothing.
      expect(
        await h.outbox.finish(a!.id, { status: 'FAILED', remoteId: null, error: null }),
      ).toBeNull();
      const refused: ProviderErrorInfo = {
        code: 'globallySuppressed',
        message: 'no',
        retryable: false,
      };
      await h.outbox.finish(b!.id, { status: 'FAILED', remoteId: null, error: refused });
      expect(await h.outbox.get(b!.id)).toMatchObject({ status: 'FAILED', lastError: refused });
      // Ended writes are neither due nor pending.
      expect(await h.outbox.claimDue(at(10 * 60_000), 10, 60_000)).toEqual([
        expect.objectContaining({ id: c!.id }),
      ]);
      expect((await h.outbox.list(10)).map((i) => i.id)).toEqual([c!.id]);
      const all = await h.outbox.page({ first: 2 });
      expect(all.items.map((i) => i.id)).toEqual([c!.id, b!.id]);
      expect(all.hasMore).toBe(true);
      const rest = await h.outbox.page({ first: 2, after: all.items[1]!.cursor });
      expect(rest).toEqual({ items: [expect.objectContaining({ id: a!.id })], hasMore: false });
      expect((await h.outbox.page({ first: 10, status: 'FAILED' })).items.map((i) => i.id)).toEqual(
        [b!.id],
      );
      expect(
        (await h.outbox.page({ first: 10, provider: 'DOTDIGITAL' })).items.map((i) => i.id),
      ).toEqual([c!.id]);
      const changed = await h.outbox.changedSince(done!.endedAt!, 10);
      expect(changed.map((i) => i.id)).toContain(b!.id);
      expect(await h.outbox.purge(new Date(Date.now() + 1000).toISOString())).toBe(2);
      expect(await h.outbox.get(a!.id)).toBeNull();
      expect(await h.outbox.get(c!.id)).not.toBeNull();
    });
  });
});

const sqlEngines = engines.filter((e) => e.sql);

/** `db` recording the commit mode each statement chose (its `commit_mode` column), in order. */
function commitModes(db: Database): { modes: string[]; recording: Database } {
  const modes: string[] = [];
  const recording: Database = {
    ...db,
    async query<T>(sql: string, params?: unknown[]) {
      const rows = await db.query<T>(sql, params);
      for (const row of rows as Array<Record<string, unknown>>) {
        if (typeof row['commit_mode'] === 'string') {
          modes.push(row['commit_mode']);
        }
      }
      return rows;
    },
  };
  return { modes, recording };
}

describe.each(engines.filter((e) => e.name === 'postgres'))(
  'identity look-ups shared across concurrent requests on $name',
  (engine) => {
    const harness = freshHarness(engine);

    it("concurrent requests' one-key look-ups share one statement, each answered its own record", async () => {
      const { sent, counting } = recordStatements(harness().db!);
      const identity = createSqlIdentityStore(counting);
      const emails = ['s1@x.io', 's2@x.io', 's3@x.io'];
      const ids: string[] = [];
      for (const email of emails) {
        ids.push((await identity.claim({ email }, now)).record.id);
      }
      sent.length = 0;
      // Asked in one turn: the first goes at once (nothing was out), alone; the four asked while
      // it was out (two known keys, one of them twice, and an unknown one) share one statement.
      const [c, a, b, again, none] = await Promise.all([
        identity.find({ email: 's3@x.io' }),
        identity.claim({ email: 's1@x.io' }, now),
        identity.claim({ email: 's2@x.io' }, now),
        identity.claim({ email: 's1@x.io' }, now),
        identity.find({ email: 'nobody@x.io' }),
      ]);
      expect(sent.map((q) => q.sql)).toHaveLength(2);
      expect(sent[0]!.sql).toContain('WHERE k.kind = $1 AND k.value = $2');
      expect(sent[1]!.sql).toContain(' IN (SELECT kind, value FROM ');
      expect([a.record.id, b.record.id, c?.id, again.record.id]).toEqual([
        ids[0],
        ids[1],
        ids[2],
        ids[0],
      ]);
      expect([a.created, b.created, again.created]).toEqual([false, false, false]);
      expect(none).toBeNull();
      // The repeated key's two answers are copies: changing one leaves the other alone.
      a.record.view['firstName'] = 'changed';
      expect(again.record.view['firstName']).toBeUndefined();
      // One look-up while none is out is the one-key statement, as before.
      sent.length = 0;
      expect((await identity.find({ email: 's2@x.io' }))?.id).toBe(ids[1]);
      expect(sent.map((q) => q.sql)).toHaveLength(1);
      expect(sent[0]!.sql).toContain('WHERE k.kind = $1 AND k.value = $2');
    });

    it('a shared look-up the server refuses is sent again one by one: only the bad value fails', async () => {
      const identity = createSqlIdentityStore(harness().db!);
      const { record } = await identity.claim({ email: 'good@x.io' }, now);
      // PostgreSQL refuses a NUL in a text value: the shared statement (the two look-ups asked
      // while the first was out) fails whole.
      const [first, good, bad] = await Promise.allSettled([
        identity.find({ email: 'good@x.io' }),
        identity.find({ email: 'good@x.io' }),
        identity.find({ email: 'bad\u0000@x.io' }),
      ]);
      expect(first).toMatchObject({ status: 'fulfilled', value: { id: record.id } });
      expect(good).toMatchObject({ status: 'fulfilled', value: { id: record.id } });
      expect(bad).toMatchObject({ status: 'rejected' });
    });
  },
);

describe.each(engines.filter((e) => e.name === 'postgres'))(
  'identity saves shared across concurrent requests on $name',
  (engine) => {
    const harness = freshHarness(engine);
    const notifuse = (remoteId: string, ms: number) => ({
      NOTIFUSE: { provider: 'NOTIFUSE' as const, remoteId, syncedAt: at(ms) },
    });

    /** Three known contacts, each saved once with its Notifuse link. */
    async function known(identity: ReturnType<typeof createSqlIdentityStore>, tag: string) {
      const records = [];
      for (const n of [1, 2, 3]) {
        const email = `${tag}${n}@x.io`;
        const { record } = await identity.claim({ email }, now);
        const saved = { ...record, view: { email, firstName: 'A' }, records: notifuse(email, 1) };
        await identity.save(saved);
        records.push(saved);
      }
      return records;
    }

    it("concurrent requests' saves of known contacts share one statement, each row its own", async () => {
      const { sent, counting } = recordStatements(harness().db!);
      const { modes, recording } = commitModes(counting);
      const identity = createSqlIdentityStore(recording);
      const [r1, r2, r3] = await known(identity, 'sv');
      sent.length = 0;
      modes.length = 0;
      // Asked in one turn: the first goes at once, alone; the two asked while it was out share one.
      const refreshed = [r1!, r2!, r3!].map((r, i) => ({
        ...r,
        view: { ...r.view, firstName: `B${i}` },
        records: notifuse(r.view.email as string, 2),
        updatedAt: at(2),
      }));
      await Promise.all(refreshed.map((r) => identity.save(r)));
      expect(sent.map((q) => q.sql.trimStart().split(/\s+/, 1)[0])).toEqual(['UPDATE', 'WITH']);
      expect(sent[1]!.sql).toContain('unnest(');
      // No link changed: neither commit waits for the WAL flush (one mode per row written).
      expect(modes).toEqual(['off', 'off', 'off']);
      for (const r of refreshed) {
        expect(await identity.get(r.id)).toMatchObject({
          view: r.view,
          records: { NOTIFUSE: { remoteId: r.view.email, syncedAt: at(2) } },
          updatedAt: at(2),
        });
      }
    });

    it('a shared save that adds a link waits for the WAL flush, and links are merged per row', async () => {
      const { modes, recording } = commitModes(harness().db!);
      const identity = createSqlIdentityStore(recording);
      const [r1, r2, r3] = await known(identity, 'sl');
      modes.length = 0;
      const dotdigital = { provider: 'DOTDIGITAL' as const, remoteId: '42', syncedAt: at(3) };
      await Promise.all([
        identity.save({ ...r1!, records: notifuse(r1!.view.email as string, 3) }),
        identity.save({ ...r2!, records: notifuse(r2!.view.email as string, 3) }),
        identity.save({ ...r3!, records: { DOTDIGITAL: dotdigital } }),
      ]);
      expect(modes).toEqual(['off', 'on', 'on']);
      expect(await identity.get(r3!.id)).toMatchObject({
        records: { NOTIFUSE: { remoteId: r3!.view.email }, DOTDIGITAL: { remoteId: '42' } },
      });
    });

    it('two saves of one record never share a statement, and both land', async () => {
      const { sent, counting } = recordStatements(harness().db!);
      const identity = createSqlIdentityStore(counting);
      const [r1, r2] = await known(identity, 'sd');
      sent.length = 0;
      const dotdigital = { provider: 'DOTDIGITAL' as const, remoteId: '7', syncedAt: at(4) };
      await Promise.all([
        identity.save({ ...r2!, updatedAt: at(4) }),
        identity.save({ ...r1!, records: notifuse(r1!.view.email as string, 4) }),
        identity.save({ ...r1!, records: { DOTDIGITAL: dotdigital } }),
      ]);
      // The first alone; then r1's first save with nothing else to share (alone); its second save
      // alone too (same record), never one statement with two rows of r1.
      expect(sent.map((q) => q.sql.trimStart().split(/\s+/, 1)[0])).toEqual([
        'UPDATE',
        'UPDATE',
        'UPDATE',
      ]);
      expect(await identity.get(r1!.id)).toMatchObject({
        records: { NOTIFUSE: { syncedAt: at(4) }, DOTDIGITAL: { remoteId: '7' } },
      });
    });

    it('a row whose keys changed meanwhile is left out of the shared statement and saved by the general save', async () => {
      const db = harness().db!;
      const identity = createSqlIdentityStore(db);
      const other = createSqlIdentityStore(db);
      const [r1, r2, r3] = await known(identity, 'sk');
      // Another replica gives r3 a phone: r3's keys are no longer what `identity` saw.
      await other.save({ ...r3!, view: { ...r3!.view, phone: '+14155550123' } });
      await Promise.all([
        identity.save({ ...r1!, view: { ...r1!.view, firstName: 'C' } }),
        identity.save({ ...r2!, view: { ...r2!.view, firstName: 'C' } }),
        identity.save({ ...r3!, view: { ...r3!.view, firstName: 'C' } }),
      ]);
      for (const r of [r1!, r2!]) {
        expect((await identity.get(r.id))?.view).toMatchObject({ firstName: 'C' });
      }
      // r3: saved by the general save against the stored keys: its email and the phone the other
      // handle gave it both still lead to it (a key a save does not mention is kept).
      expect((await identity.get(r3!.id))?.view).toMatchObject({ firstName: 'C' });
      expect((await identity.find({ email: r3!.view.email as string }))?.id).toBe(r3!.id);
      expect((await identity.find({ phone: '+14155550123' }))?.id).toBe(r3!.id);
    });

    it("concurrent requests' claims of new contacts share one statement; a contested key still gives one record", async () => {
      const { sent, counting } = recordStatements(harness().db!);
      const identity = createSqlIdentityStore(counting);
      await identity.claim({ email: 'warm@x.io' }, now);
      sent.length = 0;
      // Four new contacts asked in one turn (one of them twice, one with two keys).
      const [a, b, c, again, d] = await Promise.all([
        identity.claim({ email: 'n1@x.io' }, now),
        identity.claim({ email: 'n2@x.io' }, now),
        identity.claim({ email: 'n3@x.io', phone: '+14155550100' }, now),
        identity.claim({ email: 'n2@x.io' }, now),
        identity.claim({ externalId: 'crm-9' }, at(7)),
      ]);
      const inserts = sent.filter((q) => q.sql.trimStart().startsWith('WITH rec AS'));
      // n1 alone (nothing out), then one statement for the rest: n2, n3, crm-9 — and n2's second
      // claim, which never shares a statement with its first, alone.
      expect(
        inserts.filter((q) => q.sql.includes('unnest($1::text[], $2::text[], $3::text[])')),
      ).toHaveLength(1);
      expect(b.record.id).toBe(again.record.id);
      expect([b.created, again.created].sort()).toEqual([false, true]);
      expect(new Set([a, b, c, d].map((x) => x.record.id)).size).toBe(4);
      expect((await identity.find({ phone: '+14155550100' }))?.id).toBe(c.record.id);
      expect((await identity.find({ email: 'n3@x.io' }))?.id).toBe(c.record.id);
      expect(await identity.get(d.record.id)).toMatchObject({ createdAt: at(7) });
    });

    it('a shared claim that meets a key taken meanwhile fails whole, and every claim still lands', async () => {
      const db = harness().db!;
      const { sent, counting, afterNext } = recordStatements(db);
      const identity = createSqlIdentityStore(counting);
      const other = createSqlIdentityStore(db);
      // c0's look-up goes alone, c1–c3's share one; right after that one (before its rows are
      // handed back), another handle claims c3. Of the claims then asked in one turn, c3's shares
      // a statement with at least one other, which fails whole on c3 (unique violation, nothing
      // kept); each is sent again alone (or retried), and c3's finds the other handle's record.
      let taken: string | undefined;
      afterNext(/ IN \(SELECT kind, value FROM /, async () => {
        taken = (await other.claim({ email: 'c3@x.io' }, now)).record.id;
      });
      const claims = await Promise.all(
        [0, 1, 2, 3].map((i) => identity.claim({ email: `c${i}@x.io` }, now)),
      );
      expect(
        sent.filter((q) => q.sql.includes('unnest($1::text[], $2::text[], $3::text[])')),
      ).toHaveLength(1);
      expect(taken).toBeDefined();
      expect(claims[3]!.record.id).toBe(taken);
      expect(claims.map((c) => c.created)).toEqual([true, true, true, false]);
      for (const [i, c] of claims.entries()) {
        expect((await identity.find({ email: `c${i}@x.io` }))?.id).toBe(c.record.id);
      }
      expect(new Set(claims.map((c) => c.record.id)).size).toBe(4);
    });

    it('a shared save the server refuses is sent again one by one: only the bad row fails', async () => {
      const identity = createSqlIdentityStore(harness().db!);
      const [r1, r2, r3] = await known(identity, 'sb');
      // PostgreSQL refuses a NUL in jsonb text: the shared statement fails whole.
      const results = await Promise.allSettled([
        identity.save({ ...r1!, view: { ...r1!.view, firstName: 'D' } }),
        identity.save({ ...r2!, view: { ...r2!.view, firstName: 'D' } }),
        identity.save({ ...r3!, view: { ...r3!.view, firstName: 'bad\u0000' } }),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
      expect((await identity.get(r2!.id))?.view).toMatchObject({ firstName: 'D' });
      expect((await identity.get(r3!.id))?.view).toMatchObject({ firstName: 'A' });
    });
  },
);

describe.each(engines.filter((e) => e.name === 'postgres'))(
  'identity saves that wait for the WAL flush on $name',
  (engine) => {
    let h: Harness;
    beforeEach(async () => {
      h = await engine.open();
    }, STARTUP_MS);
    afterEach(async () => {
      await h.close();
    });

    it('only a save that changes no link and no index entry commits without waiting', async () => {
      const db = h.db!;
      const { modes, recording } = commitModes(db);
      const identity = createSqlIdentityStore(recording);
      const link = (provider: 'NOTIFUSE' | 'DOTDIGITAL', remoteId: string, ms: number) => ({
        [provider]: { provider, remoteId, syncedAt: at(ms) },
      });
      const { record } = await identity.claim({ email: 'wal@x.io' }, now);
      const view = { email: 'wal@x.io', firstName: 'A' };
      // The first link: waits.
      await identity.save({ ...record, view, records: link('NOTIFUSE', 'wal@x.io', 1) });
      // The same link and keys, a new view: does not wait.
      const refreshed = {
        ...record,
        view: { ...view, firstName: 'B' },
        records: link('NOTIFUSE', 'wal@x.io', 2),
        updatedAt: at(2),
      };
      await identity.save(refreshed);
      // Another provider's link; then a changed remote id; then a changed email: each waits.
      await identity.save({ ...refreshed, records: link('DOTDIGITAL', '42', 3) });
      await identity.save({ ...refreshed, records: link('NOTIFUSE', 'other-id', 4) });
      await identity.save({
        ...refreshed,
        view: { ...refreshed.view, email: 'wal2@x.io' },
        records: link('NOTIFUSE', 'other-id', 5),
      });
      expect(modes).toEqual(['on', 'off', 'on', 'on', 'on']);
      // What was saved is there either way (the session's own setting is untouched).
      expect(await identity.get(record.id)).toMatchObject({
        view: { email: 'wal2@x.io', firstName: 'B' },
        records: { NOTIFUSE: { remoteId: 'other-id' }, DOTDIGITAL: { remoteId: '42' } },
      });
      expect(await db.query('SHOW synchronous_commit')).toEqual([{ synchronous_commit: 'on' }]);
    });

    it('a known contact written again by its one key is one UPDATE, with or without a new link', async () => {
      const db = h.db!;
      const { modes, recording } = commitModes(db);
      const sent: string[] = [];
      const counting: Database = {
        ...recording,
        async query<T>(sql: string, params?: unknown[]) {
          sent.push(sql.trimStart().split(/\s+/, 1)[0]!);
          return recording.query<T>(sql, params);
        },
      };
      const identity = createSqlIdentityStore(counting);
      const { record } = await identity.claim({ email: 'one@x.io' }, now);
      sent.length = 0;
      const view = { email: 'one@x.io', firstName: 'A' };
      const notifuse = { provider: 'NOTIFUSE' as const, remoteId: 'one@x.io', syncedAt: at(1) };
      // A new link (waits for the WAL flush), then the same link again (does not).
      await identity.save({ ...record, view, records: { NOTIFUSE: notifuse } });
      await identity.save({
        ...record,
        view: { ...view, firstName: 'B' },
        records: { NOTIFUSE: { ...notifuse, syncedAt: at(2) } },
        updatedAt: at(2),
      });
      expect(sent).toEqual(['UPDATE', 'UPDATE']);
      expect(modes).toEqual(['on', 'off']);
      expect(await identity.get(record.id)).toMatchObject({
        view: { email: 'one@x.io', firstName: 'B' },
        records: { NOTIFUSE: { remoteId: 'one@x.io', syncedAt: at(2) } },
        updatedAt: at(2),
      });
      expect((await identity.find({ email: 'one@x.io' }))?.id).toBe(record.id);
    });

    it('an idempotency reservation commits without waiting; the answer is kept as usual', async () => {
      const db = h.db!;
      const { modes, recording } = commitModes(db);
      const store = createSqlIdempotencyStore(recording);
      expect(await store.begin('wal-key', 'fp', T0)).toEqual({ state: 'new' });
      expect(await store.begin('wal-key', 'fp', T0 + 1)).toEqual({ state: 'in_progress' });
      await store.complete('wal-key', { ok: true }, T0 + 2);
      expect(await store.begin('wal-key', 'fp', T0 + 3)).toEqual({
        state: 'replay',
        result: { ok: true },
      });
      expect(modes).toEqual(['off']);
      expect(await db.query('SHOW synchronous_commit')).toEqual([{ synchronous_commit: 'on' }]);
    });
  },
);

describe.each(engines.filter((e) => e.name.startsWith('embedded')))(
  "a known contact's save on $name",
  (engine) => {
    let h: Harness;
    beforeEach(async () => {
      h = await engine.open();
    }, STARTUP_MS);
    afterEach(async () => {
      await h.close();
    });

    const stored = async (db: Database, id: string) =>
      (
        await db.query<{ view: unknown; records: unknown; keys: unknown }>(
          `SELECT view, records, keys FROM ${quoteIdent(db.schema)}.identity_records WHERE id = $1`,
          [id],
        )
      )[0];
    const link = (remoteId: string, ms: number, staleAt?: string) => ({
      provider: 'NOTIFUSE' as const,
      remoteId,
      syncedAt: at(ms),
      ...(staleAt ? { staleAt } : {}),
    });

    it('is one UPDATE of the row with the links merged in JS: no index look-up, no json_patch, no RETURNING', async () => {
      const { sent, counting } = recordStatements(h.db!);
      const identity = createSqlIdentityStore(counting);
      const { record } = await identity.claim({ email: 'known@x.io' }, now);
      await identity.save({
        ...record,
        view: { email: 'known@x.io' },
        records: {
          NOTIFUSE: link('n1', 1, at(1)),
          DOTDIGITAL: { provider: 'DOTDIGITAL', remoteId: '7', syncedAt: at(1) },
        },
      });
      const known = (await identity.claim({ email: 'known@x.io' }, now)).record;
      sent.length = 0;
      // Written again: a new view, the Notifuse link replaced whole (its stale mark cleared).
      await identity.save({
        ...known,
        view: { email: 'known@x.io', firstName: 'B' },
        records: { NOTIFUSE: link('n2', 2) },
        updatedAt: at(2),
      });
      expect(sent).toHaveLength(1);
      expect(sent[0]!.via).toBe('change');
      expect(sent[0]!.sql.trimStart()).toMatch(/^UPDATE /);
      expect(sent[0]!.sql).not.toMatch(/json_patch|RETURNING|identity_keys/i);
      const row = await stored(h.db!, record.id);
      expect(row?.view).toEqual({ email: 'known@x.io', firstName: 'B' });
      expect(row?.records).toStrictEqual({
        NOTIFUSE: { provider: 'NOTIFUSE', remoteId: 'n2', syncedAt: at(2) },
        DOTDIGITAL: { provider: 'DOTDIGITAL', remoteId: '7', syncedAt: at(1) },
      });
      // The memo answers the next claim as the row is stored.
      sent.length = 0;
      const again = (await identity.claim({ email: 'known@x.io' }, now)).record;
      expect(sent).toEqual([]);
      expect(again).toStrictEqual(await identity.get(record.id));
    });

    it('changes nothing when the row is not as the memo holds it, and the general save runs', async () => {
      const { sent, counting } = recordStatements(h.db!);
      const identity = createSqlIdentityStore(counting);
      const { record } = await identity.claim({ email: 'behind@x.io' }, now);
      await identity.save({ ...record, view: { email: 'behind@x.io' } });
      const known = (await identity.claim({ email: 'behind@x.io' }, now)).record;
      // Changed behind the memo's back (no writer but the process may do this; a test can): keys
      // the memo does not know, and a link it does not hold.
      await h.db!.query(
        `UPDATE ${quoteIdent(h.db!.schema)}.identity_records
            SET keys = $2, records = $3 WHERE id = $1`,
        [
          record.id,
          JSON.stringify({ email: 'behind@x.io', phone: '+41790000000' }),
          JSON.stringify({
            DOTDIGITAL: { provider: 'DOTDIGITAL', remoteId: '9', syncedAt: at(0) },
          }),
        ],
      );
      sent.length = 0;
      await identity.save({
        ...known,
        view: { email: 'behind@x.io', firstName: 'C' },
        records: { NOTIFUSE: link('n3', 3) },
        updatedAt: at(3),
      });
      // The in-place save found other keys and changed no row; the general save merged the links.
      expect(sent[0]).toMatchObject({ via: 'change' });
      expect(sent.length).toBeGreaterThan(1);
      const row = await stored(h.db!, record.id);
      expect(row?.records).toMatchObject({
        DOTDIGITAL: { remoteId: '9' },
        NOTIFUSE: { remoteId: 'n3', syncedAt: at(3) },
      });
      expect(row?.view).toEqual({ email: 'behind@x.io', firstName: 'C' });
    });
  },
);

describe.each(sqlEngines)('two database handles on $name', (engine) => {
  let a: Harness;
  let b: Harness;
  beforeEach(async () => {
    a = await engine.open();
    b = await engine.twin(a);
  }, STARTUP_MS);
  afterEach(async () => {
    await b.close();
    await a.close();
  });

  it('share the data', async () => {
    const { record } = await a.identity.claim({ email: 'shared@x.io' }, now);
    expect((await b.identity.find({ email: 'shared@x.io' }))?.id).toBe(record.id);
  });

  it('a save from a handle whose view of the keys is stale re-indexes against the stored keys', async () => {
    const { record } = await a.identity.claim({ email: 'first@x.io' }, now);
    await a.identity.save({ ...record, view: { email: 'first@x.io' } });
    // The other handle (another replica) moves the email on.
    const seen = (await b.identity.get(record.id))!;
    await b.identity.save({ ...seen, view: { email: 'second@x.io' }, updatedAt: at(1) });
    // `a` still believes the record holds first@x.io: its save must release second@x.io.
    await a.identity.save({ ...record, view: { email: 'third@x.io' }, updatedAt: at(2) });
    expect((await b.identity.find({ email: 'third@x.io' }))?.id).toBe(record.id);
    expect(await b.identity.find({ email: 'second@x.io' })).toBeNull();
    expect(await b.identity.find({ email: 'first@x.io' })).toBeNull();
    expect((await b.identity.get(record.id))?.view).toEqual({ email: 'third@x.io' });
  });

  it('a save by the key a handle last saw, after another handle moved that key on, points it back', async () => {
    const { record } = await a.identity.claim({ email: 'back@x.io' }, now);
    await a.identity.save({ ...record, view: { email: 'back@x.io' } });
    const seen = (await b.identity.get(record.id))!;
    await b.identity.save({ ...seen, view: { email: 'moved@x.io' }, updatedAt: at(1) });
    // `a` writes the contact again by the email it last saw: the row's keys are not what `a`
    // believes, so its in-place save must not apply; the key is pointed back and the other released.
    await a.identity.save({
      ...record,
      view: { email: 'back@x.io', firstName: 'A' },
      updatedAt: at(2),
    });
    expect((await b.identity.find({ email: 'back@x.io' }))?.id).toBe(record.id);
    expect(await b.identity.find({ email: 'moved@x.io' })).toBeNull();
    expect((await b.identity.get(record.id))?.view).toEqual({ email: 'back@x.io', firstName: 'A' });
  });

  it('a claim by one key answers the record as stored, whatever either handle wrote before', async () => {
    // The embedded engine answers a known contact's claim from what the process last read or
    // wrote; every answer here is checked against the row as a fresh read gives it.
    const stored = async (email: string) => {
      const claimed = (await a.identity.claim({ email }, now)).record;
      const found = await b.identity.find({ email });
      const row = await b.identity.get(claimed.id);
      expect(claimed).toStrictEqual(row);
      expect(found).toStrictEqual(row);
      return row!;
    };
    const first = (await a.identity.claim({ email: 'm1@x.io' }, now)).record;
    await stored('m1@x.io');
    const link = (remoteId: string, ms: number, staleAt?: string) => ({
      provider: 'NOTIFUSE' as const,
      remoteId,
      syncedAt: at(ms),
      ...(staleAt ? { staleAt } : {}),
    });
    // A known contact written again and again, on one handle, then the other.
    let r = await stored('m1@x.io');
    await a.identity.save({
      ...r,
      view: { email: 'm1@x.io', firstName: 'A' },
      records: { NOTIFUSE: link('n1', 1) },
      updatedAt: at(1),
    });
    r = await stored('m1@x.io');
    await b.identity.save({
      ...r,
      view: { email: 'm1@x.io', firstName: 'B' },
      records: { DOTDIGITAL: { provider: 'DOTDIGITAL', remoteId: '7', syncedAt: at(2) } },
      updatedAt: at(2),
    });
    r = await stored('m1@x.io');
    expect(Object.keys(r.records)).toEqual(['NOTIFUSE', 'DOTDIGITAL']);
    // A stale mark, then a write that clears it.
    await a.identity.save({ ...r, records: { NOTIFUSE: link('n1', 3, at(3)) }, updatedAt: at(3) });
    r = await stored('m1@x.io');
    expect(r.records.NOTIFUSE?.staleAt).toBe(at(3));
    await a.identity.save({ ...r, records: { NOTIFUSE: link('n2', 4) }, updatedAt: at(4) });
    r = await stored('m1@x.io');
    expect(r.records.NOTIFUSE).toStrictEqual(link('n2', 4));
    // Another contact takes the email over; the first one moves to another email.
    const second = (await b.identity.claim({ email: 'm2@x.io' }, now)).record;
    await b.identity.save({ ...second, view: { email: 'm1@x.io' }, updatedAt: at(5) });
    expect((await stored('m1@x.io')).id).toBe(second.id);
    await a.identity.save({ ...r, view: { email: 'm3@x.io' }, updatedAt: at(6) });
    expect((await stored('m3@x.io')).id).toBe(first.id);
    expect((await stored('m1@x.io')).id).toBe(second.id);
    expect(await b.identity.find({ email: 'm2@x.io' })).toBeNull();
    // Two writes of one contact at once, from copies claimed before either.
    const x = await stored('m3@x.io');
    await Promise.all([
      a.identity.save({ ...x, records: { NOTIFUSE: link('n3', 7) }, updatedAt: at(7) }),
      b.identity.save({
        ...x,
        records: { SALESFORCE_MC: { provider: 'SALESFORCE_MC', remoteId: 's', syncedAt: at(8) } },
        updatedAt: at(8),
      }),
    ]);
    const both = await stored('m3@x.io');
    expect(Object.keys(both.records).sort()).toEqual(['DOTDIGITAL', 'NOTIFUSE', 'SALESFORCE_MC']);
  });

  it('race on one claim: one record', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? a : b).identity.claim({ externalId: 'race-1', email: 'race@x.io' }, now),
      ),
    );
    expect(new Set(results.map((r) => r.record.id)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
  });

  it('race on one idempotency key: one reservation', async () => {
    const sa = a.idempotency();
    const sb = b.idempotency();
    const states = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? sa : sb).begin('race-key', 'fp', T0)),
    );
    expect(states.filter((s) => s.state === 'new')).toHaveLength(1);
    await sa.complete('race-key', { ok: true }, T0);
    expect(await sb.begin('race-key', 'fp', T0 + 1)).toStrictEqual({
      state: 'replay',
      result: { ok: true },
    });
  });

  it('race on the outbox: each item is claimed by exactly one handle', async () => {
    const [only] = await a.outbox.enqueue([newItem('one@x.io', at(0))], at(0));
    const [ca, cb] = await Promise.all([
      a.outbox.claimDue(at(0), 10, 60_000),
      b.outbox.claimDue(at(0), 10, 60_000),
    ]);
    expect([...ca!, ...cb!].map((i) => i.id)).toEqual([only!.id]);

    const many = await a.outbox.enqueue(
      Array.from({ length: 30 }, (_, i) => newItem(`${i}@x.io`, at(1))),
      at(1),
    );
    const rounds = await Promise.all(
      Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).outbox.claimDue(at(1), 7, 60_000)),
    );
    const ids = rounds.flat().map((i) => i.id);
    expect(ids).toHaveLength(30);
    expect(new Set(ids)).toEqual(new Set(many.map((i) => i.id)));
  });

  it('apply migrations once (opening again changes nothing)', async () => {
    const db = a.db!;
    const rows = await db.query<{ version: number }>(
      `SELECT version FROM ${db.table('schema_migrations')} ORDER BY version`,
    );
    expect(rows.map((r) => Number(r.version))).toEqual(MIGRATIONS.map((_, i) => i + 1));
    await a.identity.claim({ email: 'kept@x.io' }, now);
    const third = await openDatabase({
      databaseUrl: DATABASE_URL && engine.name === 'postgres' ? DATABASE_URL : null,
      dataDir: 'memory://',
      schema: db.schema,
    });
    try {
      const again = await third.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${db.table('schema_migrations')}`,
      );
      expect(again[0]?.n).toBe(MIGRATIONS.length);
      expect(await b.identity.find({ email: 'kept@x.io' })).not.toBeNull();
    } finally {
      await third.close();
    }
  });
});
