import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FULL_KEY, READ_KEY, upstreamRequests } from './keys.js';
import { type RawResponse, rawRequest, withQuery } from './raw-http.js';
import { type ServedGateway, serveGateway } from './served.js';

/**
 * Only the exact path `/graphql` serves GraphQL, and every request that can reach GraphQL
 * execution passes the key check, the rate limit and the request log, whatever its path. Requests
 * go over a real port byte for byte (`rawRequest`), since `fetch` would normalise `/./graphql` or
 * `//graphql` before sending.
 */
const SEED_EMAIL = 'seed.paths@example.com';
const WRONG_KEY = 'test-wrong-key-0123456789abcdef';
const READ_SEED = `{ contact(email: "${SEED_EMAIL}") { email } }`;
const write = (email: string) =>
  `mutation { upsertContact(input: { email: "${email}" }, options: { providers: [NOTIFUSE] }) { contact { email } } }`;

/**
 * What a request-target is: the GraphQL endpoint, a path nothing serves (404), or one that is
 * refused as malformed (400, by Node's parser or because no URL can be built from it).
 */
type Expect = 'graphql' | 'not-found' | 'bad-request';

const PATHS: Array<[string, Expect]> = [
  ['/graphql', 'graphql'],
  ['/graphql?x=1', 'graphql'],
  ['/graphql?x=/health', 'graphql'],
  ['/graphql#fragment', 'graphql'],
  ['/graphql/', 'not-found'],
  ['/foo/graphql', 'not-found'],
  ['//graphql', 'not-found'],
  ['/x?y=/graphql', 'not-found'],
  ['/%67raphql', 'not-found'],
  ['/graphql%2F', 'not-found'],
  ['/graphql%00', 'not-found'],
  ['/graphql%20', 'not-found'],
  ['/GraphQL', 'not-found'],
  ['/GRAPHQL', 'not-found'],
  ['/graphql/.', 'not-found'],
  ['/./graphql', 'not-found'],
  ['/foo/../graphql', 'not-found'],
  ['/graphql;x', 'not-found'],
  ['/graphql\\', 'not-found'],
  ['/\\graphql', 'not-found'],
  ['/graphql/health', 'not-found'],
  ['http://127.0.0.1/graphql', 'bad-request'],
  ['\\graphql', 'bad-request'],
  ['/graphql\u0000', 'bad-request'],
  ['/graph ql', 'bad-request'],
  ['*', 'bad-request'],
];

const CALLERS: Array<[string, Array<[string, string]>]> = [
  ['no key', []],
  ['a wrong key', [['authorization', `Bearer ${WRONG_KEY}`]]],
  ['a valid key', [['authorization', `Bearer ${FULL_KEY}`]]],
];

const NOT_FOUND = {
  errors: [
    {
      message: 'Not found: this gateway serves GraphQL at /graphql only.',
      extensions: { code: 'NOT_FOUND' },
    },
  ],
};

/** What a stack trace in a response body looks like. */
const STACK = /\n\s+at |node_modules|TypeError/;

const json = (res: RawResponse) => JSON.parse(res.body) as Record<string, unknown>;

