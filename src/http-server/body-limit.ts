import type { IncomingMessage } from 'node:http';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** Only a single non-negative integer is a valid Content-Length (Yoga's own rule). */
const CONTENT_LENGTH = /^\d+$/;

function tooLarge(): GraphQLError {
  return new GraphQLError('Request body too large', {
    extensions: { http: { status: 413 }, code: 'REQUEST_ENTITY_TOO_LARGE' },
  });
}

function invalidLength(): GraphQLError {
  return new GraphQLError('Content-Length header is invalid.', {
    extensions: { http: { status: 400 }, code: 'BAD_REQUEST' },
  });
}

/**
 * Whether Node's HTTP parser already bounds this request's body at its `Content-Length`: a
 * request read from a node:http socket with one Content-Length and no Transfer-Encoding (Node
 * refuses a request carrying both) ends after exactly that many bytes, whatever the client sends.
 */
function boundByNode(serverContext: unknown): boolean {
  const req = (serverContext as { req?: IncomingMessage } | null | undefined)?.req;
  const headers = req?.headers;
  return (
    typeof headers?.['content-length'] === 'string' && headers['transfer-encoding'] === undefined
  );
}

/** `request` with a body that errors (413) once more than `limit` bytes have been read. */
function limitedRequest(request: Request, limit: number, fetchAPI: typeof globalThis): Request {
  const body = request.body;
  if (!body) {
    return request;
  }
  // A native stream pipes into the native TransformStream, a ponyfill one into the ponyfill's.
  const Transform =
    body instanceof ReadableStream ? globalThis.TransformStream : fetchAPI.TransformStream;
  let read = 0;
  const limited = body.pipeThrough(
    new Transform<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        read += chunk.byteLength;
        if (read > limit) {
          controller.error(tooLarge());
          return;
        }
        controller.enqueue(chunk);
      },
    }),
  );
  return new fetchAPI.Request(request.url, {
    method: request.method,
    headers: request.headers,
    signal: request.signal,
    body: limited,
    duplex: 'half',
  } as RequestInit);
}

/**
 * The request body limit (`GATEWAY_MAX_BODY_BYTES`), as Yoga's `maxRequestBodySize` enforces it
 * (413 `REQUEST_ENTITY_TOO_LARGE` when the Content-Length or the bytes read exceed it, 400 for a
 * Content-Length that is not one integer), without its per-request cost where it buys nothing:
 * a body Node's parser already ends at a Content-Length within the limit is read as it is, not
 * piped through a counting stream (a stream pipeline and an AbortController per request). A body
 * without a Content-Length (chunked), or one handed in by `yoga.fetch`, is counted as it is read.
 * Install last among the plugins (it wraps whichever request parser was chosen), with Yoga's own
 * limit off.
 */
export function useBodyLimit(limit: number): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI, serverContext }) {
      const length = request.headers.get('content-length');
      if (length !== null) {
        if (!CONTENT_LENGTH.test(length)) {
          throw invalidLength();
        }
        if (Number(length) > limit) {
          throw tooLarge();
        }
        if (boundByNode(serverContext)) {
          return;
        }
      }
      if (!requestParser || !request.body) {
        return;
      }
      const parse = requestParser;
      setRequestParser((req) => parse(limitedRequest(req, limit, fetchAPI as typeof globalThis)));
    },
  };
}
