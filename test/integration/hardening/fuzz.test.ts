import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import type { GraphQLEnumType } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../../../src/schema/index.js';
import { createTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { upsertMany, upsertOne } from '../../helpers/operations.js';
import { FULL_KEY, KEYS, KEYS_ENV, READ_KEY, upstreamRequests } from './keys.js';
import { type RawResponse, rawRequest } from './raw-http.js';

/**
 * Property tests over `ContactInput`, through `yoga.fetch` with dry runs (validated and mapped by
 * every provider adapter, never sent). Whatever a client sends: never an unmasked error, never a
 * crash (masked INTERNAL_SERVER_ERROR or a 5xx), and an invalid value is always an `InputError`
 * naming its field, with no provider called.
 */
const RUNS = 200;

const UPSERT = upsertOne(
  'contact { id email phone address { country } } outcomes { provider status droppedFields request error { code message } } errors { field code message }',
  '{ dryRun: true }',
);
const UPSERT_MANY = upsertMany(
  'items { contact { id } outcomes { provider status } errors { field code } } summary { total succeeded failed upstreamRequests }',
  '{ dryRun: true }',
);

const INPUT_ERROR_CODES = new Set([
  'INVALID_EMAIL',
  'INVALID_PHONE',
  'INVALID_TIMEZONE',
  'INVALID_DATE',
  'INVALID_COUNTRY',
  'INVALID_LANGUAGE',
  'INVALID_VALUE',
  'IDENTITY_REQUIRED',
]);

const enumValues = (name: string) =>
  (schema.getType(name) as GraphQLEnumType).getValues().map((v) => v.name);

const nullable = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null, freq: 6 });
const text = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ minLength: 250, maxLength: 300 }),
  fc.constantFrom('', '   ', '\u0000', 'Ada', 'O’Brien', '名前', '\u202e'),
);
const email = fc.oneof(text, fc.emailAddress());
const phone = fc.oneof(
  text,
  fc.constantFrom('+14155550123', '+442071838750', '+33 1 23 45 67 89', '004420'),
  fc.stringMatching(/^\+[0-9]{1,16}$/),
);
const timezone = fc.oneof(
  text,
  fc.constantFrom('Europe/Paris', 'America/New_York', 'utc', 'UTC+1', 'GMT-05:00', 'Etc/GMT+5'),
);
const date = fc.oneof(
  text,
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
  fc.stringMatching(/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/),
);
const country = fc.oneof(text, fc.constantFrom('GB', 'us', 'XX', 'GBR', 'fr '));
const language = fc.oneof(text, fc.constantFrom('en-US', 'EN', 'zh-Hant-TW', 'en_US', 'x-private'));
const json = fc.jsonValue({ maxDepth: 3 });

const address = fc.record(
  {
    line1: nullable(text),
    line2: nullable(text),
    city: nullable(text),
    state: nullable(text),
    postalCode: nullable(text),
    county: nullable(text),
    country: nullable(country),
  },
  { requiredKeys: [] },
);
const consent = fc.record(
  {
    status: nullable(fc.constantFrom(...enumValues('ConsentStatus'))),
    optInType: nullable(fc.constantFrom(...enumValues('OptInType'))),
    verified: nullable(fc.boolean()),
    authorized: nullable(fc.boolean()),
  },
  { requiredKeys: [] },
);
const providerOptions = fc.record(
  {
    notifuse: nullable(
      fc.record(
        { subscribeToLists: nullable(fc.array(text, { maxLength: 4 })) },
        { requiredKeys: [] },
      ),
    ),
    dotdigital: nullable(
      fc.record(
        {
          mergeOption: nullable(fc.constantFrom(...enumValues('DotdigitalMergeOption'))),
          lists: nullable(fc.array(fc.integer(), { maxLength: 4 })),
          preferences: nullable(
            fc.array(fc.record({ id: fc.integer(), isOptedIn: fc.boolean() }), { maxLength: 3 }),
          ),
          consentRecords: nullable(
            fc.array(
              fc.record({
                text,
                dateTimeConsented: fc.oneof(
                  text,
                  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
                ),
                url: fc.oneof(text, fc.webUrl()),
                ipAddress: fc.oneof(text, fc.ipV4(), fc.ipV6()),
                userAgent: text,
              }),
              { maxLength: 6 },
            ),
          ),
        },
        { requiredKeys: [] },
      ),
    ),
  },
  { requiredKeys: [] },
);

