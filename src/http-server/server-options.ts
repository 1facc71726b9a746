import { createServer, type RequestListener, type Server } from 'node:http';
import { z } from 'zod';
import { intVar, readEnvSection } from '../env-section.js';

/**
 * How the listening socket treats its clients, and how the process stops and reports readiness
 * (`GATEWAY_*_TIMEOUT_MS`, `GATEWAY_MAX_CONNECTIONS`). Node's own defaults let one client hold a
 * socket for 5 minutes by sending its body a byte at a time.
 */
export interface ServerOptions {
  /** Longest a client may take to send a whole request, headers and body (then 408 and closed). @default 30000 */
  requestTimeoutMs: number;
  /** Longest a client may take to send the request headers (then 408 and closed). @default 10000 */
  headersTimeoutMs: number;
  /** How long an idle keep-alive connection is kept open. @default 5000 */
  keepAliveTimeoutMs: number;
  /** Most open connections; further ones are closed as soon as they are accepted. @default 1000 */
  maxConnections: number;
  /** On SIGTERM/SIGINT, longest wait for requests in flight before the process exits anyway. @default 25000 */
  shutdownTimeoutMs: number;
  /** Longest `/ready` waits for the store to answer before it says 503. @default 1000 */
  readyTimeoutMs: number;
}

export const DEFAULT_SERVER_OPTIONS: ServerOptions = {
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 1_000,
  shutdownTimeoutMs: 25_000,
  readyTimeoutMs: 1_000,
};

const ms = intVar;

const ServerEnv = z.object({
  GATEWAY_REQUEST_TIMEOUT_MS: ms(DEFAULT_SERVER_OPTIONS.requestTimeoutMs, 100, 3_600_000),
  GATEWAY_HEADERS_TIMEOUT_MS: ms(DEFAULT_SERVER_OPTIONS.headersTimeoutMs, 100, 3_600_000),
  GATEWAY_KEEP_ALIVE_TIMEOUT_MS: ms(DEFAULT_SERVER_OPTIONS.keepAliveTimeoutMs, 0, 3_600_000),
  GATEWAY_MAX_CONNECTIONS: ms(DEFAULT_SERVER_OPTIONS.maxConnections, 1, 1_000_000),
  GATEWAY_SHUTDOWN_TIMEOUT_MS: ms(DEFAULT_SERVER_OPTIONS.shutdownTimeoutMs, 0, 3_600_000),
  GATEWAY_READY_TIMEOUT_MS: ms(DEFAULT_SERVER_OPTIONS.readyTimeoutMs, 10, 60_000),
});

/** The listener part of the configuration (called by `loadConfig`, the only reader of the environment). */
export function parseServerOptions(
  env: Record<string, string | undefined>,
  problems: string[],
): ServerOptions {
  const e = readEnvSection(ServerEnv, env, problems);
  if (e === null) {
    return DEFAULT_SERVER_OPTIONS;
  }
  if (e.GATEWAY_HEADERS_TIMEOUT_MS > e.GATEWAY_REQUEST_TIMEOUT_MS) {
    problems.push(
      `GATEWAY_HEADERS_TIMEOUT_MS (${e.GATEWAY_HEADERS_TIMEOUT_MS}) must not exceed GATEWAY_REQUEST_TIMEOUT_MS (${e.GATEWAY_REQUEST_TIMEOUT_MS})`,
    );
  }
  return {
    requestTimeoutMs: e.GATEWAY_REQUEST_TIMEOUT_MS,
    headersTimeoutMs: e.GATEWAY_HEADERS_TIMEOUT_MS,
    keepAliveTimeoutMs: e.GATEWAY_KEEP_ALIVE_TIMEOUT_MS,
    maxConnections: e.GATEWAY_MAX_CONNECTIONS,
    shutdownTimeoutMs: e.GATEWAY_SHUTDOWN_TIMEOUT_MS,
    readyTimeoutMs: e.GATEWAY_READY_TIMEOUT_MS,
  };
}

/**
 * The node:http server for `listener` with every client-facing bound written out. Node checks the
 * request and header timeouts on a timer (`connectionsCheckingInterval`, 30 s by default), so that
 * timer runs at a tenth of the shorter timeout (at most every second): a slow client is cut off
 * close to its bound, not up to 30 s later. A request that runs past its bound is answered 408
 * and its connection closed; responses that take long to compute are not limited by this.
 */
export function createHttpServer(listener: RequestListener, opts: ServerOptions): Server {
  const server = createServer(
    {
      requestTimeout: opts.requestTimeoutMs,
      headersTimeout: opts.headersTimeoutMs,
      keepAliveTimeout: opts.keepAliveTimeoutMs,
      connectionsCheckingInterval: Math.max(
        10,
        Math.min(1_000, Math.floor(Math.min(opts.requestTimeoutMs, opts.headersTimeoutMs) / 10)),
      ),
    },
    listener,
  );
  server.maxConnections = opts.maxConnections;
  return server;
}
