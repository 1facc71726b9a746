import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { Logger } from 'pino';
import { DEFERRED, runDeferred } from './after-write.js';
import { runHooks, settled } from './hooks.js';
import {
  createOperationHandler,
  type OperationParams,
  type OperationYoga,
  yogaErrors,
} from './operation.js';

/**
 * The fast lane: the one request shape nearly every caller sends — `POST` to the exact GraphQL
 * path, a JSON body of `{query, variables?, operationName?, extensions?}` with a Content-Length
 * within the limit, `Accept: application/json` or `application/graphql-response+json`, no
 * `Origin` — served without building a WHATWG Request and Response around Node's (whatwg-node's
 * stream plumbing and promise chain took about a sixth of the CPU of an upsert).
 *
 * It runs the hooks Yoga runs, in Yoga's order, and the functions Yoga's plugins set, not a copy
 * of them: the gateway's plugins' `onRequest` hooks (router, readiness, request id, metrics, API key,
 * rate limit …: one of them may answer, e.g. 401 or 429), every `onRequestParse` hook (method,
 * CSRF and body checks; Yoga's parsers, of which the JSON one reads the body already parsed) and
 * the `onRequestParseDone` hooks they return, every `onParams` hook, Yoga's `handleParams` as
 * ./operation.ts runs it (envelop's hooks in the same plain loop: parser and validation caches,
 * the operation limits, introspection and suggestion rules, the context, execution, error
 * masking; Yoga's own `handleParams` where a plugin needs what that does not run), every
 * `onExecutionResult` hook, every
 * `onResultProcess` hook (request ids on masked errors, Yoga's result processors), then the
 * plugins' `onResponse` hooks (the `x-request-id` header, the request log line, the HTTP
 * metrics). The hook lists are Yoga's own (read from the server object); they run in a plain loop
 * that waits only for a hook that returned a promise, where Yoga's promise helpers allocated about
 * 2.5 KB per hook and request. A result without errors is written as Yoga's regular result
 * processor writes it (status 200, the accepted media type) without making a Response first.
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
  /**
   * Requests this lane answered, bodies it handed back to Yoga after reading them, and whether it
   * runs the operation itself (./operation.ts) or through Yoga's `handleParams`.
   */
  readonly stats: { served: number; handedBack: number; readonly ownOperation: boolean };
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

type Params = OperationParams;

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

type AbortListener =
  | ((this: ClientGone, event: { type: 'abort'; target: ClientGone }) => void)
  | { handleEvent(event: { type: 'abort'; target: ClientGone }): void };

/**
 * A lane request's signal: aborted when the client goes away before its answer is written, as
 * whatwg-node's request signal is. Only the gateway reads it (every provider call adds and
 * removes an `abort` listener; an adapter's waits between polls pass it to `timers/promises`), so
 * it is the part of an AbortSignal they use: `aborted`, `reason`, `onabort`, `throwIfAborted` and
 * `abort` listeners (functions or `handleEvent` objects, `once` or not, a listener added twice
 * kept once). An AbortController with a listener added and removed took ~6.5 µs of CPU, ~20 µs
 * after 20 ms of idle; this ~0.1 µs and ~1–2 µs.
 */
export class ClientGone {
  aborted = false;
  reason: unknown = undefined;
  onabort: ((event: { type: 'abort'; target: ClientGone }) => void) | null = null;
  #listeners: AbortListener[] | null = null;

  addEventListener(type: string, listener: AbortListener | null, _options?: unknown): void {
    if (type !== 'abort' || !listener || this.aborted) {
      return;
    }
    this.#listeners ??= [];
    if (!this.#listeners.includes(listener)) {
      this.#listeners.push(listener);
    }
  }

