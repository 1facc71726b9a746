import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createKeyVerifier, parseApiKeys } from '../../../src/auth/keys.js';

const A = 'alpha-key-0123456789abcdefghij';
const B = 'bravo-key-0123456789abcdefghij';

describe('parseApiKeys (GATEWAY_API_KEYS)', () => {
  it('reads a JSON array of {name, key, scopes} and wraps each key as a Secret', () => {
    const problems: string[] = [];
    const keys = parseApiKeys(
      JSON.stringify([
        { name: 'web', key: A, scopes: ['contacts:read'] },
        { name: 'crm-sync', key: B, scopes: ['contacts:read', 'contacts:write', 'contacts:read'] },
      ]),
      problems,
    );
    expect(problems).toEqual([]);
    expect(keys.map((k) => [k.name, k.scopes, k.key.reveal()])).toEqual([
      ['web', ['contacts:read'], A],
      ['crm-sync', ['contacts:read', 'contacts:write'], B],
    ]);
    expect(JSON.stringify(keys)).not.toContain(A);
    expect(inspect(keys, { depth: 5 })).not.toContain(B);
  });

  it('names every problem without ever quoting a key', () => {
    const cases: Array<[unknown, string[]]> = [
      [{ name: 'x' }, ['GATEWAY_API_KEYS: Invalid input: expected array, received object']],
      [
        [{ name: 'short', key: 'tiny-secret', scopes: ['contacts:read'] }],
        ['GATEWAY_API_KEYS[0].key: must be at least 24 characters'],
      ],
      [
        [{ name: 'web', key: `${A} with spaces`, scopes: [] }],
        [
          'GATEWAY_API_KEYS[0].key: must be printable ASCII without spaces',
          'GATEWAY_API_KEYS[0].scopes: must list at least one of contacts:read, contacts:write',
        ],
      ],
      [
        [{ name: 'web', key: A, scopes: ['contacts:delete'] }],
        [
          'GATEWAY_API_KEYS[0].scopes[0]: Invalid option: expected one of "contacts:read"|"contacts:write"',
        ],
      ],
      [
        [{ name: 'web', key: A, scopes: ['contacts:read'], extra: A }],
        ['GATEWAY_API_KEYS[0]: Unrecognized key: "extra"'],
      ],
      [
        [
          { name: 'web', key: A, scopes: ['contacts:read'] },
          { name: 'web', key: A, scopes: ['contacts:write'] },
        ],
        [
          'GATEWAY_API_KEYS[1].name: "web" is used twice',
          'GATEWAY_API_KEYS[1].key: the same key is listed twice',
        ],
      ],
    ];
    for (const [value, expected] of cases) {
      const problems: string[] = [];
      expect(parseApiKeys(JSON.stringify(value), problems)).toEqual([]);
      expect(problems).toEqual(expected);
      expect(problems.join('\n')).not.toContain(A);
      expect(problems.join('\n')).not.toContain('tiny-secret');
    }
    const problems: string[] = [];
    parseApiKeys(`[{"name":"web","key":"${A}"`, problems);
    expect(problems).toEqual([
      'GATEWAY_API_KEYS must be a JSON array of {"name", "key", "scopes"}',
    ]);
  });
});

describe('createKeyVerifier', () => {
  const keys = parseApiKeys(
    JSON.stringify([
      { name: 'a', key: A, scopes: ['contacts:read'] },
      { name: 'b', key: B, scopes: ['contacts:write'] },
    ]),
    [],
  );
  const verify = createKeyVerifier(keys);

  it('finds the entry of an exact key', () => {
    expect(verify(A)?.name).toBe('a');
    expect(verify(B)?.name).toBe('b');
  });

  it('refuses anything that is not exactly a key: prefixes, extensions, case, one character off', () => {
    for (const presented of [
      '',
      A.slice(0, -1),
      `${A}x`,
      A.toUpperCase(),
      `${A.slice(0, -1)}k`,
      ` ${A}`,
      A + B,
    ]) {
      expect(verify(presented)).toBeNull();
    }
  });

  it('refuses everything when no key is configured', () => {
    expect(createKeyVerifier([])(A)).toBeNull();
  });
});
