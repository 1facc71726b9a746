import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FULL_KEY, READ_KEY, WRITE_KEY } from './keys.js';
import { type RawResponse, rawRequest } from './raw-http.js';
import { type ServedGateway, serveGateway } from './served.js';

/**
 * The fast lane (src/http-server/lane.ts) answers exactly as Yoga does. Two gateways with the same
 * configuration, one with the lane and one without, are sent the same requests over a real port
 * in the same order; every answer must be the same (status, headers, body — request ids, gateway
 * ids and times aside), and so must the `request` log lines and what the sandboxes stored. The
 * lane's counts show which requests it took: the plain JSON POSTs, and nothing an attacker varies
 * (path, encoding, media type, Origin, a second Authorization header) to get around a check.
 */
type Served = ServedGateway;
const serve = (env: Record<string, string>, fastLane: boolean) => serveGateway(env, { fastLane });

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const TIME = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g;

/** What must be equal: everything but ids, times and the headers Node adds per connection. */
function comparable(r: RawResponse) {
  const { date: _d, 'x-request-id': id, 'keep-alive': _k, ...headers } = r.headers;
  return {
    status: r.status,
    headers,
    hasRequestId: typeof id === 'string' && id.length > 0,
    body: r.body.replace(UUID, '<uuid>').replace(TIME, '<time>'),
  };
}

const JSON_HEADERS = [
  ['content-type', 'application/json'],
  ['accept', 'application/json'],
] as const;
const auth = (key: string) => ['authorization', `Bearer ${key}`] as const;

interface Case {
  name: string;
  /** Whether the lane is expected to answer it (else Yoga does). */
  lane: boolean;
  /** Read by the lane and handed to Yoga with its body (else never entered, or served). */
  handedBack?: true;
  method?: string;
  target?: string;
  headers: ReadonlyArray<readonly [string, string]>;
  body?: string;
}

const gql = (query: string, rest: Record<string, unknown> = {}) =>
  JSON.stringify({ query, ...rest });
const UPSERT = `mutation Up($i: ContactInput!) { upsertContact(input: $i, options: { providers: [NOTIFUSE] }) { contact { email firstName } outcomes { provider status } } }`;
const upsert = (email: string, extra: Record<string, unknown> = {}) =>
  gql(UPSERT, { variables: { i: { email, firstName: 'Ada', ...extra } }, operationName: 'Up' });