  removeEventListener(type: string, listener: AbortListener | null, _options?: unknown): void {
    const at = type === 'abort' && listener ? (this.#listeners?.indexOf(listener) ?? -1) : -1;
    if (at >= 0) {
      this.#listeners!.splice(at, 1);
    }
  }

  throwIfAborted(): void {
    if (this.aborted) {
      throw this.reason;
    }
  }

  /** The client went away: `abort` once (every listener then removed, as `once` or not). */
  abort(): void {
    if (this.aborted) {
      return;
    }
    this.aborted = true;
    this.reason = new DOMException('This operation was aborted', 'AbortError');
    const event = { type: 'abort' as const, target: this };
    const listeners = this.#listeners ?? [];
    this.#listeners = null;
    this.onabort?.(event);
    for (const listener of listeners) {
      if (typeof listener === 'function') {
        listener.call(this, event);
      } else {
        listener.handleEvent(event);
      }
    }
  }
}

/** The request as the hooks see it: method, URL, headers and an abort signal (the client went away). */
class LaneRequest {
  readonly method = 'POST';
  /** Recording work its hooks deferred until the response is written (./after-write.ts). */
  [DEFERRED]: Array<() => void> | null = [];
  readonly headers: NodeHeaders;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #params: Params | undefined;
  #signal: ClientGone | undefined;
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
  /** A ClientGone, typed as what Yoga's request has (only the gateway reads it). */
  get signal(): AbortSignal {
    if (!this.#signal) {
      const signal = new ClientGone();
      const res = this.#res;
      res.once('close', () => {
        if (!res.writableFinished) {
          signal.abort();
        }
      });
      this.#signal = signal;
    }
    return this.#signal as unknown as AbortSignal;
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

type Hook<K extends keyof Plugin> = NonNullable<Plugin[K]>;

/** Yoga's internals the lane runs (present on graphql-yoga 5's server object). */
interface YogaInternals extends OperationYoga {
  onRequestParseHooks?: Array<Hook<'onRequestParse'>>;
  onParamsHooks?: Array<Hook<'onParams'>>;
  onExecutionResultHooks?: Array<(payload: never) => unknown>;
  /** The operation: the envelop pipeline (parse, validate, context, execute, masking). */
  handleParams(payload: { request: Request; params: Params; context: object }): unknown;
  onResultProcessHooks?: Array<Hook<'onResultProcess'>>;
  fetchAPI: {
    Request: typeof Request;
    Response: typeof Response;
    URL: typeof URL;
  };
  fetch(request: Request, context: object): Promise<Response> | Response;
}

type RequestParser = (request: Request) => unknown;

/**
 * The lane for `options.yoga`, or null when this Yoga does not expose what the lane runs (then
 * every request goes to Yoga).
 */
export function createFastLane(options: FastLaneOptions): FastLane | null {
  const yoga = options.yoga as unknown as YogaInternals;
  const {
    onResultProcessHooks: resultHooks,
    onRequestParseHooks: parseHooks,
    onParamsHooks: paramsHooks,
    onExecutionResultHooks: executionResultHooks,
  } = yoga;
  if (
    !Array.isArray(resultHooks) ||
    !Array.isArray(parseHooks) ||
    !Array.isArray(paramsHooks) ||
    !Array.isArray(executionResultHooks) ||
    typeof yoga.handleParams !== 'function'
  ) {
    return null;
  }
  // Yoga's handleParams without envelop's per-request orchestration (./operation.ts), or Yoga's own.
  const own = createOperationHandler(yoga);
  const operate = own ?? yoga.handleParams;
  const fetchAPI = yoga.fetchAPI;
  const plugins = options.plugins as readonly Plugin[];
  const requestHooks = plugins.flatMap((p) => (p.onRequest ? [p.onRequest] : []));
  const responseHooks = plugins.flatMap((p) => (p.onResponse ? [p.onResponse] : []));
  const { graphqlEndpoint, maxBodyBytes, keysRequired, logger } = options;
  const stats = { served: 0, handedBack: 0, ownOperation: own !== null };

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
    try {
      await answer(req, res, accept, request);
    } finally {
      runDeferred(request, onRecordError);
    }
  }

  const onRecordError = (err: unknown) =>
    logger.error({ err }, 'fast lane: recording a request failed');

  /** The lane's answer to `request`: its hooks, the operation, the response written. */
  async function answer(
    req: IncomingMessage,
    res: ServerResponse,
    accept: string,
    request: Request,
  ) {
    const serverContext = { req, res };
    let early: Response | undefined;
    const requestHooksRan = runHooks(
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
    if (requestHooksRan) {
      await requestHooksRan;
    }
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
          result = await resultForParams(parsed.params as Params, request, serverContext);
        }
      } catch (error) {
        // As Yoga's `handle` answers an error thrown before or around the operation.
        result = { errors: yogaErrors(error, yoga) };
      }
      response ??= await respond(request, serverContext, result, accept);
    }
    const responseHooksRan = runHooks(responseHooks, {
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
    if (responseHooksRan) {
      await responseHooksRan;
    }
    write(res, response);
  }

  /**
   * Yoga's `parseRequest`: every `onRequestParse` hook in order until one answers, the parser they
   * chose, then the `onRequestParseDone` hooks they returned. Run in a plain loop (as the other
   * hooks here) rather than through Yoga's promise helpers, which allocated ~2.5 KB per hook and
   * request; one payload serves every hook, its `url` and `requestParser` read through getters
   * (a hook sees what the hooks before it set, as with Yoga's payload per hook).
   */
  async function parseRequest(
    request: Request,
    serverContext: object,
  ): Promise<{ response?: Response; params?: unknown }> {
    // Built on first use, as Yoga does (most hooks never read it).
    let url: URL | undefined;
    let parser: RequestParser | undefined;
    let early: Response | undefined;
    const doneHooks: Array<(payload: never) => unknown> = [];
    const payload = {
      request,
      get url() {
        url ??= new fetchAPI.URL(request.url, 'http://localhost');
        return url;
      },
      get requestParser() {
        return parser;
      },
      serverContext,
      setRequestParser(next: RequestParser) {
        parser = next;
      },
      endResponse(response: Response) {
        early = response;
      },
      fetchAPI,
    };
    for (let i = 0; i < parseHooks!.length; i += 1) {
      let returned = parseHooks![i]!(payload as never) as unknown;
      const pending = settled(returned);
      if (pending) {
        returned = await pending;
      }
      const done = (returned as { onRequestParseDone?: (payload: never) => unknown } | undefined)
        ?.onRequestParseDone;
      if (done) {
        doneHooks.push(done);
      }
      if (early) {
        return { response: early };
      }
    }
    if (!parser) {
      return {
        response: new fetchAPI.Response(null, {
          status: 415,
          statusText: 'Unsupported Media Type',
        }),
      };
    }
    let params = parser(request);
    const pending = settled(params);
    if (pending) {
      params = await pending;
    }
    // Yoga's `isResponse`.
    if ((params as Response | undefined)?.status && (params as Response | undefined)?.headers) {
      return { response: params as Response };
    }
    const doneHooksRan = runHooks(doneHooks, {
      get requestParserResult() {
        return params;
      },
      setRequestParserResult(next: unknown) {
        params = next;
      },
    });
    if (doneHooksRan) {
      await doneHooksRan;
    }
    return { params };
  }

  /**
   * Yoga's `getResultForParams`: every `onParams` hook (one may answer or swap the handler), the
   * operation (./operation.ts, or Yoga's own `handleParams`), then every `onExecutionResult` hook,
   * in a plain loop as above.
   */
  async function resultForParams(
    params: Params,
    request: Request,
    context: object,
  ): Promise<unknown> {
    let result: unknown;
    let handler = operate;
    const paramsHooksRan = runHooks(paramsHooks!, {
      get params() {
        return params;
      },
      request,
      setParams(next: Params) {
        params = next;
      },
      get paramsHandler() {
        return handler;
      },
      setParamsHandler(next: typeof handler) {
        handler = next;
      },
      setResult(next: unknown) {
        result = next;
      },
      fetchAPI,
      context,
    });
    if (paramsHooksRan) {
      await paramsHooksRan;
    }
    result ||= await handler({ request, params, context });
    if (executionResultHooks!.length === 0) {
      // The gateway's plugins have none: no payload to build per request.
      return result;
    }
    const executionHooksRan = runHooks(executionResultHooks!, {
      get result() {
        return result;
      },
      setResult(next: unknown) {
        result = next;
      },
      request,
      context,
    });
    if (executionHooksRan) {
      await executionHooksRan;
    }
    return result;
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
    const resultHooksRan = runHooks(resultHooks ?? [], {
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
    if (resultHooksRan) {
      await resultHooksRan;
    }
    if (!chosen.processor) {
      const headers = new LaneHeaders();
      headers.set('accept', acceptableMediaTypes.join('; charset=utf-8, '));
      return { status: 406, headers, body: '' };
    }
    return fromFetchResponse(await chosen.processor(result, fetchAPI, chosen.mediaType));
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
