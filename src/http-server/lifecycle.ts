import type { RequestListener, Server } from 'node:http';
import type { Logger } from 'pino';

/** The requests a listener is serving, so that shutdown can wait for them. */
export interface RequestTracker {
  /** `listener` counting its requests; while draining, every answer closes its connection. */
  listener: RequestListener;
  inFlight(): number;
  /** Resolves when no request is in flight (at once if none is). */
  idle(): Promise<void>;
  /** From now on answers carry `Connection: close`, so kept-alive clients reconnect elsewhere. */
  drain(): void;
}

export function trackRequests(listener: RequestListener): RequestTracker {
  let count = 0;
  let draining = false;
  const waiters: Array<() => void> = [];
  const done = () => {
    count -= 1;
    if (count === 0) {
      for (const wake of waiters.splice(0)) {
        wake();
      }
    }
  };
  return {
    listener(req, res) {
      count += 1;
      res.once('close', done);
      if (draining) {
        res.shouldKeepAlive = false;
      }
      listener(req, res);
    },
    inFlight: () => count,
    idle: () => (count === 0 ? Promise.resolve() : new Promise((resolve) => waiters.push(resolve))),
    drain() {
      draining = true;
    },
  };
}

export interface ShutdownOptions {
  server: Server;
  tracker: RequestTracker;
  /** `/ready` 503 and no new outbox runs. */
  drain(): void;
  /** Outbox stopped and leases given back, providers and stores closed. */
  close(): Promise<void>;
  /** `GATEWAY_SHUTDOWN_TIMEOUT_MS`: longest wait for the requests in flight. */
  timeoutMs: number;
  logger: Logger;
}

/**
 * The graceful stop on SIGTERM/SIGINT, each step logged: `/ready` turns 503; the listener stops
 * accepting connections (idle kept-alive ones are closed, busy ones close after their answer);
 * the requests in flight finish, up to `timeoutMs` (then their connections are cut); the outbox
 * stops and its leases are given back; the stores close. Resolves when done: the caller exits 0.
 */
export async function shutdown(signal: string, opts: ShutdownOptions): Promise<void> {
  const { server, tracker, logger } = opts;
  opts.drain();
  tracker.drain();
  logger.info({ signal }, `${signal}: draining, /ready answers 503`);
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const waiting = tracker.inFlight();
  logger.info(
    { inFlight: waiting, timeoutMs: opts.timeoutMs },
    `no new connections; waiting for ${waiting} request(s) in flight (up to ${opts.timeoutMs} ms)`,
  );
  let timer: NodeJS.Timeout | undefined;
  const finished = await Promise.race([
    tracker.idle().then(() => true),
    new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), opts.timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  if (finished) {
    logger.info('requests in flight finished');
  } else {
    logger.warn(
      { inFlight: tracker.inFlight() },
      `GATEWAY_SHUTDOWN_TIMEOUT_MS reached: ${tracker.inFlight()} request(s) cut off`,
    );
  }
  server.closeAllConnections();
  await closed;
  await opts.close();
  logger.info('outbox stopped, stores closed: exiting');
}