describe('path variants × callers × methods (production, keys set, real port)', () => {
  let g: ServedGateway;
  const written: string[] = [];
  beforeAll(async () => {
    g = await serveGateway({});
    const seeded = await g.gateway.yoga.fetch('http://gateway/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${FULL_KEY}` },
      body: JSON.stringify({ query: write(SEED_EMAIL) }),
    });
    expect(seeded.status).toBe(200);
  });
  afterAll(async () => {
    await g.close();
  });

  const cases = PATHS.flatMap(([path, expected]) =>
    (['POST', 'GET'] as const).flatMap((method) =>
      CALLERS.map(([who, headers]) => ({ path, expected, method, who, headers })),
    ),
  );

  it.each(cases.map((c, i) => ({ ...c, i })))(
    '$method $path with $who',
    async ({ path, expected, method, who, headers, i }) => {
      const requestId = `walk-${i}`;
      const email = `walk-${i}@example.com`;
      const before = upstreamRequests(g);
      const res = await rawRequest(g.port, {
        method,
        target: method === 'GET' ? withQuery(path, `query=${encodeURIComponent(READ_SEED)}`) : path,
        headers: [
          ...headers,
          ['x-request-id', requestId],
          ['accept', 'application/json'],
          ...(method === 'POST'
            ? ([['content-type', 'application/json']] as const)
            : ([['graphql-require-preflight', '1']] as const)),
        ],
        ...(method === 'POST' ? { body: JSON.stringify({ query: write(email) }) } : {}),
      });
      const executes = expected === 'graphql' && who === 'a valid key';
      if (executes) {
        expect(res.status).toBe(200);
        expect(json(res)).toEqual({
          data:
            method === 'POST'
              ? { upsertContact: { contact: { email } } }
              : { contact: { email: SEED_EMAIL } },
        });
        if (method === 'POST') {
          written.push(email);
        }
      } else {
        expect(res.body).not.toContain(SEED_EMAIL);
        expect(res.body).not.toContain('"data"');
        expect(upstreamRequests(g)).toBe(before);
        if (expected === 'graphql') {
          expect(res.status).toBe(401);
          expect(json(res)).toMatchObject({
            errors: [{ extensions: { code: 'UNAUTHENTICATED' } }],
          });
        } else if (expected === 'not-found') {
          expect(res.status).toBe(404);
          expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
          expect(json(res)).toEqual(NOT_FOUND);
        } else {
          expect(res.status).toBe(400);
          expect(res.body).not.toMatch(STACK);
        }
      }
      if (expected !== 'bad-request') {
        // Every answer the gateway gives is logged once, with its status and the caller's key name.
        expect(g.logged(requestId)).toEqual([
          expect.objectContaining({
            status: res.status,
            keyName: executes ? 'partner' : null,
          }),
        ]);
      }
    },
  );

  it.each([
    ['a Host with a space', '/graphql', 'a b'],
    ['a Host with a port out of range', '/graphql', 'h:99999'],
    ['a Host "["', '/graphql', '['],
    ['the asterisk form', '*', undefined],
    ['the absolute form', 'http://127.0.0.1/graphql', undefined],
  ])('%s: 400 with a JSON body, never a 500 with a stack trace', async (_title, target, host) => {
    for (const method of ['GET', 'POST', 'OPTIONS']) {
      const res = await rawRequest(g.port, {
        method,
        target,
        ...(host === undefined ? {} : { host }),
        headers: [['authorization', `Bearer ${FULL_KEY}`]],
      });
      expect(res.status).toBe(400);
      expect(json(res)).toEqual({
        errors: [
          {
            message: 'Bad request: no URL can be built from this request-target and Host header.',
            extensions: { code: 'BAD_REQUEST' },
          },
        ],
      });
    }
  });

  it.each([
    ['x/graphql?', '/anything'],
    ['x/foo?', '/graphql'],
    ['x#', '/graphql'],
  ])('a Host header (%s) cannot move the path: %s → 404', async (host, target) => {
    const before = upstreamRequests(g);
    const res = await rawRequest(g.port, {
      method: 'POST',
      target,
      host,
      headers: [
        ['authorization', `Bearer ${FULL_KEY}`],
        ['content-type', 'application/json'],
      ],
      body: JSON.stringify({ query: write('host-moved@example.com') }),
    });
    expect(res.status).toBe(404);
    expect(json(res)).toEqual(NOT_FOUND);
    expect(upstreamRequests(g)).toBe(before);
  });

  it('refuses two Authorization headers, whichever comes first', async () => {
    for (const keys of [
      [FULL_KEY, WRONG_KEY],
      [WRONG_KEY, FULL_KEY],
      [FULL_KEY, FULL_KEY],
    ]) {
      const res = await rawRequest(g.port, {
        method: 'POST',
        target: '/graphql',
        headers: [
          ...keys.map((k) => ['authorization', `Bearer ${k}`] as const),
          ['content-type', 'application/json'],
        ],
        body: JSON.stringify({ query: READ_SEED }),
      });
      expect(res.status).toBe(401);
      expect(json(res)).toEqual({
        errors: [
          {
            message: 'Send one Authorization header, not several.',
            extensions: { code: 'UNAUTHENTICATED' },
          },
        ],
      });
    }
  });

  it('stored exactly the contacts written with a valid key on the exact path', async () => {
    const emails = cases.flatMap((c, i) => (c.method === 'POST' ? [`walk-${i}@example.com`] : []));
    const res = await g.gateway.yoga.fetch('http://gateway/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${FULL_KEY}` },
      body: JSON.stringify({
        query: 'query($e: [String!]) { contacts(emails: $e) { email } }',
        variables: { e: emails },
      }),
    });
    const body = (await res.json()) as { data: { contacts: Array<{ email: string } | null> } };
    const found = body.data.contacts.flatMap((c) => (c ? [c.email] : []));
    expect(found.sort()).toEqual([...written].sort());
    expect(written).toHaveLength(PATHS.filter(([, e]) => e === 'graphql').length);
  });
});