/** Any well-typed ContactInput: every field optional, nullable, with hostile strings. */
const contactInput = fc.record(
  {
    externalId: nullable(text),
    email: nullable(email),
    phone: nullable(phone),
    homePhone: nullable(phone),
    workPhone: nullable(phone),
    firstName: nullable(text),
    lastName: nullable(text),
    namePrefix: nullable(text),
    nameSuffix: nullable(text),
    jobTitle: nullable(text),
    address: nullable(address),
    birthdate: nullable(date),
    timezone: nullable(timezone),
    language: nullable(language),
    emailFormat: nullable(fc.constantFrom(...enumValues('EmailFormat'))),
    emailConsent: nullable(consent),
    smsConsent: nullable(consent),
    customFields: nullable(fc.dictionary(fc.string({ maxLength: 70 }), json, { maxKeys: 5 })),
    providerOptions: nullable(providerOptions),
  },
  { requiredKeys: [] },
);

/** Anything at all where a ContactInput goes: wrong types, unknown keys, deep nesting. */
const anyInput = fc.oneof(
  json,
  fc.dictionary(
    fc.oneof(
      fc.constantFrom(
        'email',
        'phone',
        'address',
        'customFields',
        'emailConsent',
        'providerOptions',
      ),
      fc.string(),
    ),
    json,
    { maxKeys: 6 },
  ),
  contactInput.map((i) => ({ ...i, address: 'not an object' })),
);

