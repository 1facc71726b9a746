import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import { ANONYMOUS_CALLER, type Caller } from '../auth/scopes.js';
import { routeOf, sentPath } from './routes.js';

/** What the gateway knows about the request being handled. */
export interface RequestState {
  /** The caller's `x-request-id` when sane, else a new UUID; echoed in the response. */
  readonly id: string;
  readonly startedAt: number;
  /** Set by the auth plugin; anonymous until then. */
  caller: Caller;
  operationName: string | null;
  /** The OpenTelemetry trace of the operation, once tracing started it (log lines carry it). */
  traceId?: string;
}

/** Header carrying the request id both ways. */
export const REQUEST_ID_HEADER = 'x-request-id';

/** Accepted incoming ids: short, and only characters that cannot forge a log line. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,99}$/;

const states = new WeakMap<Request, RequestState>();
const storage = new AsyncLocalStorage<RequestState>();

/** The state of `request`, created on first use. */
export function requestState(request: Request): RequestState {
  let state = states.get(request);
  if (!state) {
    const incoming = request.headers.get(REQUEST_ID_HEADER);
    state = {
      id: incoming && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID(),
      startedAt: performance.now(),
      caller: ANONYMOUS_CALLER,
      operationName: null,
    };
    states.set(request, state);
  }
  return state;
}

/** The request being handled in this async context (logs read it through the logger's mixin). */
export function currentRequest(): RequestState | undefined {
  return storage.getStore();
}

/** Runs `fn` as part of `state`'s request (work queued by one request and run from another's). */
export function runInRequest<T>(state: RequestState, fn: () => T): T {
  return storage.run(state, fn);
}

/** Longest path written to a `request` log line (a 404's path is whatever the client sent). */
const MAX_LOGGED_PATH = 200;

/**
 * One request id per request: runs the whole handling inside an AsyncLocalStorage scope so every
 * log line written while serving it carries `requestId`, echoes the id in `x-request-id`, and
 * writes one `request` line per request (method, path without query, status, duration, key name;
 * never headers, bodies or variables): every request except the public paths (`/health`,
 * `/ready`), so 401s, 404s and 429s on any path are logged too (fail closed, like the key check).
 */
export function useRequestContext(options: { logger: Logger }): Plugin {
  return {
    instrumentation: {
      request: ({ request }, wrapped) => storage.run(requestState(request), wrapped),
    },
    onParams({ params, request }) {
      const name = params.operationName;
      requestState(request).operationName =
        typeof name === 'string' && GRAPHQL_NAME.test(name) ? name : null;
    },
    onResponse({ request, response }) {
      const state = requestState(request);
      response.headers.set(REQUEST_ID_HEADER, state.id);
      if (routeOf(request) === 'public') {
        return;
      }
      const path = (sentPath(request) ?? '(not routed)').slice(0, MAX_LOGGED_PATH);
      options.logger.info(
        {
          requestId: state.id,
          method: request.method,
          path,
          status: response.status,
          durationMs: Math.round((performance.now() - state.startedAt) * 10) / 10,
          keyName: state.caller.keyName,
          ...(state.operationName ? { operationName: state.operationName } : {}),
        },
        'request',
      );
    },
  };
}
