import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { statusFaults } from '../../helpers/faults.js';
import { createTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { upsertOne } from '../../helpers/operations.js';
import { upstreamRequests } from './keys.js';

const UPSERT = upsertOne(
  'contact { id } outcomes { provider status } errors { field code message }',
);

/** `{"a": {"a": … 1 …}}`, `depth` objects deep, built without recursion. */
function nested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: 1 };
  for (let i = 1; i < depth; i++) {
    value = { a: value };
  }
  return value;
}

/** The same as a GraphQL object literal. */
function nestedLiteral(depth: number): string {
  return `${'{ a: '.repeat(depth - 1)}{ leaf: 1 }${' }'.repeat(depth - 1)}`;
}

/**
 * JSON bombs in `customFields`: too deep, too long, too many keys, too big. Each is refused before
 * any provider is called (the sandboxes receive nothing) and nothing is stored; the error names the
 * field. Production mode: nothing of what was sent comes back.
 */
describe('JSON bombs in customFields (production)', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await createTestGateway(
      // Literal bombs need room in the token limit to reach the scalar at all.
      { NODE_ENV: 'production', GATEWAY_MAX_TOKENS: '100000' },
      { only: ['NOTIFUSE', 'DOTDIGITAL'] },
    );
  }, 60_000);
  afterAll(async () => {
    await t.close();
  });

  async function refusedInput(email: string, customFields: unknown) {
    const before = upstreamRequests(t);
    const res = await t.gql<{ upsertContact: { errors: unknown[]; outcomes: unknown[] } }>(UPSERT, {
      input: { email, customFields },
    });
    expect(upstreamRequests(t)).toBe(before);
    expect(await t.gateway.store.find({ email })).toBeNull();
    expect(res.errors).toBeUndefined();
    expect(res.data.upsertContact.outcomes).toEqual([]);
    return res.data.upsertContact.errors;
  }

  it('depth 2,000 via variables: refused by the scalar, no stack overflow, nothing sent', async () => {
    const before = upstreamRequests(t);
    const res = await t.gql(UPSERT, {
      input: { email: 'deep-var@example.com', customFields: nested(2000) },
    });
    expect(upstreamRequests(t)).toBe(before);
    expect(res.data ?? null).toBeNull();
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0]!.message).toContain('JSONObject nests deeper than 32 levels.');
    expect(res.errors![0]!.message).not.toContain('Unexpected error');
    expect(await t.gateway.store.find({ email: 'deep-var@example.com' })).toBeNull();
  });

  it('depth 2,000 as a literal: refused before parsing (the parser recursed per level), nothing sent', async () => {
    const before = upstreamRequests(t);
    const res = await t.gql(
      `mutation { upsertContact(input: { email: "deep-lit@example.com", customFields: ${nestedLiteral(2000)} }) { contact { id } } }`,
    );
    expect(upstreamRequests(t)).toBe(before);
    expect(res.data ?? null).toBeNull();
    expect(res.errors).toEqual([
      {
        message: 'Syntax Error: Nesting limit of 72 exceeded.',
        extensions: { code: 'MAX_DEPTH_EXCEEDED' },
      },
    ]);
  });

  it('depth 40 as a literal: refused by the JSONObject scalar (at most 32 levels)', async () => {
    const res = await t.gql(
      `mutation { upsertContact(input: { email: "deep40@example.com", customFields: ${nestedLiteral(40)} }) { contact { id } } }`,
    );
    expect(res.data ?? null).toBeNull();
    expect(res.errors?.[0]).toMatchObject({
      message: 'JSONObject nests deeper than 32 levels.',
      extensions: { code: 'BAD_USER_INPUT' },
    });
  });

  it('depth 6 (over GATEWAY_MAX_JSON_DEPTH 5): an InputError naming the field', async () => {
    expect(await refusedInput('deep6@example.com', nested(6))).toEqual([
      {
        field: 'input.customFields',
        code: 'INVALID_VALUE',
        message:
          'input.customFields nests deeper than 5 levels (GATEWAY_MAX_JSON_DEPTH) at input.customFields.a.a.a.a.a',
      },
    ]);
    // Depth 5 is fine.
    const ok = await t.gql(UPSERT, {
      input: { email: 'deep5@example.com', customFields: nested(5) },
    });
    expect(ok.data).toMatchObject({ upsertContact: { errors: [] } });
  });

  it('a 4 MB string: refused, never stored at Dotdigital', async () => {
    const errors = await refusedInput('big-string@example.com', { note: 'x'.repeat(4_000_000) });
    expect(errors).toEqual([
      {
        field: 'input.customFields',
        code: 'INVALID_VALUE',
        message:
          'input.customFields.note is a string of 4000000 characters; at most 2048 are accepted (GATEWAY_MAX_JSON_STRING_LENGTH)',
      },
    ]);
  });

  it('many keys: more than GATEWAY_MAX_JSON_KEYS (100) in all levels', async () => {
    const wide = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`k${i}`, i]));
    const errors = await refusedInput('many-keys@example.com', { ...wide, sub: { ...wide } });
    expect(errors).toEqual([
      {
        field: 'input.customFields',
        code: 'INVALID_VALUE',
        message: 'input.customFields has more than 100 keys in all (GATEWAY_MAX_JSON_KEYS)',
      },
    ]);
  });

  it('total size: more than GATEWAY_MAX_JSON_BYTES (16384) per contact', async () => {
    const fields = Object.fromEntries(
      Array.from({ length: 10 }, (_, i) => [`f${i}`, 'é'.repeat(1000)]),
    );
    const errors = await refusedInput('big-total@example.com', fields);
    expect(errors).toEqual([
      {
        field: 'input.customFields',
        code: 'INVALID_VALUE',
        message: expect.stringMatching(
          /^input\.customFields is 20\d{3} bytes of JSON; at most 16384 are accepted per contact \(GATEWAY_MAX_JSON_BYTES\)$/,
        ),
      },
    ]);
  });

  it('in a batch the bomb fails alone; the other item is written', async () => {
    const res = await t.gql<{
      upsertContacts: { items: Array<{ errors: Array<{ field: string }>; outcomes: unknown[] }> };
    }>(
      `mutation($i: [ContactInput!]!) { upsertContacts(inputs: $i, options: { providers: [NOTIFUSE] }) {
        items { errors { field } outcomes { status } } } }`,
      {
        i: [
          { email: 'batch-ok@example.com' },
          { email: 'batch-bomb@example.com', customFields: nested(6) },
        ],
      },
    );
    expect(res.data.upsertContacts.items).toEqual([
      { errors: [], outcomes: [{ status: 'CREATED' }] },
      { errors: [{ field: 'inputs.1.customFields' }], outcomes: [] },
    ]);
    expect(t.notifuse.store.get('batch-bomb@example.com')).toBeUndefined();
  });
});