describe('the rest of the edge on other paths (GraphiQL on, CORS, a small rate limit)', () => {
  let g: ServedGateway;
  beforeAll(async () => {
    g = await serveGateway({
      GATEWAY_GRAPHIQL: '1',
      GATEWAY_CORS_ORIGINS: 'https://app.example.com',
      GATEWAY_RATE_LIMIT_PER_MINUTE: '4',
    });
  });
  afterAll(async () => {
    await g.close();
  });

  const send = (target: string, headers: Array<[string, string]> = [], method = 'POST') =>
    rawRequest(g.port, {
      method,
      target,
      headers: [...headers, ['content-type', 'application/json']],
      ...(method === 'POST' ? { body: JSON.stringify({ query: '{ __typename }' }) } : {}),
    });

  it('/health answers on its exact path only, without a key and without a log line', async () => {
    for (const target of ['/health', '/health?probe=1']) {
      const res = await send(target, [['x-request-id', `health-${target}`]], 'GET');
      expect(res.status).toBe(200);
      expect(g.logged(`health-${target}`)).toEqual([]);
    }
    for (const target of ['/foo/health', '/x?y=/health', '/health/', '//health', '/./health']) {
      const res = await send(target, [], 'GET');
      expect({ target, status: res.status }).toEqual({ target, status: 404 });
      expect(json(res)).toEqual(NOT_FOUND);
    }
  });

  it('GraphiQL is served on /graphql only', async () => {
    const page = (target: string) => send(target, [['accept', 'text/html']], 'GET');
    const exact = await page('/graphql');
    expect(exact.status).toBe(200);
    expect(exact.body).toContain('GraphiQL');
    for (const target of ['/foo/graphql', '/graphql/', '/x?y=/graphql']) {
      const res = await page(target);
      expect({ target, status: res.status }).toEqual({ target, status: 404 });
      expect(res.body).not.toContain('GraphiQL');
    }
  });

  it('a CORS preflight is answered on /graphql only', async () => {
    const preflight = (target: string) =>
      send(
        target,
        [
          ['origin', 'https://app.example.com'],
          ['access-control-request-method', 'POST'],
        ],
        'OPTIONS',
      );
    const exact = await preflight('/graphql');
    expect(exact.status).toBe(204);
    expect(exact.headers['access-control-allow-origin']).toBe('https://app.example.com');
    for (const target of ['/foo/graphql', '/graphql/', '//graphql']) {
      expect((await preflight(target)).status).toBe(404);
    }
  });

  it('the exact path is rate limited whatever its query string; other paths stay 404 and cost nothing', async () => {
    const key: [string, string] = ['authorization', `Bearer ${READ_KEY}`];
    const statuses: Array<[string, number]> = [];
    for (const target of [
      '/graphql',
      '/foo/graphql',
      '/graphql?a=1',
      '/graphql/',
      '/graphql?b=2#f',
      '//graphql',
      '/graphql?c=3',
      '/graphql?d=4',
      '/x?y=/graphql',
    ]) {
      const res = await send(target, [key, ['x-request-id', `rl-${statuses.length}`]]);
      statuses.push([target, res.status]);
    }
    expect(statuses).toEqual([
      ['/graphql', 200],
      ['/foo/graphql', 404],
      ['/graphql?a=1', 200],
      ['/graphql/', 404],
      ['/graphql?b=2#f', 200],
      ['//graphql', 404],
      ['/graphql?c=3', 200],
      ['/graphql?d=4', 429],
      ['/x?y=/graphql', 404],
    ]);
    statuses.forEach(([, status], i) => {
      expect(g.logged(`rl-${i}`)).toEqual([
        expect.objectContaining({ status, keyName: status === 404 ? null : 'reader' }),
      ]);
    });
  });
});
