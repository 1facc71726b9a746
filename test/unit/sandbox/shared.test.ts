import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { StartedSandbox } from '../../../src/sandbox/shared/index.js';
import {
  createRouter,
  routerHandler,
  startSandboxServer,
} from '../../../src/sandbox/shared/index.js';

let sandbox: StartedSandbox;

beforeAll(async () => {
  const router = createRouter()
    .on('POST', '/echo', (req) => ({
      status: 200,
      body: { method: req.method, query: req.query, body: req.body ?? null },
    }))
    .on('GET', '/items/:id', (_req, params) => ({ status: 200, body: { id: params['id'] } }))
    .on(['GET', 'HEAD'], '/text', () => ({ status: 200, text: 'plain' }))
    .on('GET', '/boom', () => {
      throw new Error('handler exploded');
    });
  sandbox = await startSandboxServer({
    name: 'test',
    handler: routerHandler(router),
    maxBodyBytes: 64,
  });
});

afterAll(async () => {
  await sandbox.close();
});

beforeEach(() => {
  sandbox.controls.reset();
});

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - start };
}

function getItem(id: string): Promise<Response> {
  return fetch(`${sandbox.url}/items/${id}`);
}

describe('startSandboxServer', () => {
  it('listens on 127.0.0.1 with an ephemeral port', () => {
    expect(sandbox.name).toBe('test');
    expect(sandbox.port).toBeGreaterThan(0);
    expect(sandbox.url).toBe(`http://127.0.0.1:${sandbox.port}`);
  });

  it('records each request with method, path, query, raw headers and parsed body', async () => {
    const res = await fetch(`${sandbox.url}/echo?a=1&a=2&b=x`, {
      method: 'POST',
      headers: { Authorization: 'Bearer Secret-Token', 'Content-Type': 'application/json' },
      body: JSON.stringify({ hello: 'world' }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      method: 'POST',
      query: { a: ['1', '2'], b: 'x' },
      body: { hello: 'world' },
    });

    const [recorded] = sandbox.controls.requests;
    expect(sandbox.controls.requests).toHaveLength(1);
    expect(recorded).toMatchObject({
      method: 'POST',
      path: '/echo',
      query: { a: ['1', '2'], b: 'x' },
      rawBody: '{"hello":"world"}',
      body: { hello: 'world' },
    });
    expect(recorded?.headers['authorization']).toBe('Bearer Secret-Token');
    expect(recorded?.headers['content-type']).toBe('application/json');
    expect(recorded?.at).toBeGreaterThan(Date.now() - 5_000);
  });

  it('keeps a non-JSON body raw and leaves `body` undefined', async () => {
    await fetch(`${sandbox.url}/echo`, { method: 'POST', body: 'not json' });
    const [recorded] = sandbox.controls.requests;
    expect(recorded?.rawBody).toBe('not json');
    expect(recorded?.body).toBeUndefined();
  });

  it('counts requests by method and path', async () => {
    await getItem('1');
    await getItem('2');
    await fetch(`${sandbox.url}/echo`, { method: 'POST', body: '{}' });
    expect(sandbox.controls.requestCount()).toBe(3);
    expect(sandbox.controls.requestCount({ method: 'get' })).toBe(2);
    expect(sandbox.controls.requestCount({ path: '/items/2' })).toBe(1);
    expect(sandbox.controls.requestCount({ method: 'POST', path: '/items/2' })).toBe(0);
    sandbox.controls.clearRequests();
    expect(sandbox.controls.requestCount()).toBe(0);
  });

  it('answers 500 with a JSON error when the handler throws', async () => {
    const res = await fetch(`${sandbox.url}/boom`);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: 'sandbox test failed: handler exploded' });
  });

  it('refuses bodies over maxBodyBytes with 413 without calling the handler', async () => {
    const res = await fetch(`${sandbox.url}/echo`, { method: 'POST', body: 'x'.repeat(65) });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: 'request body exceeds 64 bytes' });
    expect(sandbox.controls.requestCount({ path: '/echo' })).toBe(1);
  });

  it('close() returns promptly even with an idle keep-alive connection', async () => {
    const other = await startSandboxServer({
      name: 'other',
      handler: () => ({ status: 200, body: { ok: true } }),
    });
    const res = await fetch(other.url, { headers: { connection: 'keep-alive' } });
    expect(await res.json()).toEqual({ ok: true });
    const { ms } = await timed(() => other.close());
    expect(ms).toBeLessThan(1_000);
    await expect(fetch(other.url)).rejects.toThrow();
  });

  it('close() does not wait for requests parked in latency', async () => {
    const other = await startSandboxServer({
      name: 'other',
      handler: () => ({ status: 200, body: { ok: true } }),
    });
    other.controls.setLatency(5_000);
    const pending = fetch(other.url).then(
      () => 'answered',
      () => 'failed',
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    const { ms } = await timed(() => other.close());
    expect(ms).toBeLessThan(1_000);
    expect(await pending).toBe('failed');
  });
});