const CASES: Case[] = [
  // Served by the lane: the plain shape, whatever the GraphQL inside does.
  {
    name: 'upsert (created)',
    lane: true,
    headers: [...JSON_HEADERS, auth(FULL_KEY)],
    body: upsert('lane.a@example.com'),
  },
  {
    name: 'upsert again (updated)',
    lane: true,
    headers: [...JSON_HEADERS, auth(FULL_KEY)],
    body: upsert('lane.a@example.com'),
  },
  {
    name: 'graphql-response+json accept',
    lane: true,
    headers: [
      ['content-type', 'application/json'],
      ['accept', 'application/graphql-response+json'],
      auth(FULL_KEY),
    ],
    body: upsert('lane.b@example.com'),
  },
  {
    name: 'charset in the content type',
    lane: true,
    headers: [
      ['content-type', 'application/json; charset=utf-8'],
      ['accept', 'application/json'],
      auth(FULL_KEY),
    ],
    body: gql('{ contact(email: "lane.a@example.com") { email firstName } }'),
  },
  {
    name: 'read key reads',
    lane: true,
    headers: [...JSON_HEADERS, auth(READ_KEY)],
    body: gql('{ contact(email: "lane.a@example.com") { email } }'),
  },
  {
    name: 'read key writes (scope refused)',
    lane: true,
    headers: [...JSON_HEADERS, auth(READ_KEY)],
    body: upsert('lane.c@example.com'),
  },
  {
    name: 'write key reads (scope refused)',
    lane: true,
    headers: [...JSON_HEADERS, auth(WRITE_KEY)],
    body: gql('{ contact(email: "lane.a@example.com") { email } }'),
  },
  {
    name: 'wrong key',
    lane: true,
    headers: [...JSON_HEADERS, auth('test-wrong-key-0123456789abcdef')],
    body: upsert('lane.d@example.com'),
  },
  {
    name: 'lower-case bearer',
    lane: true,
    headers: [...JSON_HEADERS, ['authorization', `bearer ${FULL_KEY}`]],
    body: gql('{ __typename }'),
  },
  {
    name: 'syntax error',
    lane: true,
    headers: [...JSON_HEADERS, auth(FULL_KEY)],
    body: gql('{ contact(email: '),
  },
  {
    name: 'syntax error, graphql-response+json',
    lane: true,
    headers: [
      ['content-type', 'application/json'],
      ['accept', 'application/graphql-response+json'],
      auth(FULL_KEY),
    ],
    body: gql('{ contact(email: '),
  },
  {
    name: 'unknown field (no suggestion in production)',
    lane: true,
    headers: [...JSON_HEADERS, auth(FULL_KEY)],
    body: gql('{ contacts { emial } }'),
  },
  {
    name: 'introspection (off in production)',
    lane: true,
    headers: [...JSON_HEADERS, auth(FULL_KEY)],
    body: gql('{ __schema { types { name } } }'),
  },
  {
    name: 'invalid input (typed error)',
    lane: true,
    headers: [...JSON_HEADERS, auth(FULL_KEY)],
    body: upsert('not-an-email'),
  },
  {
    name: 'variable of the wrong type',
    lane: true,
    headers: [...JSON_HEADERS, auth(FULL_KEY)],
    body: gql(UPSERT, { variables: { i: 'x' } }),
  },
  {
    name: 'unknown operation name',
    lane: true,
    headers: [...JSON_HEADERS, auth(FULL_KEY)],
    body: gql(UPSERT, { operationName: 'Nope' }),
  },
  {
    name: 'too deep',
    lane: true,
    headers: [...JSON_HEADERS, auth(FULL_KEY)],
    body: gql(`{ ${'a { '.repeat(30)}b${' }'.repeat(30)} }`),
  },
  {
    name: 'too many aliases',
    lane: true,
    headers: [...JSON_HEADERS, auth(FULL_KEY)],
    body: gql(`{ ${Array.from({ length: 40 }, (_, i) => `a${i}: __typename`).join(' ')} }`),
  },
  {
    name: 'brace nesting beyond the limit',
    lane: true,
    headers: [...JSON_HEADERS, auth(FULL_KEY)],
    body: gql(`{ contact(email: "a@b.co") { email } } ${'{'.repeat(200)}`),
  },
  {
    name: 'subscription over plain JSON',
    lane: true,
    headers: [...JSON_HEADERS, auth(FULL_KEY)],
    body: gql('subscription { __typename }'),
  },
  {
    name: 'variables null, extensions {}',
    lane: true,
    headers: [...JSON_HEADERS, auth(FULL_KEY)],
    body: gql('{ __typename }', { variables: null, extensions: {} }),
  },
  // Read by the lane, handed back to Yoga before any check ran.
  {
    name: 'malformed JSON',
    lane: false,
    handedBack: true,
    headers: [...JSON_HEADERS, auth(FULL_KEY)],
    body: '{"query": "{ __typename }"',
  },
  {
    name: 'batch array',
    lane: false,
    handedBack: true,
    headers: [...JSON_HEADERS, auth(FULL_KEY)],
    body: `[${gql('{ __typename }')}]`,
  },
  {
    name: 'unknown parameter',
    lane: false,
    handedBack: true,
    headers: [...JSON_HEADERS, auth(FULL_KEY)],
    body: gql('{ __typename }', { query2: 1 }),
  },
  {
    name: 'query not a string',
    lane: false,
    handedBack: true,
    headers: [...JSON_HEADERS, auth(FULL_KEY)],
    body: JSON.stringify({ query: 1 }),
  },
  {
    name: 'variables an array',
    lane: false,
    handedBack: true,
    headers: [...JSON_HEADERS, auth(FULL_KEY)],
    body: gql('{ __typename }', { variables: [] }),
  },
  {
    name: 'empty query',
    lane: false,
    handedBack: true,
    headers: [...JSON_HEADERS, auth(FULL_KEY)],
    body: gql(''),
  },
  {
    name: 'malformed JSON, wrong key',
    lane: false,
    handedBack: true,
    headers: [...JSON_HEADERS, auth('test-wrong-key-0123456789abcdef')],
    body: '{',
  },
  {
    name: 'empty body',
    lane: false,
    handedBack: true,
    headers: [...JSON_HEADERS, auth(FULL_KEY)],
    body: '',
  },
  {
    name: 'JSON null',
    lane: false,
    handedBack: true,
    headers: [...JSON_HEADERS, auth(FULL_KEY)],
    body: 'null',
  },
  // Never entered: decided from the request line and headers.
  { name: 'no key', lane: false, headers: [...JSON_HEADERS], body: upsert('lane.e@example.com') },
  {
    name: 'two keys',
    lane: false,
    headers: [...JSON_HEADERS, auth(FULL_KEY), auth(READ_KEY)],
    body: upsert('lane.f@example.com'),
  },
  {
    name: 'query string',
    lane: false,
    target: '/graphql?x=1',
    headers: [...JSON_HEADERS, auth(FULL_KEY)],
    body: upsert('lane.g@example.com'),
  },
  {
    name: 'another path',
    lane: false,
    target: '/graphql/',
    headers: [...JSON_HEADERS, auth(FULL_KEY)],
    body: upsert('lane.h@example.com'),
  },
  {
    name: 'encoded path',
    lane: false,
    target: '/%67raphql',
    headers: [...JSON_HEADERS, auth(FULL_KEY)],
    body: upsert('lane.i@example.com'),
  },
  {
    name: 'GET',
    lane: false,
    method: 'GET',
    target: '/graphql?query=%7B__typename%7D',
    headers: [['accept', 'application/json'], auth(FULL_KEY)],
  },
  {
    name: 'text/plain body (CSRF)',
    lane: false,
    headers: [['content-type', 'text/plain'], ['accept', 'application/json'], auth(FULL_KEY)],
    body: upsert('lane.j@example.com'),
  },
  {
    name: 'no Accept',
    lane: false,
    headers: [['content-type', 'application/json'], auth(FULL_KEY)],
    body: upsert('lane.k@example.com'),
  },
  {
    name: 'Accept */*',
    lane: false,
    headers: [['content-type', 'application/json'], ['accept', '*/*'], auth(FULL_KEY)],
    body: upsert('lane.l@example.com'),
  },
  {
    name: 'Accept text/event-stream',
    lane: false,
    headers: [
      ['content-type', 'application/json'],
      ['accept', 'text/event-stream'],
      auth(FULL_KEY),
    ],
    body: gql('{ __typename }'),
  },
  {
    name: 'an Origin',
    lane: false,
    headers: [...JSON_HEADERS, ['origin', 'https://evil.example'], auth(FULL_KEY)],
    body: upsert('lane.m@example.com'),
  },
  {
    name: 'upper-case content type',
    lane: false,
    headers: [['content-type', 'APPLICATION/JSON'], ['accept', 'application/json'], auth(FULL_KEY)],
    body: gql('{ __typename }'),
  },
  {
    name: 'body over the limit',
    lane: false,
    headers: [...JSON_HEADERS, auth(FULL_KEY)],
    body: gql(`{ __typename } #${'x'.repeat(70_000)}`),
  },
];

