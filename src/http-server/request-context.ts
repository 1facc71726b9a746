import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import { ANONYMOUS_CALLER, type Caller } from '../auth/scopes.js';
import { type RequestLine, writeRequestLine } from '../logger.js';
import { afterWrite } from './after-write.js';
import { withRequestId } from './errors.js';
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
  /** The process logger this request's lines go to (set by {@link useRequestContext}). */
  base?: Logger;
  /** The child of `base` carrying `requestId` (and `traceId`), made on first use. */
  child?: Logger;
}

/** Header carrying the request id both ways. */
export const REQUEST_ID_HEADER = 'x-request-id';

/** Accepted incoming ids: short, and only characters that cannot forge a log line. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,99}$/;

const states = new WeakMap<Request, RequestState>();

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

/**
 * The logger of `state`'s request: a child of the process logger whose every line carries
 * `requestId` (and `traceId` once tracing started the operation). Passed explicitly (the GraphQL
 * context's `scope.log`), not found through an async context: an AsyncLocalStorage scope hooks
 * every promise of every request. Its parent is `fallback` when {@link useRequestContext} has
 * not seen the request (a plugin before it answered); undefined when there is neither.
 */
export function requestLogger(state: RequestState, fallback?: Logger): Logger | undefined {
  const base = state.base ?? fallback;
  if (!base) {
    return undefined;
  }
  state.base = base;
  if (!state.child || (state.traceId && state.child.bindings()['traceId'] !== state.traceId)) {
    state.child = base.child(
      state.traceId ? { requestId: state.id, traceId: state.traceId } : { requestId: state.id },
    );
  }
  return state.child;
}

/** Longest path written to a `request` log line (a 404's path is whatever the client sent). */
const MAX_LOGGED_PATH = 200;

/**
 * A GraphQL result whose masked errors carry the request id, their originals logged by the
 * request's logger (made only for a result with errors).
 */
function stamped<R extends ExecutionResult>(result: R, state: RequestState, fallback: Logger): R {
  if (!result.errors?.length) {
    return result;
  }
  const log = requestLogger(state, fallback) ?? fallback;
  let changed = false;
  const errors = result.errors.map((error) => {
    const next = withRequestId(error, state.id, log);
    changed ||= next !== error;
    return next;
  });
  return changed ? { ...result, errors } : result;
}

/** The `request` line: straight to the stream (no child logger) unless the logger is not one of ours. */
function logRequest(state: RequestState, line: RequestLine, logger: Logger): void {
  const ids = { requestId: state.id, traceId: state.traceId };
  if (!writeRequestLine(state.base ?? logger, ids, line)) {
    const { operationName, ...fields } = line;
    (requestLogger(state, logger) ?? logger).info(
      operationName ? { ...fields, operationName } : fields,
      'request',
    );
  }
}

/**
 * One request id per request, without an async context: the request's state (id, caller, trace)
 * hangs off the `Request`, and its logger ({@link requestLogger}) is handed on explicitly, so
 * every log line written while serving it carries `requestId`. Echoes the id in `x-request-id`;
 * stamps it on masked errors and logs what they hid (see `maskError`); writes one `request` line
 * per request (method, path without query, status, duration, key name; never headers, bodies or
 * variables): every request except the public paths (`/health`, `/ready`), so 401s, 404s and
 * 429s on any path are logged too (fail closed, like the key check).
 */
export function useRequestContext(options: { logger: Logger }): Plugin {
  const { logger } = options;
  return {
    onRequest({ request }) {
      requestState(request).base = logger;
    },
    onParams({ params, request }) {
      const name = params.operationName;
      const state = requestState(request);
      state.operationName = typeof name === 'string' && GRAPHQL_NAME.test(name) ? name : null;
      if (logger.isLevelEnabled('debug')) {
        requestLogger(state)?.debug(
          state.operationName ? { operationName: state.operationName } : {},
          'processing GraphQL parameters',
        );
      }
    },
    onResultProcess({ request, result, setResult }) {
      const state = requestState(request);
      if (isAsyncIterable(result)) {
        const source = result;
        setResult({
          [Symbol.asyncIterator]: () => {
            const it = source[Symbol.asyncIterator]();
            return {
              next: async () => {
                const step = await it.next();
                return step.done ? step : { ...step, value: stamped(step.value, state, logger) };
              },
              return: async () => (await it.return?.()) ?? { done: true, value: undefined },
            };
          },
        });
        return;
      }
      if (Array.isArray(result)) {
        setResult(result.map((r: ExecutionResult) => stamped(r, state, logger)));
        return;
      }
      const next = stamped(result, state, logger);
      if (next !== result) {
        setResult(next);
      }
    },
    onResponse({ request, response }) {
      const state = requestState(request);
      response.headers.set(REQUEST_ID_HEADER, state.id);
      if (routeOf(request) === 'public' || !logger.isLevelEnabled('info')) {
        return;
      }
      const line: RequestLine = {
        method: request.method,
        path: (sentPath(request) ?? '(not routed)').slice(0, MAX_LOGGED_PATH),
        status: response.status,
        durationMs: Math.round((performance.now() - state.startedAt) * 10) / 10,
        keyName: state.caller.keyName,
        operationName: state.operationName,
      };
      // Written once the response is (on the fast lane), as measured now.
      afterWrite(request, () => logRequest(state, line, logger));
    },
  };
}
