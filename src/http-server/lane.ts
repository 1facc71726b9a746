import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { type ExecutionResult, GraphQLError } from 'graphql';
import { isAsyncIterable, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { Logger } from 'pino';

/**
 * The fast lane: the one request shape nearly every caller sends — `POST` to the exact GraphQL
 * path, a JSON body of `{query, variables?, operationName?, extensions?}` with a Content-Length
 * within the limit, `Accept: application/json` or `application/graphql-response+json`, no
 * `Origin` — served without building a WHATWG Request and Response around Node's (whatwg-node's
 * stream plumbing and promise chain took about a sixth of the CPU of an upsert).
 *
 * It runs the same code Yoga runs, not a copy of it: the gateway's plugins' `onRequest` hooks in
 * their order (router, readiness, request id, metrics, API key, rate limit …: one of them may
 * answer, e.g. 401 or 429), Yoga's own `getResultForParams` (every `onParams` hook, then the
 * envelop pipeline: parser and validation caches, the operation limits, introspection and
 * suggestion rules, the context, execution, error masking), every `onResultProcess` hook (request
 * ids on masked errors, Yoga's result processors), then the plugins' `onResponse` hooks (the
 * `x-request-id` header, the request log line, the HTTP metrics). A result without errors is
 * written as Yoga's regular result processor writes it (status 200, the accepted media type)
 * without making a Response first.
 *
 * Anything else goes to Yoga untouched, decided from the headers alone: another method, path,
 * query string, media type or Accept, an Origin (CORS), a chunked or oversized body, and — with
 * API keys configured — a request without exactly one Authorization header (Yoga answers it 401
 * before reading the body). A body that is not such a JSON object (malformed, a batch array,
 * unknown or mistyped parameters) is handed to Yoga with the bytes already read, before any hook
 * ran, so every refusal is Yoga's own. Off while tracing is on (its spans wrap Yoga's handler).
 */
export interface FastLane {
  /** Serves `req` and returns true, or returns false and leaves it for Yoga. */
  (req: IncomingMessage, res: ServerResponse): boolean;
  /** Requests this lane answered, and bodies it handed back to Yoga after reading them. */
  readonly stats: { served: number; handedBack: number };
}

export interface FastLaneOptions {
  yoga: YogaServerInstance<Record<string, never>, object>;
  /** The gateway's plugins, exactly as given to `createYoga` (their request/response hooks run here). */
  plugins: ReadonlyArray<{ onRequest?: unknown; onResponse?: unknown }>;
  graphqlEndpoint: string;
  maxBodyBytes: number;
  /** API keys are configured: a request must carry exactly one Authorization header to enter. */
  keysRequired: boolean;
  logger: Logger;
}

const CONTENT_LENGTH = /^\d{1,15}$/;
const JSON_TYPES = new Set(['application/json', 'application/json; charset=utf-8']);
const ACCEPTED = new Set(['application/json', 'application/graphql-response+json']);
const PARAM_NAMES = new Set(['query', 'variables', 'operationName', 'extensions']);

type Params = {
  query: string;
  variables?: Record<string, unknown> | null;
  operationName?: string | null;
  extensions?: Record<string, unknown> | null;
};

/** `fetch`-style read-only headers over Node's parsed ones (duplicates joined as whatwg-node joins them). */
class NodeHeaders {
  readonly #raw: IncomingHttpHeaders;
  constructor(raw: IncomingHttpHeaders) {
    this.#raw = raw;
  }
  get(name: string): string | null {
    const value = this.#raw[name.toLowerCase()];
    return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
  }
  has(name: string): boolean {
    return this.#raw[name.toLowerCase()] !== undefined;
  }
  *entries(): IterableIterator<[string, string]> {
    for (const name of Object.keys(this.#raw)) {
      yield [name, this.get(name) ?? ''];
    }
  }
  [Symbol.iterator]() {
    return this.entries();
  }
  forEach(fn: (value: string, name: string) => void): void {
    for (const [name, value] of this.entries()) {
      fn(value, name);
    }
  }
}

/** The request as the hooks see it: method, URL, headers and an abort signal (the client went away). */
class LaneRequest {
  readonly method = 'POST';
  readonly headers: NodeHeaders;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #params: Params | undefined;
  #signal: AbortSignal | undefined;
  constructor(req: IncomingMessage, res: ServerResponse, params?: Params) {
    this.#req = req;
    this.#res = res;
    this.#params = params;
    this.headers = new NodeHeaders(req.headers);
  }
  /** The body, already read and parsed (Yoga's JSON request parser calls this). */
  json(): Params | undefined {
    return this.#params;
  }
  /** As whatwg-node builds it: `http://<Host><request-target>`. */
  get url(): string {
    return `http://${this.#req.headers.host ?? 'localhost'}${this.#req.url ?? '/'}`;
  }
  get signal(): AbortSignal {
    if (!this.#signal) {
      const controller = new AbortController();
      const res = this.#res;
      res.once('close', () => {
        if (!res.writableFinished) {
          controller.abort();
        }
      });
      this.#signal = controller.signal;
    }
    return this.#signal;
  }
}

/** Mutable response headers (lower-case names), what `onResponse` hooks read and set. */
class LaneHeaders {
  readonly map = new Map<string, string>();
  get(name: string): string | null {
    return this.map.get(name.toLowerCase()) ?? null;
  }
  has(name: string): boolean {
    return this.map.has(name.toLowerCase());
  }
  set(name: string, value: string): void {
    this.map.set(name.toLowerCase(), String(value));
  }
  append(name: string, value: string): void {
    const key = name.toLowerCase();
    const prior = this.map.get(key);
    this.map.set(key, prior === undefined ? String(value) : `${prior}, ${value}`);
  }
  delete(name: string): void {
    this.map.delete(name.toLowerCase());
  }
  entries(): IterableIterator<[string, string]> {
    return this.map.entries();
  }
  [Symbol.iterator]() {
    return this.map.entries();
  }
  forEach(fn: (value: string, name: string) => void): void {
    for (const [name, value] of this.map) {
      fn(value, name);
    }
  }
}

/** A response as the `onResponse` hooks see it, written to Node's afterwards. */
interface LaneResponse {
  status: number;
  headers: LaneHeaders;
  body: string | Uint8Array;
}

async function fromFetchResponse(response: Response): Promise<LaneResponse> {
  const headers = new LaneHeaders();
  response.headers.forEach((value, name) => {
    headers.set(name, value);
  });
  return { status: response.status, headers, body: new Uint8Array(await response.arrayBuffer()) };
}

/** The body as the strict parameter object, or null (Yoga reads it instead). */
function laneParams(text: string): Params | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return null;
  }
  const params = value as Record<string, unknown>;
  for (const name in params) {
    if (!PARAM_NAMES.has(name)) {
      return null;
    }
  }
  const isObject = (v: unknown) => v == null || (typeof v === 'object' && !Array.isArray(v));
  if (
    typeof params['query'] !== 'string' ||
    params['query'] === '' ||
    !isObject(params['variables']) ||
    !isObject(params['extensions']) ||
    !(params['operationName'] == null || typeof params['operationName'] === 'string')
  ) {
    return null;
  }
  return params as Params;
}