describe('the fast lane answers exactly as Yoga does', () => {
  const env = { GATEWAY_MAX_BODY_BYTES: '65536', GATEWAY_MAX_ALIASES: '30' };
  let lane: Served;
  let yoga: Served;
  const answers = new Map<
    string,
    { lane: RawResponse; yoga: RawResponse; served: boolean; handedBack: boolean }
  >();

  beforeAll(async () => {
    [lane, yoga] = await Promise.all([serve(env, true), serve(env, false)]);
    expect(yoga.gateway.lane).toBeNull();
    for (const c of CASES) {
      const req = {
        method: c.method ?? 'POST',
        target: c.target ?? '/graphql',
        headers: c.headers,
        ...(c.body === undefined ? {} : { body: c.body }),
      };
      const before = lane.gateway.lane!.served;
      const handedBefore = lane.gateway.lane!.handedBack;
      const a = await rawRequest(lane.port, req);
      const served = lane.gateway.lane!.served === before + 1;
      const handedBack = lane.gateway.lane!.handedBack === handedBefore + 1;
      const b = await rawRequest(yoga.port, req);
      answers.set(c.name, { lane: a, yoga: b, served, handedBack });
    }
  }, 60_000);
  afterAll(async () => {
    await Promise.all([lane?.close(), yoga?.close()]);
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s', (name, c) => {
    const { lane: a, yoga: b, served, handedBack } = answers.get(name)!;
    expect(comparable(a)).toEqual(comparable(b));
    expect(served).toBe(c.lane);
    expect(handedBack).toBe(c.handedBack === true);
  });

  it("runs the operation itself (envelop's hooks in a plain loop), not through Yoga's handleParams", () => {
    expect(lane.gateway.lane!.ownOperation).toBe(true);
  });

  it('the lane really served the happy path: created then updated, stored at Notifuse, one request line each', () => {
    const created = JSON.parse(answers.get('upsert (created)')!.lane.body);
    const updated = JSON.parse(answers.get('upsert again (updated)')!.lane.body);
    expect(created.data.upsertContact.outcomes).toEqual([
      { provider: 'NOTIFUSE', status: 'CREATED' },
    ]);
    expect(updated.data.upsertContact.outcomes).toEqual([
      { provider: 'NOTIFUSE', status: 'UPDATED' },
    ]);
    const id = answers.get('upsert (created)')!.lane.headers['x-request-id'];
    const line = lane.lines.filter((l) => l['msg'] === 'request' && l['requestId'] === id);
    expect(line).toEqual([
      expect.objectContaining({
        method: 'POST',
        path: '/graphql',
        status: 200,
        keyName: 'partner',
        operationName: 'Up',
      }),
    ]);
  });

  it('logs the same request lines as Yoga (ids and durations aside)', () => {
    const strip = (lines: Array<Record<string, unknown>>) =>
      lines
        .filter((l) => l['msg'] === 'request')
        .map(({ time: _t, requestId: _r, durationMs: _d, pid: _p, hostname: _h, ...rest }) => rest);
    expect(strip(lane.lines)).toEqual(strip(yoga.lines));
    expect(strip(lane.lines)).toHaveLength(CASES.length);
  });
});

