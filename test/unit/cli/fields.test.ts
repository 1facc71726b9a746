import { describe, expect, it } from 'vitest';
import { parseImportArgs, UsageError } from '../../../src/cli/args.js';
import { createRowMapper, defaultTarget, parseMap } from '../../../src/cli/fields.js';
import { chunkKey, importId } from '../../../src/cli/import.js';

describe('import CLI: columns → ContactInput', () => {
  it.each([
    ['email', 'email'],
    ['E-mail Address', 'email'],
    ['first_name', 'firstName'],
    ['First Name', 'firstName'],
    ['firstName', 'firstName'],
    ['LAST_NAME', 'lastName'],
    ['zip', 'address.postalCode'],
    ['address.city', 'address.city'],
    ['emailConsent.status', 'emailConsent.status'],
    ['custom_plan', 'customFields.plan'],
    ['customFields.tier', 'customFields.tier'],
    ['favourite colour', undefined],
  ])('%s → %s', (column, target) => {
    expect(defaultTarget(column)).toBe(target);
  });

  it('builds nested inputs, omits empty cells, checks booleans and enums per row', () => {
    const mapper = createRowMapper(parseMap(['Plan=customFields.plan', 'notes=-']));
    expect(
      mapper.map({
        Email: ' a@example.com ',
        city: 'Oslo',
        'emailConsent.verified': 'yes',
        'emailConsent.status': 'subscribed',
        Plan: 'gold',
        phone: '',
        notes: 'ignored',
        colour: 'red',
      }),
    ).toEqual({
      input: {
        email: 'a@example.com',
        address: { city: 'Oslo' },
        emailConsent: { verified: true, status: 'SUBSCRIBED' },
        customFields: { plan: 'gold' },
      },
    });
    expect([...mapper.unmapped]).toEqual(['colour']);
    expect(
      mapper.map({ email: 'b@example.com', emailFormat: 'rtf', 'smsConsent.verified': 'maybe' }),
    ).toEqual({
      errors: [
        'emailFormat: expected one of HTML, PLAIN_TEXT, got "rtf"',
        'smsConsent.verified: expected true or false, got "maybe"',
      ],
    });
    // NDJSON objects are checked field by field too.
    expect(
      createRowMapper(new Map()).map({ email: 'c@example.com', address: { town: 'x' } }),
    ).toEqual({
      errors: ['address.town: no such field address.town'],
    });
  });

  it('keys depend on the file and on every setting that shapes the writes', () => {
    const parse = (...extra: string[]) => {
      const p = parseImportArgs(['import', 'f.csv', ...extra], {});
      if (p.help) {
        throw new Error('help');
      }
      return p.options;
    };
    const id = importId('a'.repeat(64), parse());
    expect(importId('a'.repeat(64), parse())).toBe(id);
    expect(importId('b'.repeat(64), parse())).not.toBe(id);
    expect(importId('a'.repeat(64), parse('--chunk-size', '100'))).not.toBe(id);
    expect(importId('a'.repeat(64), parse('--map', 'x=email'))).not.toBe(id);
    expect(importId('a'.repeat(64), parse('--providers', 'NOTIFUSE'))).not.toBe(id);
    expect(chunkKey(id, 7)).toBe(`contact-gateway-import:${id}:7`);
    expect(() => parse('--map', 'x=nope')).toThrow(UsageError);
  });
});