describe('the limits are configurable', () => {
  it('GATEWAY_MAX_JSON_DEPTH / _KEYS / _STRING_LENGTH / _BYTES', async () => {
    const t = await createTestGateway(
      {
        GATEWAY_MAX_JSON_DEPTH: '2',
        GATEWAY_MAX_JSON_KEYS: '3',
        GATEWAY_MAX_JSON_STRING_LENGTH: '4',
        GATEWAY_MAX_JSON_BYTES: '30',
      },
      { only: ['NOTIFUSE'] },
    );
    try {
      const errorOf = async (customFields: unknown) => {
        const res = await t.gql<{ upsertContact: { errors: Array<{ message: string }> } }>(UPSERT, {
          input: { email: 'cfg@example.com', customFields },
        });
        return res.data.upsertContact.errors[0]?.message ?? null;
      };
      expect(await errorOf({ a: { b: 1 } })).toBeNull();
      expect(await errorOf({ a: { b: { c: 1 } } })).toMatch(/nests deeper than 2 levels/);
      expect(await errorOf({ a: 1, b: 2, c: 3, d: 4 })).toMatch(/more than 3 keys/);
      expect(await errorOf({ a: 'abcde' })).toMatch(/string of 5 characters; at most 4/);
      expect(await errorOf({ a: 'abcd', b: 'abcd', c: 'abcd' })).toMatch(/at most 30 are accepted/);
    } finally {
      await t.close();
    }
  });
});

/**
 * A write whose answer cannot be built is still whole: identity links and queued writes are
 * stored before the answer is built (the depth-2,000 write lost both).
 */
describe('no half-applied write when building the answer fails', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await createTestGateway(
      { RETRY_MAX_ATTEMPTS: '1', OUTBOX_POLL_MS: '0', BREAKER_THRESHOLD: '100' },
      { only: ['NOTIFUSE', 'DOTDIGITAL'] },
    );
  }, 60_000);
  afterAll(async () => {
    await t.close();
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('identity links and the outbox are saved although the answer threw', async () => {
    t.dotdigital.controls.inject({
      faults: statusFaults(5, 503),
    });
    const service = t.gateway.service as unknown as { toContact: (...args: unknown[]) => never };
    vi.spyOn(service, 'toContact').mockImplementation(() => {
      throw new Error('building the answer failed');
    });
    const res = await t.gql(UPSERT, { input: { email: 'half@example.com', firstName: 'Half' } });
    expect(res.errors?.[0]?.message).toBe('Unexpected error.');
    vi.restoreAllMocks();

    const record = await t.gateway.store.find({ email: 'half@example.com' });
    expect(record?.records['NOTIFUSE']).toMatchObject({ remoteId: 'half@example.com' });
    expect(record?.view).toMatchObject({ email: 'half@example.com', firstName: 'Half' });
    const pending = await t.gql<{ pendingWrites: Array<{ provider: string; contactId: string }> }>(
      '{ pendingWrites { provider contactId } }',
    );
    expect(pending.data.pendingWrites).toEqual([{ provider: 'DOTDIGITAL', contactId: record!.id }]);
  });
});