describe('the fast lane counts against the rate limit and keeps the Notifuse write', () => {
  it('the 4th request of a key within the minute is refused 429 on the lane, as on Yoga', async () => {
    const env = { GATEWAY_RATE_LIMIT_PER_MINUTE: '3' };
    const [lane, yoga] = await Promise.all([serve(env, true), serve(env, false)]);
    try {
      const statuses = async (s: Served) => {
        const out: RawResponse[] = [];
        for (let i = 0; i < 4; i += 1) {
          out.push(
            await rawRequest(s.port, {
              method: 'POST',
              target: '/graphql',
              headers: [...JSON_HEADERS, auth(WRITE_KEY)],
              body: upsert(`rate.${i}@example.com`),
            }),
          );
        }
        return out;
      };
      const a = await statuses(lane);
      const b = await statuses(yoga);
      expect(a.map((r) => r.status)).toEqual([200, 200, 200, 429]);
      expect(a.map(comparable)).toEqual(b.map(comparable));
      expect(lane.gateway.lane!.served).toBe(4);
      // The three accepted writes reached the Notifuse sandbox; the refused one did not.
      const stored = (s: Served) =>
        s.sandboxes.sandboxes.reduce((n, x) => n + x.sandbox.controls.requestCount(), 0);
      expect(stored(lane)).toBe(stored(yoga));
      expect(stored(lane)).toBeGreaterThanOrEqual(3);
    } finally {
      await Promise.all([lane.close(), yoga.close()]);
    }
  });
});

