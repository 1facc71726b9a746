import { describe, expect, it } from 'vitest';
import { applyPatch, flattenPatch, mergeViews, pickLeaves } from '../../../src/model/contact.js';

describe('unified model helpers', () => {
  it('flattens a patch into dotted leaves, expanding a nested null', () => {
    expect(
      flattenPatch({
        email: 'a@x.io',
        address: { city: 'P', line1: null },
        customFields: { plan: 'x' },
      }),
    ).toEqual([
      ['email', 'a@x.io'],
      ['address.city', 'P'],
      ['address.line1', null],
      ['customFields.plan', 'x'],
    ]);
    expect(flattenPatch({ emailConsent: null }).map(([p]) => p)).toEqual([
      'emailConsent.status',
      'emailConsent.optInType',
      'emailConsent.verified',
      'emailConsent.authorized',
    ]);
  });

  it('applies a patch: absent untouched, null clears, nested merge', () => {
    const base = {
      email: 'a@x.io',
      firstName: 'A',
      address: { city: 'P', country: 'FR' },
      customFields: { a: 1, b: 2 },
    };
    expect(
      applyPatch(base, {
        firstName: null,
        address: { city: null },
        customFields: { b: null, c: 3 },
      }),
    ).toEqual({
      email: 'a@x.io',
      firstName: null,
      address: { country: 'FR' },
      customFields: { a: 1, c: 3 },
    });
    expect(applyPatch(base, { address: null }).address).toBeNull();
    expect(base.address.city).toBe('P');
  });

  it('merges views: first non-null value wins per leaf', () => {
    expect(
      mergeViews([
        { firstName: 'Provider', address: { city: 'P' } },
        { firstName: 'Stale', lastName: 'Fill', address: { city: 'Q', country: 'FR' } },
      ]),
    ).toEqual({ firstName: 'Provider', lastName: 'Fill', address: { city: 'P', country: 'FR' } });
  });

  it('picks leaves by path', () => {
    expect(
      pickLeaves(
        {
          firstName: 'A',
          birthdate: '1990-01-01',
          address: { city: 'P', country: 'FR' },
          customFields: { x: 1 },
        },
        (p) => ['birthdate', 'address.city', 'customFields'].includes(p),
      ),
    ).toEqual({ birthdate: '1990-01-01', address: { city: 'P' }, customFields: { x: 1 } });
  });
});
