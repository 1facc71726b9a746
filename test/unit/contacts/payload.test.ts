import { describe, expect, it } from 'vitest';
import { contactView, EMPTY_LIST, SharedPieces } from '../../../src/contacts/payload.js';
import type { Outcome } from '../../../src/model/outcome.js';
import { outcome } from '../../../src/providers/engine.js';
import type { IdentityRecord } from '../../../src/store/identity.js';

const written = (i: number): Outcome =>
  outcome('DOTDIGITAL', 'CREATED', {
    remoteId: String(1000 + i),
    contact: { email: `c${i}@example.com` },
    droppedFields: ['address.country'],
    attempts: 1,
    durationMs: 12.5,
    details: {
      importId: 'imp-1',
      droppedFieldReasons: { 'address.country': 'no Dotdigital data field is mapped to it' },
    },
  });

describe('SharedPieces', () => {
  it('keeps every outcome as it was, without the provider view, equal pieces shared and frozen', () => {
    const shared = new SharedPieces();
    const a = shared.outcome(written(1));
    const b = shared.outcome(written(2));
    expect(a).toEqual({ ...written(1), contact: null });
    expect(b).toEqual({ ...written(2), contact: null });
    expect(a.droppedFields).toBe(b.droppedFields);
    expect(a.details?.['droppedFieldReasons']).toBe(b.details?.['droppedFieldReasons']);
    expect(a.details).not.toBe(b.details);
    expect(Object.isFrozen(a.droppedFields)).toBe(true);
    expect(() => a.droppedFields.push('x')).toThrow(TypeError);
    expect(written(1).droppedFields).toEqual(['address.country']);
  });

  it('shares empty lists and details, and keeps other details whole', () => {
    const shared = new SharedPieces();
    const empty = shared.outcome(outcome('NOTIFUSE', 'CREATED', { details: {} }));
    const none = shared.outcome(outcome('NOTIFUSE', 'CREATED'));
    const nested = { call: { method: 'POST' } };
    const kept = shared.outcome(outcome('SALESFORCE_MC', 'CREATED', { details: nested }));
    expect(empty.droppedFields).toBe(EMPTY_LIST);
    expect(empty.details).toEqual({});
    expect(Object.isFrozen(empty.details)).toBe(true);
    expect(none.details).toBeNull();
    expect(kept.details).toBe(nested);
    const bulk = () => outcome('NOTIFUSE', 'CREATED', { details: { batchSize: 500 } });
    expect(shared.outcome(bulk()).details).toBe(shared.outcome(bulk()).details);
    expect(shared.outcome(bulk()).details).toEqual({ batchSize: 500 });
  });

  it('shares equal consents of answer views, and only flat ones', () => {
    const shared = new SharedPieces();
    const record = (i: number): IdentityRecord => ({
      id: `id-${i}`,
      view: {
        email: `c${i}@example.com`,
        emailConsent: { authorized: true, verified: false },
        smsConsent: { authorized: i % 2 === 0, verified: false },
      },
      records: {},
      createdAt: 't0',
      updatedAt: 't1',
    });
    const [v0, v1, v2] = [0, 1, 2].map((i) =>
      shared.view(contactView(record(i), EMPTY_LIST, undefined, true)),
    );
    expect(v0).toEqual({
      ...record(0).view,
      id: 'id-0',
      createdAt: 't0',
      updatedAt: 't1',
      records: [],
      readErrors: [],
    });
    expect(v1!.emailConsent).toBe(v0!.emailConsent);
    expect(v2!.smsConsent).toBe(v0!.smsConsent);
    expect(v1!.smsConsent).not.toBe(v0!.smsConsent);
    expect(v1!.smsConsent).toEqual({ authorized: false, verified: false });
    expect(v0!.createdAt).toBe('t0');
  });
});

describe('contactView', () => {
  it('copies the view unless it is owned, later fields winning', () => {
    const view = { email: 'a@example.com', address: { city: 'Leeds' } };
    const record: IdentityRecord = {
      id: 'g1',
      view,
      records: { NOTIFUSE: { provider: 'NOTIFUSE', remoteId: 'a@example.com', syncedAt: 't' } },
      createdAt: 't0',
      updatedAt: 't1',
    };
    const copied = contactView(record, [], { createdAt: null, updatedAt: 't2' });
    expect(copied).toEqual({
      email: 'a@example.com',
      address: { city: 'Leeds' },
      id: 'g1',
      createdAt: 't0',
      updatedAt: 't2',
      records: [{ provider: 'NOTIFUSE', remoteId: 'a@example.com', syncedAt: 't' }],
      readErrors: [],
    });
    expect(copied.address).not.toBe(view.address);
    expect(contactView(record, [], undefined, true).address).toBe(view.address);
  });
});