/** One value that must be refused, the field it sits in, and the code it must get. */
const invalid: fc.Arbitrary<{ patch: Record<string, unknown>; field: string; code: string }> =
  fc.oneof(
    fc
      .string({ minLength: 1, maxLength: 60 })
      .filter((s) => !s.includes('@') && s.trim() !== '')
      .map((v) => ({ patch: { email: v }, field: 'input.email', code: 'INVALID_EMAIL' })),
    fc
      .stringMatching(/^[0-9][0-9 ()-]{0,19}$/)
      .map((v) => ({ patch: { phone: v }, field: 'input.phone', code: 'INVALID_PHONE' })),
    fc
      .stringMatching(/^\+0[0-9]{1,14}$/)
      .map((v) => ({ patch: { workPhone: v }, field: 'input.workPhone', code: 'INVALID_PHONE' })),
    fc.stringMatching(/^[A-Z][a-z]{2,10}$/).map((v) => ({
      patch: { timezone: `Mars/${v}` },
      field: 'input.timezone',
      code: 'INVALID_TIMEZONE',
    })),
    fc
      .constantFrom('UTC+1', 'GMT-05:00', '+02:00', 'utc -3')
      .map((v) => ({ patch: { timezone: v }, field: 'input.timezone', code: 'INVALID_TIMEZONE' })),
    fc
      .stringMatching(/^(19|20)[0-9]{2}-(1[3-9]|[2-9][0-9])-[0-2][0-9]$/)
      .map((v) => ({ patch: { birthdate: v }, field: 'input.birthdate', code: 'INVALID_DATE' })),
    fc
      .string({ minLength: 1, maxLength: 20 })
      .filter((s) => !/^\s*\d{4}-\d{2}-\d{2}\s*$/.test(s) && s.trim() !== '')
      .map((v) => ({ patch: { birthdate: v }, field: 'input.birthdate', code: 'INVALID_DATE' })),
    fc.stringMatching(/^[A-Z]{3,5}$/).map((v) => ({
      patch: { address: { country: v } },
      field: 'input.address.country',
      code: 'INVALID_COUNTRY',
    })),
    fc
      .stringMatching(/^[a-z]{2}[!#$%&*;,][a-z]{2}$/)
      .map((v) => ({ patch: { language: v }, field: 'input.language', code: 'INVALID_LANGUAGE' })),
    fc
      .tuple(
        fc.constantFrom(
          'externalId',
          'firstName',
          'lastName',
          'namePrefix',
          'nameSuffix',
          'jobTitle',
        ),
        fc.oneof(
          fc.stringMatching(/^\s*$/),
          fc.string({ minLength: 256, maxLength: 400 }).filter((s) => s.trim().length > 255),
        ),
      )
      .map(([key, v]) => ({ patch: { [key]: v }, field: `input.${key}`, code: 'INVALID_VALUE' })),
    fc.stringMatching(/^[0-9_.-][A-Za-z0-9]{0,10}$/).map((k) => ({
      patch: { customFields: { [k]: 1 } },
      field: `input.customFields.${k}`,
      code: 'INVALID_VALUE',
    })),
  );

interface GqlError {
  message: string;
  extensions?: Record<string, unknown>;
}

describe('fast-check over ContactInput (dry runs through yoga.fetch)', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await createTestGateway();
  });
  afterAll(async () => {
    await t.close();
  });

  async function send(query: string, variables: Record<string, unknown>) {
    const res = await t.gateway.yoga.fetch('http://gateway/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
    const text = await res.text();
    return {
      status: res.status,
      text,
      body: JSON.parse(text) as { data?: unknown; errors?: GqlError[] },
    };
  }

  function expectNoCrash(res: { status: number; text: string; body: { errors?: GqlError[] } }) {
    // 400: GraphQL refused the variables (coercion); anything 5xx would be a crash.
    expect([200, 400]).toContain(res.status);
    expect(res.text).not.toContain('Unexpected error.');
    for (const error of res.body.errors ?? []) {
      expect(error.extensions?.['code']).not.toBe('INTERNAL_SERVER_ERROR');
    }
  }

  it(`anything in place of a ContactInput: a GraphQL or input error, never a crash (${RUNS} runs)`, async () => {
    const before = upstreamRequests(t);
    await fc.assert(
      fc.asyncProperty(anyInput, async (input) => {
        const res = await send(UPSERT, { input });
        expectNoCrash(res);
        const payload = (
          res.body.data as { upsertContact?: { errors: Array<{ code: string }> } } | null
        )?.upsertContact;
        if (!payload) {
          // Refused by GraphQL itself (variable coercion): a client error with a message.
          expect(res.body.errors?.length).toBeGreaterThan(0);
        } else {
          for (const e of payload.errors) {
            expect(INPUT_ERROR_CODES).toContain(e.code);
          }
        }
      }),
      { numRuns: RUNS },
    );
    expect(upstreamRequests(t)).toBe(before);
  });

  it(`any well-typed ContactInput reaches the resolver: InputErrors or a dry run per provider (${RUNS} runs)`, async () => {
    const before = upstreamRequests(t);
    await fc.assert(
      fc.asyncProperty(contactInput, async (input) => {
        const res = await send(UPSERT, { input });
        expectNoCrash(res);
        expect(res.status).toBe(200);
        expect(res.body.errors).toBeUndefined();
        const payload = (
          res.body.data as {
            upsertContact: {
              contact: unknown;
              outcomes: Array<{ status: string; error: { code: string } | null }>;
              errors: Array<{ field: string; code: string; message: string }>;
            };
          }
        ).upsertContact;
        if (payload.errors.length > 0) {
          expect(payload.contact).toBeNull();
          for (const e of payload.errors) {
            expect(INPUT_ERROR_CODES).toContain(e.code);
            expect(e.field === 'input' || e.field.startsWith('input.')).toBe(true);
            expect(e.message.length).toBeGreaterThan(0);
          }
        } else {
          expect(payload.outcomes.length).toBeGreaterThan(0);
          for (const o of payload.outcomes) {
            expect(['DRY_RUN', 'SKIPPED', 'FAILED']).toContain(o.status);
            expect(o.error?.code).not.toBe('INTERNAL');
          }
        }
      }),
      { numRuns: RUNS },
    );
    expect(upstreamRequests(t)).toBe(before);
  });

  it(`an invalid value is always an InputError naming its field, and nothing is sent (${RUNS} runs)`, async () => {
    const before = upstreamRequests(t);
    await fc.assert(
      fc.asyncProperty(contactInput, invalid, async (base, bad) => {
        const input = { ...base, email: 'fuzz@example.com', ...bad.patch };
        const res = await send(UPSERT, { input });
        expectNoCrash(res);
        expect(res.body.errors).toBeUndefined();
        const payload = (
          res.body.data as {
            upsertContact: { contact: unknown; errors: Array<{ field: string; code: string }> };
          }
        ).upsertContact;
        expect(payload.contact).toBeNull();
        expect(payload.errors).toContainEqual({
          field: bad.field,
          code: bad.code,
          message: expect.any(String),
        });
      }),
      { numRuns: RUNS },
    );
    expect(upstreamRequests(t)).toBe(before);
  });

  it(`a batch of arbitrary inputs: one item per input, bad items fail alone (${RUNS} runs)`, async () => {
    const before = upstreamRequests(t);
    await fc.assert(
      fc.asyncProperty(fc.array(contactInput, { minLength: 1, maxLength: 4 }), async (inputs) => {
        const res = await send(UPSERT_MANY, { inputs });
        expectNoCrash(res);
        expect(res.body.errors).toBeUndefined();
        const { items, summary } = (
          res.body.data as {
            upsertContacts: {
              items: Array<{ errors: Array<{ field: string; code: string }> }>;
              summary: {
                total: number;
                succeeded: number;
                failed: number;
                upstreamRequests: number;
              };
            };
          }
        ).upsertContacts;
        expect(items).toHaveLength(inputs.length);
        expect(summary.total).toBe(inputs.length);
        expect(summary.succeeded + summary.failed).toBe(inputs.length);
        expect(summary.upstreamRequests).toBe(0);
        items.forEach((item, i) => {
          for (const e of item.errors) {
            expect(INPUT_ERROR_CODES).toContain(e.code);
            expect(e.field === `inputs.${i}` || e.field.startsWith(`inputs.${i}.`)).toBe(true);
          }
        });
      }),
      { numRuns: RUNS },
    );
    expect(upstreamRequests(t)).toBe(before);
  });
});

