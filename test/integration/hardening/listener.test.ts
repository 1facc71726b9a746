import type { Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { createHttpServer } from '../../../src/http-server/server-options.js';
import { createTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { FULL_KEY, KEYS_ENV } from './keys.js';

/**
 * #13 item 7: a client with a valid key sending its body a byte at a time used to hold a socket
 * for 300 s. The listener now answers 408 and closes the connection at GATEWAY_REQUEST_TIMEOUT_MS
 * (headers at GATEWAY_HEADERS_TIMEOUT_MS), and connections beyond GATEWAY_MAX_CONNECTIONS are
 * closed as they are accepted. A real port, the gateway's own listener and server factory.
 */
const ENV = {
  ...KEYS_ENV,
  GATEWAY_REQUEST_TIMEOUT_MS: '1000',
  GATEWAY_HEADERS_TIMEOUT_MS: '500',
  GATEWAY_MAX_CONNECTIONS: '3',
};

let t: TestGateway;
const servers: Server[] = [];
const sockets: Socket[] = [];

async function listen(env: Record<string, string>): Promise<number> {
  const server = createHttpServer(t.gateway.listener, loadConfig(env).server);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

/** A socket on `port`; resolves once connected. */
function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    sockets.push(socket);
    socket.once('error', reject);
  });
}

/** Everything `socket` receives until the server closes it (a reset counts as closed). */
function untilClosed(socket: Socket): Promise<string> {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((resolve) => {
    socket.on('error', () => {});
    socket.once('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
  });
}

beforeAll(async () => {
  t = await createTestGateway(ENV, { only: ['NOTIFUSE'] });
}, 60_000);

afterAll(async () => {
  for (const s of sockets) {
    s.destroy();
  }
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  await t?.close();
});

describe('listener bounds (GATEWAY_REQUEST_TIMEOUT_MS=1000, GATEWAY_HEADERS_TIMEOUT_MS=500)', () => {
  it('a slow upload with a valid key is answered 408 and closed, long before its body would end', async () => {
    const port = await listen(ENV);
    const socket = await open(port);
    const closed = untilClosed(socket);
    const body = JSON.stringify({ query: `{ contact(email: "${'a'.repeat(900)}@x.io") { id } }` });
    socket.write(
      [
        'POST /graphql HTTP/1.1',
        `host: 127.0.0.1:${port}`,
        `authorization: Bearer ${FULL_KEY}`,
        'content-type: application/json',
        `content-length: ${Buffer.byteLength(body)}`,
        '',
        '',
      ].join('\r\n'),
    );
    // One byte every 100 ms: the whole body would take about 95 s.
    let sent = 0;
    const drip = setInterval(() => {
      if (!socket.destroyed && sent < body.length) {
        socket.write(body[sent]!);
        sent += 1;
      }
    }, 100);
    const started = performance.now();
    const answer = await closed;
    clearInterval(drip);
    console.info(
      `slow body: 408 after ${Math.round(performance.now() - started)} ms (bound 1000 ms)`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(sent).toBeLessThan(body.length);
  });

  it('headers sent too slowly are answered 408 and closed', async () => {
    const port = await listen(ENV);
    const socket = await open(port);
    const closed = untilClosed(socket);
    socket.write(`POST /graphql HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nx-slow: `);
    expect(await closed).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('connections beyond GATEWAY_MAX_CONNECTIONS=3 are closed unanswered; one is accepted again when one closes', async () => {
    // Default request timeouts here, so that the three held connections stay open.
    const server = { ...KEYS_ENV, GATEWAY_MAX_CONNECTIONS: '3' };
    const port = await listen(server);
    const held = await Promise.all([open(port), open(port), open(port)]);
    const count = () =>
      new Promise<number>((resolve) => servers.at(-1)!.getConnections((_err, n) => resolve(n)));
    while ((await count()) < 3) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const health = `GET /health HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nconnection: close\r\n\r\n`;

    const fourth = await open(port).catch(() => null);
    if (fourth) {
      const closed = untilClosed(fourth);
      fourth.write(health, () => {});
      expect(await closed).toBe('');
    }

    held[0]!.destroy();
    while ((await count()) > 2) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const fifth = await open(port);
    const answered = untilClosed(fifth);
    fifth.write(health);
    expect(await answered).toMatch(/^HTTP\/1\.1 200 /);
  });
});