describe('createRouter', () => {
  it('routes by method and path and decodes :params', async () => {
    const res = await getItem('a%20b');
    expect(await res.json()).toEqual({ id: 'a b' });
    const text = await fetch(`${sandbox.url}/text`);
    expect(text.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await text.text()).toBe('plain');
  });

  it('answers 405 with Allow for a known path and 404 for an unknown one', async () => {
    const wrongMethod = await fetch(`${sandbox.url}/text`, { method: 'DELETE' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET, HEAD');
    expect(await wrongMethod.json()).toEqual({ error: 'method not allowed' });

    const unknown = await fetch(`${sandbox.url}/items`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: 'not found' });
  });

  it('reports the matched pattern so a sandbox can word its own 404/405', () => {
    const router = createRouter<string>().on('POST', '/a/:id', 'create');
    expect(router.match('post', '/a/7')).toEqual({
      kind: 'found',
      handler: 'create',
      params: { id: '7' },
      pattern: '/a/:id',
    });
    expect(router.match('GET', '/a/7')).toEqual({
      kind: 'method-not-allowed',
      allow: ['POST'],
      pattern: '/a/:id',
    });
    expect(router.match('POST', '/a/')).toEqual({ kind: 'not-found' });
    expect(router.match('POST', '/a/7/b')).toEqual({ kind: 'not-found' });
  });
});

describe('latency', () => {
  it('adds a fixed latency to every request', async () => {
    sandbox.controls.setLatency(120);
    const { value, ms } = await timed(() => getItem('1'));
    expect(value.status).toBe(200);
    expect(ms).toBeGreaterThanOrEqual(110);
  });

  it('adds a uniform random latency within [min, max]', async () => {
    sandbox.controls.setLatency({ min: 60, max: 90 });
    const { ms } = await timed(() => getItem('1'));
    expect(ms).toBeGreaterThanOrEqual(55);
    expect(ms).toBeLessThan(1_000);
  });

  it('serves 32 concurrent requests in latency without a MaxListenersExceededWarning', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      sandbox.controls.setLatency(50);
      const statuses = await Promise.all(
        Array.from({ length: 32 }, (_, i) => getItem(String(i)).then((r) => r.status)),
      );
      expect(statuses).toEqual(Array(32).fill(200));
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('rejects a negative or inverted latency', () => {
    expect(() => sandbox.controls.setLatency(-1)).toThrow(RangeError);
    expect(() => sandbox.controls.setLatency({ min: 10, max: 5 })).toThrow(RangeError);
  });
});

describe('faults', () => {
  it('consumes a status sequence in order, then handles normally', async () => {
    sandbox.controls.inject({
      method: 'get',
      path: '/items/1',
      faults: [
        { kind: 'status', status: 503 },
        { kind: 'pass' },
        { kind: 'status', status: 429, headers: { 'Retry-After': '2' }, body: 'slow down' },
      ],
    });

    const first = await getItem('1');
    expect(first.status).toBe(503);
    expect(await first.json()).toEqual({ error: 'injected fault' });

    // Another path does not consume the rule.
    expect((await getItem('2')).status).toBe(200);

    const second = await getItem('1');
    expect(second.status).toBe(200);
    expect(await second.json()).toEqual({ id: '1' });

    const third = await getItem('1');
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toBe('2');
    expect(third.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await third.text()).toBe('slow down');

    const fourth = await getItem('1');
    expect(fourth.status).toBe(200);
    // Faulted requests are recorded too.
    expect(sandbox.controls.requestCount({ path: '/items/1' })).toBe(4);
  });

  it('sends a JSON fault body as given', async () => {
    sandbox.controls.inject({ faults: [{ kind: 'status', status: 502, body: { message: 'x' } }] });
    const res = await getItem('1');
    expect(res.status).toBe(502);
    expect(await res.json()).toEqual({ message: 'x' });
  });

  it('resets the connection: the client sees a socket error, then the next call works', async () => {
    sandbox.controls.inject({ path: '/items/1', faults: [{ kind: 'reset' }] });
    const error = await getItem('1').then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(TypeError);
    expect(String((error as TypeError).cause)).toMatch(/ECONNRESET|other side closed|socket/i);
    expect(sandbox.controls.requestCount({ path: '/items/1' })).toBe(1);
    expect((await getItem('1')).status).toBe(200);
  });

  it('answers a malformed JSON body that fails to parse', async () => {
    sandbox.controls.inject({
      faults: [{ kind: 'malformed' }, { kind: 'malformed', status: 502 }],
    });
    const first = await getItem('1');
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('application/json');
    await expect(first.json()).rejects.toThrow(SyntaxError);

    const second = await getItem('1');
    expect(second.status).toBe(502);
    await expect(second.json()).rejects.toThrow(SyntaxError);
  });

  it('delays one request, then handles it normally', async () => {
    sandbox.controls.inject({ faults: [{ kind: 'delay', ms: 200 }] });
    const { value, ms } = await timed(() => getItem('1'));
    expect(ms).toBeGreaterThanOrEqual(190);
    expect(await value.json()).toEqual({ id: '1' });
    const { ms: after } = await timed(() => getItem('1'));
    expect(after).toBeLessThan(190);
  });

  it('matches rules by method', async () => {
    sandbox.controls.inject({ method: 'POST', faults: [{ kind: 'status', status: 500 }] });
    expect((await getItem('1')).status).toBe(200);
    expect((await fetch(`${sandbox.url}/echo`, { method: 'POST', body: '{}' })).status).toBe(500);
  });

  it('clearFaults and reset drop pending faults', async () => {
    sandbox.controls.inject({ faults: [{ kind: 'status', status: 500 }] });
    sandbox.controls.clearFaults();
    expect((await getItem('1')).status).toBe(200);

    sandbox.controls.inject({ faults: [{ kind: 'status', status: 500 }] });
    sandbox.controls.setLatency(500);
    sandbox.controls.reset();
    const { value, ms } = await timed(() => getItem('1'));
    expect(value.status).toBe(200);
    expect(ms).toBeLessThan(400);
    expect(sandbox.controls.requestCount()).toBe(1);
  });

  it('rejects an invalid rule', () => {
    expect(() => sandbox.controls.inject({ faults: [] })).toThrow(/invalid fault rule/);
    expect(() => sandbox.controls.inject({ faults: [{ kind: 'status', status: 42 }] })).toThrow(
      /invalid fault rule/,
    );
  });
});

describe('/__sandbox/ control endpoints', () => {
  const control = (path: string, body?: unknown): Promise<Response> =>
    fetch(`${sandbox.url}/__sandbox/${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  it('injects faults over HTTP; control calls are never faulted or recorded', async () => {
    const injected = await control('faults', {
      faults: [{ kind: 'status', status: 503, body: { error: 'down' } }],
    });
    expect(injected.status).toBe(200);

    // A rule without method/path matches every provider request, but not control calls.
    const log = await control('requests');
    expect(log.status).toBe(200);
    expect(await log.json()).toEqual([]);

    const res = await getItem('1');
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: 'down' });

    const after = await control('requests');
    const requests = (await after.json()) as { method: string; path: string }[];
    expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /items/1']);
  });

  it('sets latency over HTTP and resets everything', async () => {
    expect((await control('latency', { ms: 120 })).status).toBe(200);
    const slow = await timed(() => getItem('1'));
    expect(slow.ms).toBeGreaterThanOrEqual(110);

    expect((await control('latency', { min: 0, max: 0 })).status).toBe(200);
    expect((await control('faults', { faults: [{ kind: 'reset' }] })).status).toBe(200);
    expect((await control('reset', {})).status).toBe(200);
    expect(sandbox.controls.requestCount()).toBe(0);
    expect((await getItem('1')).status).toBe(200);
  });

  it('answers 400 for invalid bodies, 404 and 405 for unknown endpoints', async () => {
    const badRule = await control('faults', { faults: [{ kind: 'explode' }] });
    expect(badRule.status).toBe(400);
    expect(((await badRule.json()) as { error: string }).error).toMatch(/^invalid fault rule/);

    const badLatency = await control('latency', { ms: -5 });
    expect(badLatency.status).toBe(400);

    const unknown = await control('nope');
    expect(unknown.status).toBe(404);

    const wrongMethod = await control('reset');
    expect(wrongMethod.status).toBe(405);
    expect(sandbox.controls.requestCount()).toBe(0);
  });
});