describe('a client that hangs up on the fast lane', () => {
  const UPSERT_PATH = { method: 'POST', path: '/api/contacts.upsert' };
  const notifuse = (s: Served) =>
    s.sandboxes.sandboxes.find((x) => x.provider === 'NOTIFUSE')!.sandbox;

  /** Sends an upsert, hangs up once Notifuse has it, and counts the calls Notifuse then received. */
  async function hangUp(s: Served, email: string): Promise<number> {
    const sandbox = notifuse(s);
    sandbox.controls.inject({ ...UPSERT_PATH, faults: [{ kind: 'delay', ms: 1_500 }] });
    const before = sandbox.controls.requestCount(UPSERT_PATH);
    const body = upsert(email);
    const socket = connect(s.port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write(
      `POST /graphql HTTP/1.1\r\nhost: 127.0.0.1:${s.port}\r\ncontent-type: application/json\r\n` +
        `accept: application/json\r\nauthorization: Bearer ${WRITE_KEY}\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    for (let i = 0; i < 300 && sandbox.controls.requestCount(UPSERT_PATH) === before; i += 1) {
      await sleep(10);
    }
    socket.destroy();
    // Past the delayed answer: a retry would have arrived by now.
    await sleep(1_800);
    return sandbox.controls.requestCount(UPSERT_PATH) - before;
  }

  const circuit = async (s: Served) => {
    const res = await rawRequest(s.port, {
      method: 'POST',
      target: '/graphql',
      headers: [...JSON_HEADERS, auth(FULL_KEY)],
      body: gql('{ providers { provider circuit { state consecutiveFailures } } }'),
    });
    const data = JSON.parse(res.body) as {
      data: { providers: Array<{ provider: string; circuit: unknown }> };
    };
    return data.data.providers.find((p) => p.provider === 'NOTIFUSE')?.circuit;
  };

  it('cancels the call as Yoga does: sent once, not retried, the breaker not blamed', async () => {
    // An attempt gives up after 600 ms (retryable) and Notifuse answers after 1.5 s: were the call
    // not cancelled with its request, it would time out, be sent again and count against the breaker.
    const env = { NOTIFUSE_TIMEOUT_MS: '600' };
    const [lane, yoga] = await Promise.all([serve(env, true), serve(env, false)]);
    try {
      const served = lane.gateway.lane!.served;
      expect(await hangUp(lane, 'gone.lane@example.com')).toBe(1);
      expect(lane.gateway.lane!.served).toBe(served + 1);
      expect(await hangUp(yoga, 'gone.yoga@example.com')).toBe(1);
      expect(await circuit(lane)).toEqual({ state: 'CLOSED', consecutiveFailures: 0 });
      expect(await circuit(yoga)).toEqual({ state: 'CLOSED', consecutiveFailures: 0 });
    } finally {
      await Promise.all([lane.close(), yoga.close()]);
    }
  }, 30_000);
});

describe('recording work on the fast lane', () => {
  const METRICS_TOKEN = 'metrics-token-0123456789abcdef0123';
  const requestLines = (s: Served) => s.lines.filter((l) => l['msg'] === 'request').length;
  const httpCount = async (s: Served) => {
    const res = await rawRequest(s.port, {
      method: 'GET',
      target: '/metrics',
      headers: [['authorization', `Bearer ${METRICS_TOKEN}`]],
    });
    const m =
      /^graphql_yoga_http_duration_count\{[^}]*operationType="mutation"[^}]*\} (\d+)$/m.exec(
        res.body,
      );
    return Number(m?.[1] ?? 0);
  };

  it('writes the request line and the metrics once the response is written, with what was measured before', async () => {
    const env = { GATEWAY_METRICS_TOKEN: METRICS_TOKEN };
    const [lane, yoga] = await Promise.all([serve(env, true), serve(env, false)]);
    try {
      for (const s of [lane, yoga]) {
        // How many request lines there were when Node's response to the upsert was ended.
        const atEnd: number[] = [];
        s.server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
          if (req.method !== 'POST') {
            return;
          }
          const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
          res.end = ((...args: unknown[]) => {
            atEnd.push(requestLines(s));
            return end(...args);
          }) as typeof res.end;
        });
        const counted = await httpCount(s);
        const lines = requestLines(s);
        const served = s.gateway.lane?.served ?? 0;
        const res = await rawRequest(s.port, {
          method: 'POST',
          target: '/graphql',
          headers: [...JSON_HEADERS, auth(WRITE_KEY)],
          body: upsert(`recorded.${s === lane ? 'lane' : 'yoga'}@example.com`),
        });
        expect(res.status).toBe(200);
        expect(requestLines(s)).toBe(lines + 1);
        const line = s.lines
          .filter((l) => l['msg'] === 'request' && l['method'] === 'POST')
          .at(-1)!;
        expect(line).toMatchObject({ status: 200, path: '/graphql', operationName: 'Up' });
        expect(line['durationMs']).toBeGreaterThan(0);
        expect(await httpCount(s)).toBe(counted + 1);
        expect(atEnd).toHaveLength(1);
        if (s === lane) {
          expect(s.gateway.lane?.served).toBe(served + 1);
          // The lane wrote the answer first; the line came right after, before the client read it.
          expect(atEnd.at(-1)).toBe(lines);
        } else {
          expect(atEnd.at(-1)).toBe(lines + 1);
        }
      }
    } finally {
      await Promise.all([lane.close(), yoga.close()]);
    }
  }, 30_000);
});