/** Each character of `text` as itself or percent-encoded (either hex case). */
const percentEncoded = (text: string) =>
  fc
    .array(fc.constantFrom('raw', 'upper', 'lower'), {
      minLength: text.length,
      maxLength: text.length,
    })
    .map((modes) =>
      [...text]
        .map((ch, i) => {
          const hex = ch.charCodeAt(0).toString(16).padStart(2, '0');
          return modes[i] === 'raw' ? ch : `%${modes[i] === 'upper' ? hex.toUpperCase() : hex}`;
        })
        .join(''),
    );

/** A random case for each letter of `text`. */
const anyCase = (text: string) =>
  fc
    .array(fc.boolean(), { minLength: text.length, maxLength: text.length })
    .map((flips) => [...text].map((ch, i) => (flips[i] ? ch.toUpperCase() : ch)).join(''));

/** Request-targets around `/graphql`: prefixes, encodings, case, dot segments, suffixes, junk. */
const target = fc.oneof(
  fc
    .tuple(
      fc.constantFrom(
        '/',
        '//',
        '/./',
        '/foo/',
        '/../',
        '/x/../',
        '\\',
        '/\\',
        '/%2F',
        '/%2e/',
        '',
      ),
      fc.oneof(fc.constant('graphql'), percentEncoded('graphql'), anyCase('graphql')),
      fc.constantFrom(
        '',
        '/',
        '/.',
        '/..',
        '//',
        ';x',
        '%00',
        '%20',
        '%2F',
        '\\',
        '.json',
        '/health',
        '?x=1',
        '?y=/graphql',
        '?x=/health',
        '#f',
        '?a=1#/graphql',
      ),
    )
    .map(([prefix, name, suffix]) => `${prefix}${name}${suffix}`),
  fc.constantFrom('/graphql', '/graphql?x=1', '/health', '/health?x=1', '/ready', '*', '/'),
  fc.stringMatching(/^\/[\x21-\x7e]{0,24}$/),
  fc.stringMatching(/^[\x21-\x7e]{1,24}$/),
);