/** Waits only for a hook that returned a promise (most return nothing: no extra turn). */
function settled(value: unknown): Promise<unknown> | undefined {
  return value && typeof (value as Promise<unknown>).then === 'function'
    ? (value as Promise<unknown>)
    : undefined;
}

type MaybePromise<T> = T | Promise<T>;

/**
 * Runs `hooks` in order, as Yoga does, until `done()`; waits only for a hook that returned a
 * promise (most return nothing: no extra turn of the event loop). One payload serves them all:
 * what a hook may change (`setResult`, `setResponse`) is read back through its getters.
 */
async function runHooks(
  hooks: ReadonlyArray<(payload: never) => unknown>,
  payload: object,
  done: () => boolean = () => false,
): Promise<void> {
  for (const hook of hooks) {
    const pending = settled(hook(payload as never));
    if (pending) {
      await pending;
    }
    if (done()) {
      return;
    }
  }
}

type Hook<K extends keyof Plugin> = NonNullable<Plugin[K]>;

/** Yoga's internals the lane runs (present on graphql-yoga 5's server object). */
interface YogaInternals {
  parseRequest(
    request: Request,
    serverContext: object,
  ): MaybePromise<{ response?: Response; requestParserResult?: Params }>;
  maskedErrorsOpts?: {
    maskError(error: unknown, message: string, isDev?: boolean): Error;
    errorMessage: string;
    isDev?: boolean;
  } | null;
  logger: { error(...args: unknown[]): void };
  getResultForParams(
    payload: { params: Params; request: Request },
    context: object,
  ): unknown | Promise<unknown>;
  onResultProcessHooks?: Array<Hook<'onResultProcess'>>;
  fetchAPI: { Request: typeof Request; Response: typeof Response };
  fetch(request: Request, context: object): Promise<Response> | Response;
}

