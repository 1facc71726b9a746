import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from '../../../src/app.js';
import { loadConfig } from '../../../src/config.js';
import { createLogger } from '../../../src/logger.js';
import { startSandboxes } from '../../../src/sandbox-mode.js';
import { createMemoryIdentityStore } from '../../../src/store/identity.js';
import { createTestGateway, type TestGateway } from '../../helpers/gateway.js';

const post = (t: TestGateway, body: unknown, headers: Record<string, string> = {}) =>
  t.gateway.yoga.fetch('http://gateway/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

/** Bad operations whose errors would carry a "Did you mean" hint in development. */
const SUGGESTING: Array<[string, { query: string; variables?: Record<string, unknown> }]> = [
  ['unknown field', { query: '{ contactz(email: "x@example.com") { id } }' }],
  [
    'unknown input field',
    { query: 'mutation { upsertContact(input: { emial: "x@example.com" }) { contact { id } } }' },
  ],
  [
    'enum value in the document',
    {
      query:
        'mutation { upsertContact(input: { email: "x@example.com" }, options: { providers: [NOTIFUS] }) { contact { id } } }',
    },
  ],
  [
    'enum value in a variable',
    {
      query:
        'mutation($p: [Provider!]) { upsertContact(input: { email: "x@example.com" }, options: { providers: $p, dryRun: true }) { contact { id } } }',
      variables: { p: ['NOTIFUS'] },
    },
  ],
];

describe('production defaults (NODE_ENV=production)', () => {
  let prod: TestGateway;
  let dev: TestGateway;
  let prodWithGraphiql: TestGateway;
  beforeAll(async () => {
    [prod, dev, prodWithGraphiql] = await Promise.all([
      createTestGateway({ NODE_ENV: 'production' }),
      createTestGateway(),
      createTestGateway({ NODE_ENV: 'production', GATEWAY_GRAPHIQL: '1' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([prod.close(), dev.close(), prodWithGraphiql.close()]);
  });

  const graphiqlPage = (t: TestGateway) =>
    t.gateway.yoga.fetch('http://gateway/graphql', { headers: { accept: 'text/html' } });

  it('serves no GraphiQL unless GATEWAY_GRAPHIQL=1', async () => {
    const res = await graphiqlPage(prod);
    expect(res.headers.get('content-type') ?? '').not.toMatch(/text\/html/);
    expect(await res.text()).not.toMatch(/graphiql|<html/i);
    const enabled = await graphiqlPage(prodWithGraphiql);
    expect(enabled.status).toBe(200);
    expect(await enabled.text()).toContain('GraphiQL');
    expect(await (await graphiqlPage(dev)).text()).toContain('GraphiQL');
  });

  it('refuses introspection unless GATEWAY_GRAPHIQL=1; __typename still works', async () => {
    for (const query of [
      '{ __schema { queryType { name } } }',
      '{ __type(name: "Contact") { name } }',
    ]) {
      const refused = await prod.gql(query);
      expect(refused.data ?? null).toBeNull();
      expect(refused.errors?.[0]?.message).toMatch(/^GraphQL introspection has been disabled/);
      expect(JSON.stringify(refused)).not.toContain('Mutation');
      expect((await prodWithGraphiql.gql(query)).errors).toBeUndefined();
      expect((await dev.gql(query)).errors).toBeUndefined();
    }
    expect((await prod.gql('{ __typename }')).data).toEqual({ __typename: 'Query' });
  });

  it.each(SUGGESTING)('gives no "Did you mean" suggestion: %s', async (_title, body) => {
    const res = await prod.gql(body.query, body.variables);
    expect(res.errors?.length).toBeGreaterThan(0);
    expect(JSON.stringify(res)).not.toMatch(/Did you mean|NOTIFUSE"|"email"/);
    // The same request in development does suggest: the test would notice a broken scrubber.
    expect(JSON.stringify(await dev.gql(body.query, body.variables))).toContain('Did you mean');
  });

  it('sends CSRF-safe requests only: GET and simple POSTs need the graphql-require-preflight header', async () => {
    const get = (headers: Record<string, string>) =>
      prod.gateway.yoga.fetch('http://gateway/graphql?query=%7B__typename%7D', { headers });
    expect((await get({})).status).toBe(403);
    expect((await get({ 'graphql-require-preflight': '1' })).status).toBe(200);
    const simplePost = await prod.gateway.yoga.fetch('http://gateway/graphql', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({
        query:
          'mutation { upsertContact(input: { email: "csrf@example.com" }) { contact { id } } }',
      }),
    });
    expect(simplePost.status).toBe(403);
    const read = await prod.gql('{ contact(email: "csrf@example.com") { id } }');
    expect(read.data).toEqual({ contact: null });
  });
});

/** A request that is not valid JSON, with things in it that must not come back in the answer. */
const BROKEN_JSON =
  '{"query": "{ __typename }", "variables": {"email": "ada.secret@example.com", "note": s3cr3t-excerpt';
const LEAKS =
  /ada\.secret|s3cr3t|position|SyntaxError|Unexpected token|Expected|originalError|stack/;

describe('request errors in production: a fixed message and code, nothing of what was sent', () => {
  let prod: TestGateway;
  beforeAll(async () => {
    prod = await createTestGateway({ NODE_ENV: 'production' });
  });
  afterAll(async () => {
    await prod.close();
  });

  const badRequest = (message: string) => ({
    errors: [{ message, extensions: { code: 'BAD_REQUEST' } }],
  });
  const csrf = { 'graphql-require-preflight': '1' };
  const variables = encodeURIComponent('{"email": "ada.secret@example.com", s3cr3t');

  const cases: Array<[string, string, RequestInit, string]> = [
    [
      'a JSON body that is not JSON',
      '',
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: BROKEN_JSON },
      'POST body sent invalid JSON.',
    ],
    [
      'GET variables that are not JSON',
      `?query=${encodeURIComponent('query($e: String) { contact(email: $e) { id } }')}&variables=${variables}`,
      { headers: csrf },
      "The request's variables or extensions are not valid JSON.",
    ],
    [
      'GET extensions that are not JSON',
      `?query=${encodeURIComponent('{ __typename }')}&extensions=${variables}`,
      { headers: csrf },
      "The request's variables or extensions are not valid JSON.",
    ],
    [
      'form-encoded variables that are not JSON',
      '',
      {
        method: 'POST',
        headers: { ...csrf, 'content-type': 'application/x-www-form-urlencoded' },
        body: `query=${encodeURIComponent('{ __typename }')}&variables=${variables}`,
      },
      "The request's variables or extensions are not valid JSON.",
    ],
  ];

  describe.each([
    ['application/json', 'application/json; charset=utf-8'],
    ['application/graphql-response+json', 'application/graphql-response+json; charset=utf-8'],
  ])('Accept: %s', (accept, contentType) => {
    it.each(cases)('%s → 400 BAD_REQUEST', async (_title, search, init, message) => {
      const res = await prod.gateway.yoga.fetch(`http://gateway/graphql${search}`, {
        ...init,
        headers: { ...(init.headers as Record<string, string>), accept },
      });
      const text = await res.text();
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toBe(contentType);
      expect(text).not.toMatch(LEAKS);
      expect(JSON.parse(text)).toEqual(badRequest(message));
    });
  });

  it('takes no multipart requests (no uploads here): 415 without detail', async () => {
    const form = new FormData();
    form.set('operations', '{"query": "{ __typename }", s3cr3t');
    form.set('map', '{}');
    const res = await prod.gateway.yoga.fetch('http://gateway/graphql', {
      method: 'POST',
      headers: csrf,
      body: form,
    });
    const text = await res.text();
    expect(res.status).toBe(415);
    expect(text).not.toMatch(LEAKS);
  });
});

describe('CORS', () => {
  const preflight = (t: TestGateway, origin: string) =>
    t.gateway.yoga.fetch('http://gateway/graphql', {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });

  it('sends no CORS headers at all without GATEWAY_CORS_ORIGINS, and never echoes an Origin', async () => {
    const t = await createTestGateway({ NODE_ENV: 'production' });
    try {
      const res = await post(t, { query: '{ __typename }' }, { origin: 'https://evil.example' });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(res.headers.get('access-control-allow-credentials')).toBeNull();
      const pre = await preflight(t, 'https://evil.example');
      expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await t.close();
    }
  });

  const LISTED = ['https://app.example.com', 'https://admin.example.com'];
  /** Origins that are not listed, whatever they look like. */
  const UNLISTED = [
    'https://evil.example',
    'null',
    'https://app.example.com.evil.com',
    'https://evilapp.example.com',
    'http://app.example.com',
    'https://app.example.com:8443',
    'https://app.example.com/',
    'HTTPS://APP.EXAMPLE.COM',
    'https://app.example.com, https://evil.example',
    'https://evil.example/https://app.example.com',
  ];

  describe.each([
    ['one origin', LISTED.slice(0, 1)],
    ['two origins', LISTED],
  ])('GATEWAY_CORS_ORIGINS with %s', (_title, origins) => {
    let t: TestGateway;
    beforeAll(async () => {
      t = await createTestGateway({
        NODE_ENV: 'production',
        GATEWAY_CORS_ORIGINS: origins.join(', '),
      });
    });
    afterAll(async () => {
      await t.close();
    });

    const varies = (res: Response) =>
      (res.headers.get('vary') ?? '')
        .split(',')
        .map((v) => v.trim().toLowerCase())
        .includes('origin');

    it.each(origins)(
      'allows %s: preflight and request get it back, with Vary: Origin',
      async (origin) => {
        const pre = await preflight(t, origin);
        expect(pre.status).toBe(204);
        expect(pre.headers.get('access-control-allow-origin')).toBe(origin);
        expect(pre.headers.get('access-control-allow-methods')).toBe('GET, POST');
        expect(pre.headers.get('access-control-allow-headers')).toContain('authorization');
        expect(pre.headers.get('access-control-allow-credentials')).toBeNull();
        expect(varies(pre)).toBe(true);
        const res = await post(t, { query: '{ __typename }' }, { origin });
        expect(res.status).toBe(200);
        expect(res.headers.get('access-control-allow-origin')).toBe(origin);
        expect(res.headers.get('access-control-expose-headers')).toBe('x-request-id, retry-after');
        expect(res.headers.get('access-control-allow-credentials')).toBeNull();
        expect(varies(res)).toBe(true);
      },
    );

    it.each(UNLISTED)('sends no CORS header to %s, preflight or request', async (origin) => {
      for (const res of [
        await preflight(t, origin),
        await post(t, { query: '{ __typename }' }, { origin }),
      ]) {
        for (const [name] of res.headers) {
          expect(name).not.toMatch(/^access-control-/);
        }
        // The answer depends on the Origin: a shared cache must not hand it to a listed one.
        expect(varies(res)).toBe(true);
      }
    });

    it('sends no CORS header without an Origin', async () => {
      const res = await post(t, { query: '{ __typename }' });
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(varies(res)).toBe(true);
    });
  });
});

describe('request ids', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await createTestGateway();
  });
  afterAll(async () => {
    await t.close();
  });

  it('generates one per request and echoes it in x-request-id', async () => {
    const a = await post(t, { query: '{ __typename }' });
    const b = await post(t, { query: '{ __typename }' });
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    expect(a.headers.get('x-request-id')).toMatch(uuid);
    expect(b.headers.get('x-request-id')).toMatch(uuid);
    expect(a.headers.get('x-request-id')).not.toBe(b.headers.get('x-request-id'));
  });

  it('keeps a sane incoming x-request-id and replaces anything else', async () => {
    const kept = await post(
      t,
      { query: '{ __typename }' },
      { 'x-request-id': 'edge-7f3a.1:retry-2' },
    );
    expect(kept.headers.get('x-request-id')).toBe('edge-7f3a.1:retry-2');
    for (const bad of ['a b', '<script>', 'x'.repeat(129), 'ada@example.com']) {
      const res = await post(t, { query: '{ __typename }' }, { 'x-request-id': bad });
      expect(res.headers.get('x-request-id')).not.toBe(bad);
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});

describe('unexpected errors in production', () => {
  it('are masked to a generic message with the request id; details go to the log under that id', async () => {
    const sandboxes = await startSandboxes(loadConfig({ NODE_ENV: 'production' }));
    const lines: string[] = [];
    const store = createMemoryIdentityStore();
    store.claim = () =>
      Promise.reject(
        new TypeError(
          'Cannot read properties of undefined (reading "vip@example.com") at db://app:s3cret@db',
        ),
      );
    const gateway = createGateway(sandboxes.config, {
      store,
      sandboxed: sandboxes.sandboxed,
      logger: createLogger('info', {
        write: (l: string) => lines.push(l),
      } as unknown as NodeJS.WritableStream),
    });
    try {
      const res = await gateway.yoga.fetch('http://gateway/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': 'req-masked-1' },
        body: JSON.stringify({
          query:
            'mutation { upsertContact(input: { email: "vip@example.com" }) { contact { id } } }',
        }),
      });
      expect(res.headers.get('x-request-id')).toBe('req-masked-1');
      const body = await res.text();
      expect(JSON.parse(body)).toEqual({
        data: null,
        errors: [
          {
            message: 'Unexpected error.',
            locations: [{ line: 1, column: 12 }],
            path: ['upsertContact'],
            extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: 'req-masked-1' },
          },
        ],
      });
      expect(body).not.toMatch(/TypeError|undefined|s3cret|stack|vip@/);
      const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      const detail = entries.find((e) => e['level'] === 50);
      expect(detail).toMatchObject({
        requestId: 'req-masked-1',
        msg: expect.stringContaining('TypeError: Cannot read properties of undefined'),
        err: { type: 'TypeError', stack: expect.stringContaining('at ') },
      });
      expect(lines.join('\n')).not.toMatch(/s3cret|vip@example\.com/);
      expect(entries.find((e) => e['msg'] === 'request')).toMatchObject({
        requestId: 'req-masked-1',
        status: 200,
      });
    } finally {
      await gateway.close();
      await sandboxes.close();
    }
  });
});