/** The exact path as sent (up to `?` or `#`): the only one that serves GraphQL. */
const sentPath = (t: string) => t.split(/[?#]/)[0];

const VALID_KEYS = KEYS.map((k) => k.key);

/** `Authorization` values: scheme case and spelling, separators, a key's prefix or suffix, two keys, trailing bytes. */
const authorization = fc.record({
  scheme: fc.oneof(
    anyCase('bearer'),
    fc.constantFrom('Basic', 'Token', 'Bearer:', 'Bearer=', 'ApiKey', ''),
  ),
  separator: fc.constantFrom(' ', '  ', '\t', ' \t ', '', ':', '='),
  key: fc.oneof(
    fc.constantFrom(...VALID_KEYS),
    fc.constantFrom(...VALID_KEYS).chain((k) =>
      fc.oneof(
        fc.integer({ min: 1, max: k.length - 1 }).map((n) => k.slice(0, n)),
        fc.integer({ min: 1, max: k.length - 1 }).map((n) => k.slice(n)),
        fc.stringMatching(/^[\x21-\x7e]{1,4}$/).map((x) => `${k}${x}`),
        fc.stringMatching(/^[\x21-\x7e]{1,4}$/).map((x) => `${x}${k}`),
        fc.constant(k.toUpperCase()),
        fc.constant(`${k} ${FULL_KEY}`),
        fc.constant(`${k},${READ_KEY}`),
        fc.constant(Buffer.from(k).toString('base64')),
      ),
    ),
    fc.stringMatching(/^[\x21-\x7e]{0,40}$/),
  ),
  trailing: fc.constantFrom('', ' ', '\t', '\u0000', '\r', '\u000b', '\u00a0'),
});

describe('fast-check over paths and Authorization headers (production, keys set, real port)', () => {
  let t: TestGateway;
  let server: Server;
  let port: number;
  const SEED = 'fuzz.seed@example.com';
  const READ = JSON.stringify({ query: `{ contact(email: "${SEED}") { email } }` });
  beforeAll(async () => {
    t = await createTestGateway({
      ...KEYS_ENV,
      NODE_ENV: 'production',
      GATEWAY_RATE_LIMIT_PER_MINUTE: '0',
    });
    await t.gql(
      `mutation { upsertContact(input: { email: "${SEED}" }, options: { providers: [NOTIFUSE] }) { contact { id } } }`,
      {},
      { authorization: `Bearer ${FULL_KEY}` },
    );
    server = createServer(t.gateway.listener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await t.close();
  });

  const executed = (res: RawResponse) => res.body.includes('"data"') || res.body.includes(SEED);

  it(`any request-target: 404 unless exactly /graphql or a public path, never a 5xx, never executed without a key (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(
        target,
        fc.constantFrom('GET', 'POST'),
        fc.constantFrom<string | null>(
          null,
          'Bearer test-wrong-key-0123456789abcdef',
          `Bearer ${FULL_KEY}`,
        ),
        async (path, method, auth) => {
          const res = await rawRequest(port, {
            method,
            target: path,
            headers: [
              ...(auth ? ([['authorization', auth]] as const) : []),
              ['content-type', 'application/json'],
            ],
            ...(method === 'POST' ? { body: READ } : {}),
          });
          const exact = sentPath(path) === '/graphql';
          const isPublic = sentPath(path) === '/health' || sentPath(path) === '/ready';
          expect(res.status).toBeLessThan(isPublic ? 504 : 500);
          if (!exact && !isPublic) {
            expect([400, 404]).toContain(res.status);
          }
          if (!(exact && auth === `Bearer ${FULL_KEY}`)) {
            expect(executed(res)).toBe(false);
          }
          if (exact && method === 'POST') {
            expect(res.status).toBe(auth === `Bearer ${FULL_KEY}` ? 200 : 401);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it(`any Authorization header: only "Bearer <a configured key>" once authenticates; never a 5xx (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(
        authorization,
        fc.option(authorization, { freq: 4 }),
        fc.constantFrom<Array<[string, string]>>(
          [],
          [['x-api-key', FULL_KEY]],
          [['cookie', `key=${FULL_KEY}`]],
          [['proxy-authorization', `Bearer ${FULL_KEY}`]],
        ),
        async (first, second, decoys) => {
          const value = (a: typeof first) => `${a.scheme}${a.separator}${a.key}${a.trailing}`;
          const res = await rawRequest(port, {
            method: 'POST',
            target: '/graphql',
            headers: [
              ['authorization', value(first)],
              ...(second ? ([['authorization', value(second)]] as const) : []),
              ...decoys,
              ['content-type', 'application/json'],
            ],
            body: READ,
          });
          const accepted =
            second === null &&
            /^bearer$/i.test(first.scheme) &&
            /^[ \t]+$/.test(first.separator) &&
            VALID_KEYS.includes(first.key) &&
            /^[ \t]*$/.test(first.trailing);
          expect(res.status).toBeLessThan(500);
          if (accepted) {
            expect(res.status).toBe(200);
            expect(res.body).toContain(
              first.key === READ_KEY || first.key === FULL_KEY ? SEED : '"data"',
            );
          } else {
            // 400: Node's parser refused a NUL or CR; 401: the key check refused the rest.
            expect([400, 401]).toContain(res.status);
            expect(executed(res)).toBe(false);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });
});
