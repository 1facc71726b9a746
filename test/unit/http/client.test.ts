import { getEventListeners } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_HTTP_OPTIONS } from '../../../src/config.js';
import { type CallStats, createHttpClient } from '../../../src/http/client.js';
import { UpstreamCancelledError, UpstreamError } from '../../../src/model/errors.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

let server: Server;
let origin: string;
const routes = new Map<string, Handler>();
const seen: Array<{
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const handler = routes.get(new URL(req.url!, 'http://x').pathname);
      if (handler) {
        handler(req, res, body);
      } else {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"nope"}');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  routes.set('/base/echo', (_req, res, body) => {
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ got: JSON.parse(body || 'null') }));
  });
  routes.set('/slow', () => {
    /* never answers */
  });
  routes.set('/reset', (req) => {
    req.socket.destroy();
  });
  routes.set('/malformed', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"operations": [');
  });
  routes.set('/big', (_req, res) => {
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ pad: 'x'.repeat(5000) }));
  });
  // Chunked (no Content-Length): the body can only be counted as it arrives.
  routes.set('/big-chunked', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"pad": "');
    res.end(`${'x'.repeat(5000)}"}`);
  });
  routes.set('/small-chunked', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"a": ');
    res.end('1}');
  });
  routes.set('/text', (_req, res) => {
    res.writeHead(500, { 'content-type': 'text/plain' }).end('Failed to get contacts');
  });
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const http = { ...DEFAULT_HTTP_OPTIONS, keepAliveTimeoutMs: 10 };

describe('createHttpClient', () => {
  it('sends JSON under the base path with auth headers, parses JSON, counts requests', async () => {
    const client = createHttpClient({
      provider: 'NOTIFUSE',
      baseUrl: `${origin}/base/`,
      http,
      headers: () => ({ authorization: 'Bearer secret-token' }),
    });
    const stats: CallStats = { upstreamRequests: 0 };
    const res = await client.request(
      {
        method: 'POST',
        path: '/echo',
        query: { a: 'x y', b: undefined },
        body: { hello: 'world' },
      },
      stats,
    );
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ got: { hello: 'world' } });
    expect(stats.upstreamRequests).toBe(1);
    const last = seen.at(-1)!;
    expect(last.url).toBe('/base/echo?a=x+y');
    expect(last.headers['authorization']).toBe('Bearer secret-token');
    expect(last.headers['content-type']).toBe('application/json');
    expect(client.baseUrl).toBe(`${origin}/base`);
    await client.close();
  });

  it('refuses a base URL that carries credentials', () => {
    expect(() =>
      createHttpClient({ provider: 'NOTIFUSE', baseUrl: 'http://user:pw@127.0.0.1:1/', http }),
    ).toThrow(/must not carry credentials/);
  });

  it('maps a headers timeout to a retryable UPSTREAM_TIMEOUT', async () => {
    const client = createHttpClient({
      provider: 'NOTIFUSE',
      baseUrl: origin,
      http: { ...http, headersTimeoutMs: 150 },
    });
    const err = await client.request({ method: 'GET', path: '/slow' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({
      code: 'UPSTREAM_TIMEOUT',
      retryable: true,
      httpStatus: null,
      provider: 'NOTIFUSE',
    });
    await client.close();
  });

  it('maps an overall deadline (AbortSignal.timeout) to UPSTREAM_TIMEOUT', async () => {
    const client = createHttpClient({ provider: 'NOTIFUSE', baseUrl: origin, http });
    const err = await client
      .request({ method: 'GET', path: '/slow', signal: AbortSignal.timeout(100) })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UPSTREAM_TIMEOUT', retryable: true });
    await client.close();
  });

  it("maps the caller's abort to a cancelled call and leaves no listener on the caller's signal", async () => {
    const client = createHttpClient({ provider: 'NOTIFUSE', baseUrl: origin, http });
    const caller = new AbortController();
    await client.request({ method: 'POST', path: '/base/echo', body: {}, signal: caller.signal });
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
    const pending = client
      .request({ method: 'GET', path: '/slow', signal: caller.signal })
      .catch((e: unknown) => e);
    setTimeout(() => caller.abort(), 50);
    const err = await pending;
    expect(err).toBeInstanceOf(UpstreamCancelledError);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
    await client.close();
  });

  it('maps a connection reset and a refused connection to retryable UPSTREAM_UNAVAILABLE', async () => {
    const client = createHttpClient({ provider: 'NOTIFUSE', baseUrl: origin, http });
    const reset = await client
      .request({ method: 'POST', path: '/reset', body: {} })
      .catch((e: unknown) => e);
    expect(reset).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', retryable: true });
    await client.close();

    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const refused = createHttpClient({
      provider: 'NOTIFUSE',
      baseUrl: `http://127.0.0.1:${port}`,
      http,
    });
    const err = await refused.request({ method: 'GET', path: '/' }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
      retryable: true,
      details: { cause: 'ECONNREFUSED' },
    });
    await refused.close();
  });

  it('flags a malformed JSON body instead of throwing a parse error', async () => {
    const client = createHttpClient({ provider: 'NOTIFUSE', baseUrl: origin, http });
    const res = await client.request({ method: 'GET', path: '/malformed' });
    expect(res).toMatchObject({ status: 200, malformed: true, json: undefined });
    const text = await client.request({ method: 'GET', path: '/text' });
    expect(text).toMatchObject({
      status: 500,
      malformed: false,
      json: undefined,
      text: 'Failed to get contacts',
    });
    await client.close();
  });

  it('bounds the response body', async () => {
    const client = createHttpClient({
      provider: 'NOTIFUSE',
      baseUrl: origin,
      http: { ...http, maxBodyBytes: 1000 },
    });
    const err = await client.request({ method: 'GET', path: '/big' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UPSTREAM_BAD_RESPONSE', retryable: false });
    const chunked = await client
      .request({ method: 'GET', path: '/big-chunked' })
      .catch((e: unknown) => e);
    expect(chunked).toMatchObject({ code: 'UPSTREAM_BAD_RESPONSE', retryable: false });
    // Within the bound, with and without Content-Length, and the client still works after both.
    expect(await client.request({ method: 'GET', path: '/small-chunked' })).toMatchObject({
      status: 200,
      json: { a: 1 },
    });
    expect(
      await client.request({ method: 'POST', path: '/base/echo', body: { b: 2 } }),
    ).toMatchObject({
      status: 200,
      json: { got: { b: 2 } },
    });
    await client.close();
  });

  it('never puts the credential into an error', async () => {
    const client = createHttpClient({
      provider: 'NOTIFUSE',
      baseUrl: origin,
      http: { ...http, headersTimeoutMs: 100 },
      headers: () => ({ authorization: 'Bearer top-secret-123' }),
    });
    const err = (await client
      .request({ method: 'GET', path: '/slow' })
      .catch((e: unknown) => e)) as UpstreamError;
    expect(JSON.stringify({ ...err, message: err.message, details: err.details })).not.toContain(
      'top-secret-123',
    );
    await client.close();
  });
});
