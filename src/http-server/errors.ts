import { GraphQLError } from 'graphql';
import { type Plugin, maskError as yogaMaskError } from 'graphql-yoga';
import type { Logger } from 'pino';
import { StoreUnavailableError } from '../store/errors.js';

/** The message every unexpected error is replaced with. */
export const MASKED_MESSAGE = 'Unexpected error.';

/** The message of `STORE_UNAVAILABLE` (the details, such as which server, are in the log only). */
export const STORE_UNAVAILABLE_MESSAGE =
  "The gateway's store did not answer in time; nothing is wrong with the request, retry it later.";

/** The {@link StoreUnavailableError} behind `error` (GraphQL wraps what a resolver threw), if any. */
function storeUnavailable(error: unknown): StoreUnavailableError | null {
  let current = error;
  for (let i = 0; i < 5; i += 1) {
    if (current instanceof StoreUnavailableError) {
      return current;
    }
    if (!(current instanceof Error)) {
      return null;
    }
    current = current instanceof GraphQLError ? current.originalError : current.cause;
  }
  return null;
}

/** What each masked error hid, until the request it belongs to logs it ({@link withRequestId}). */
const hidden = new WeakMap<GraphQLError, unknown>();
/** Originals whose log line waits for their request (Yoga's own log call skips them). */
const deferred = new WeakSet<object>();

/**
 * Whether Yoga's log call for `error` is to be skipped: a masked error's original is logged by its
 * request instead (with the request id), when the result is processed.
 */
export function isDeferredLog(error: unknown): boolean {
  return typeof error === 'object' && error !== null && deferred.has(error);
}

function hide(masked: GraphQLError, original: unknown): GraphQLError {
  if (typeof original === 'object' && original !== null) {
    hidden.set(masked, original);
    deferred.add(original);
  }
  return masked;
}

/**
 * Yoga's masking, with development details never attached (whatever `NODE_ENV` says). An
 * unreachable store is not "Unexpected error." but `STORE_UNAVAILABLE` with `retryable: true`.
 * Masking has no request at hand: the request context stamps the request id on the masked error
 * (so a caller can quote it) and logs the original with the same id ({@link withRequestId}).
 */
export function maskError(error: unknown, message: string): Error {
  if (storeUnavailable(error)) {
    const at = error instanceof GraphQLError ? error : null;
    return hide(
      new GraphQLError(STORE_UNAVAILABLE_MESSAGE, {
        nodes: at?.nodes ?? null,
        source: at?.source ?? null,
        positions: at?.positions ?? null,
        path: at?.path ?? null,
        extensions: { code: 'STORE_UNAVAILABLE', retryable: true },
      }),
      error,
    );
  }
  const masked = yogaMaskError(error, message, false);
  if (masked === error || !(masked instanceof GraphQLError)) {
    return masked;
  }
  return hide(masked, error);
}

/** The error a GraphQLError wraps (what actually went wrong), else the error itself. */
export function rootError(error: Error): Error {
  let current = error;
  while (current instanceof GraphQLError && current.originalError) {
    current = current.originalError;
  }
  return current;
}

/**
 * `error` as answered to the request `requestId`: when masking hid something, the masked error
 * with `extensions.requestId`, and the original written to `log` (its scrubbed message, type and
 * stack) once; any other error unchanged.
 */
export function withRequestId(error: GraphQLError, requestId: string, log: Logger): GraphQLError {
  if (!hidden.has(error)) {
    return error;
  }
  const original = hidden.get(error);
  hidden.delete(error);
  if (original instanceof Error) {
    const root = rootError(original);
    log.error({ err: root }, `${root.name}: ${root.message}`);
  } else {
    log.error({ err: original }, 'unexpected error');
  }
  return new GraphQLError(error.message, {
    nodes: error.nodes ?? null,
    source: error.source ?? null,
    positions: error.positions ?? null,
    path: error.path ?? null,
    extensions: { ...error.extensions, requestId },
  });
}

/** The message of a GET or form-encoded request whose `variables` or `extensions` do not parse. */
export const INVALID_PARAMS_MESSAGE = "The request's variables or extensions are not valid JSON.";

function badRequest(message: string): GraphQLError {
  // No `http.spec`: a request that cannot be read is a 400 whatever the client accepts (the
  // GraphQL-over-HTTP spec asks for 400 on a JSON parse failure for application/json too).
  return new GraphQLError(message, {
    extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
  });
}

/**
 * A request that cannot be read is answered with a fixed message and `BAD_REQUEST`, never with
 * a piece of what was sent. Yoga puts the JSON parser's message (which quotes the body) into
 * `extensions.originalError` of "POST body sent invalid JSON.", and lets the `SyntaxError` of a
 * GET or form-encoded request's `variables`/`extensions` escape, which was masked as a 500.
 */
export function useRequestParseErrors(): Plugin {
  return {
    onRequestParse({ requestParser, setRequestParser }) {
      if (!requestParser) {
        return;
      }
      setRequestParser(async (request) => {
        try {
          return await requestParser(request);
        } catch (error) {
          if (!(error instanceof GraphQLError)) {
            throw badRequest(INVALID_PARAMS_MESSAGE);
          }
          if (error.extensions['originalError'] !== undefined) {
            throw badRequest(error.message);
          }
          throw error;
        }
      });
    },
  };
}
