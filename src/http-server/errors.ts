import { GraphQLError } from 'graphql';
import { type Plugin, maskError as yogaMaskError } from 'graphql-yoga';
import { StoreUnavailableError } from '../store/errors.js';
import { currentRequest } from './request-context.js';

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

/**
 * Yoga's masking, with development details never attached (whatever `NODE_ENV` says) and the
 * request id added, so a caller can quote it and an operator can find the full error in the log
 * (Yoga logs the original; the logger stamps the same `requestId` on that line). An unreachable
 * store is not "Unexpected error." but `STORE_UNAVAILABLE` with `retryable: true`.
 */
export function maskError(error: unknown, message: string): Error {
  if (storeUnavailable(error)) {
    const at = error instanceof GraphQLError ? error : null;
    const requestId = currentRequest()?.id;
    return new GraphQLError(STORE_UNAVAILABLE_MESSAGE, {
      nodes: at?.nodes ?? null,
      source: at?.source ?? null,
      positions: at?.positions ?? null,
      path: at?.path ?? null,
      extensions: {
        code: 'STORE_UNAVAILABLE',
        retryable: true,
        ...(requestId ? { requestId } : {}),
      },
    });
  }
  const masked = yogaMaskError(error, message, false);
  if (masked === error || !(masked instanceof GraphQLError)) {
    return masked;
  }
  const requestId = currentRequest()?.id;
  if (!requestId) {
    return masked;
  }
  return new GraphQLError(masked.message, {
    nodes: masked.nodes ?? null,
    source: masked.source ?? null,
    positions: masked.positions ?? null,
    path: masked.path ?? null,
    extensions: { ...masked.extensions, requestId },
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