/**
 * The lane for `options.yoga`, or null when this Yoga does not expose what the lane runs (then
 * every request goes to Yoga).
 */
export function createFastLane(options: FastLaneOptions): FastLane | null {
  const yoga = options.yoga as unknown as YogaInternals;
  const resultHooks = yoga.onResultProcessHooks;
  const { getResultForParams, parseRequest } = yoga;
  if (
    !Array.isArray(resultHooks) ||
    typeof getResultForParams !== 'function' ||
    typeof parseRequest !== 'function'
  ) {
    return null;
  }
  const fetchAPI = yoga.fetchAPI;
  const plugins = options.plugins as readonly Plugin[];
  const requestHooks = plugins.flatMap((p) => (p.onRequest ? [p.onRequest] : []));
  const responseHooks = plugins.flatMap((p) => (p.onResponse ? [p.onResponse] : []));
  const { graphqlEndpoint, maxBodyBytes, keysRequired, logger } = options;
  const stats = { served: 0, handedBack: 0 };

  function enters(req: IncomingMessage): string | null {
    const h = req.headers;
    if (
      req.method !== 'POST' ||
      req.url !== graphqlEndpoint ||
      h.origin !== undefined ||
      h['transfer-encoding'] !== undefined ||
      !JSON_TYPES.has(h['content-type'] ?? '') ||
      !CONTENT_LENGTH.test(h['content-length'] ?? '') ||
      Number(h['content-length']) > maxBodyBytes ||
      (keysRequired && req.headersDistinct['authorization']?.length !== 1)
    ) {
      return null;
    }
    const accept = h.accept;
    return accept !== undefined && ACCEPTED.has(accept) ? accept : null;
  }

  /** Yoga serves the request from the body already read (as if the lane had never seen it). */
  async function handBack(req: IncomingMessage, res: ServerResponse, body: Buffer) {
    stats.handedBack += 1;
    const headers: [string, string][] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      headers.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
    }
    const request = new fetchAPI.Request(new LaneRequest(req, res).url, {
      method: 'POST',
      headers,
      body: body.toString('utf8'),
    });
    write(res, await fromFetchResponse(await yoga.fetch(request, { req, res })));
  }

  async function serve(req: IncomingMessage, res: ServerResponse, accept: string, body: Buffer) {
    const params = laneParams(body.toString('utf8'));
    if (!params) {
      await handBack(req, res, body);
      return;
    }
    stats.served += 1;
    const request = new LaneRequest(req, res, params) as unknown as Request;
    const serverContext = { req, res };
    let early: Response | undefined;
    await runHooks(
      requestHooks,
      {
        request,
        serverContext,
        fetchAPI,
        endResponse(response: Response) {
          early = response;
        },
      },
      () => early !== undefined,
    );
    let response: LaneResponse | undefined;
    if (early) {
      response = await fromFetchResponse(early);
    } else {
      let result: unknown;
      try {
        // Every onRequestParse hook (method and parameter checks, body limit, introspection
        // switch …), Yoga's JSON parser reading `request.json()`, then the operation.
        const parsed = await parseRequest(request, serverContext);
        if (parsed.response) {
          response = await fromFetchResponse(parsed.response);
        } else {
          result = await getResultForParams(
            { params: parsed.requestParserResult as Params, request },
            serverContext,
          );
        }
      } catch (error) {
        result = { errors: [masked(error)] };
      }
      response ??= await respond(request, serverContext, result, accept);
    }
    await runHooks(responseHooks, {
      request,
      get response() {
        return response;
      },
      serverContext,
      fetchAPI,
      setResponse(next: LaneResponse) {
        response = next;
      },
    });
    write(res, response);
  }

  /**
   * The result as Yoga's `processResult` answers it: a result without errors straight as JSON,
   * anything else through every `onResultProcess` hook and the result processor they choose.
   */
  async function respond(
    request: Request,
    serverContext: object,
    executed: unknown,
    accept: string,
  ): Promise<LaneResponse> {
    const single = executed as ExecutionResult & { stringify?: (r: unknown) => string };
    if (
      !isAsyncIterable(executed) &&
      !Array.isArray(executed) &&
      !single.errors?.length &&
      !(single.extensions as { http?: unknown } | undefined)?.http
    ) {
      const headers = new LaneHeaders();
      headers.set('content-type', `${accept}; charset=utf-8`);
      return { status: 200, headers, body: (single.stringify ?? JSON.stringify)(single) };
    }
    let result = executed;
    type Processor = (r: unknown, f: unknown, t: string) => Response | Promise<Response>;
    const chosen: { processor?: Processor; mediaType: string } = { mediaType: '*/*' };
    const acceptableMediaTypes: string[] = [];
    await runHooks(resultHooks ?? [], {
      request,
      acceptableMediaTypes,
      get result() {
        return result;
      },
      setResult(next: unknown) {
        result = next;
      },
      get resultProcessor() {
        return chosen.processor;
      },
      setResultProcessor(next: Processor, type: string) {
        chosen.processor = next;
        chosen.mediaType = type;
      },
      serverContext,
    });
    if (!chosen.processor) {
      const headers = new LaneHeaders();
      headers.set('accept', acceptableMediaTypes.join('; charset=utf-8, '));
      return { status: 406, headers, body: '' };
    }
    return fromFetchResponse(await chosen.processor(result, fetchAPI, chosen.mediaType));
  }

  /** A GraphQL error thrown while parsing the request, as Yoga's `handleError` masks and logs it. */
  function masked(error: unknown): GraphQLError {
    if (!(error instanceof GraphQLError)) {
      throw error;
    }
    const opts = yoga.maskedErrorsOpts;
    const result = opts ? opts.maskError(error, opts.errorMessage, opts.isDev) : error;
    if (result !== error) {
      yoga.logger.error(error);
    }
    return result instanceof GraphQLError
      ? result
      : new GraphQLError(result.message, { originalError: result });
  }

  function write(res: ServerResponse, response: LaneResponse) {
    if (res.destroyed) {
      return;
    }
    const headers: Record<string, string | number> = Object.fromEntries(response.headers.map);
    headers['content-length'] =
      typeof response.body === 'string'
        ? Buffer.byteLength(response.body)
        : response.body.byteLength;
    res.writeHead(response.status, headers);
    res.end(response.body);
  }

  const lane = ((req: IncomingMessage, res: ServerResponse) => {
    const accept = enters(req);
    if (accept === null) {
      return false;
    }
    const length = Number(req.headers['content-length']);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => {
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length);
      serve(req, res, accept, body).catch((err: unknown) => {
        logger.error({ err }, 'fast lane: unexpected error');
        if (!res.headersSent) {
          const headers = new LaneHeaders();
          headers.set('content-type', 'application/json; charset=utf-8');
          write(res, {
            status: 500,
            headers,
            body: JSON.stringify({ errors: [{ message: 'Unexpected error.' }] }),
          });
        } else {
          res.destroy();
        }
      });
    });
    return true;
  }) as FastLane;
  Object.defineProperty(lane, 'stats', { value: stats });
  return lane;
}
