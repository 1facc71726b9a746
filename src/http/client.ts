import { type Dispatcher, errors, Pool, util } from 'undici';
import type { ProviderId } from '../model/contact.js';
import {
  UpstreamBadResponseError,
  UpstreamCancelledError,
  UpstreamConnectionError,
  UpstreamError,
  UpstreamNotSentError,
  UpstreamTimeoutError,
} from '../model/errors.js';
import type { WireRequest } from '../model/outcome.js';
import { idleScavenger } from '../runtime/idle-scavenge.js';
import type { HttpObserver } from './observer.js';

/** Options of the undici Pool each provider origin gets. */
export interface HttpOptions {
  /**
   * Connections per provider origin (`HTTP_CONNECTIONS`). Unset, each provider's pool gets as many
   * as that provider's in-flight limit (`<P>_MAX_IN_FLIGHT`, 16 by default): every call the limit
   * lets through then has its own connection at once (HTTP/1.1, no pipelining) instead of waiting
   * inside undici while its deadline runs, and none is opened that the limit never lets through.
   * @default null (the provider's in-flight limit)
   */
  connections: number | null;
  /** @default 5000 */
  connectTimeoutMs: number;
  /** @default 15000 */
  headersTimeoutMs: number;
  /** @default 30000 */
  bodyTimeoutMs: number;
  /** @default 4000 */
  keepAliveTimeoutMs: number;
  /** Largest response body read before the call fails. @default 10 MiB */
  maxBodyBytes: number;
  /** Metrics and tracing of every provider request (set by the gateway, not by the environment). */
  observer?: HttpObserver;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpRequest {
  method: HttpMethod;
  /** Path below the client's base URL, starting with `/`. */
  path: string;
  query?: Record<string, string | undefined>;
  headers?: Record<string, string>;
  /** Sent as JSON when defined. */
  body?: unknown;
  /** Sent as `application/x-www-form-urlencoded` when defined (and `body` is not). */
  form?: Record<string, string>;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
  /** The parsed body when it is JSON; `undefined` when empty, not JSON, or unparsable (`malformed`). */
  json: unknown;
  /** The response said JSON (or looked like it) but did not parse. */
  malformed: boolean;
}

/** Per-GraphQL-request counters: `summary.upstreamRequests` is read from here. */
export interface CallStats {
  upstreamRequests: number;
  /**
   * Most requests these stats may count (`GATEWAY_MAX_UPSTREAM_CALLS`): a request over it is not
   * sent and fails with TOO_MANY_UPSTREAM_CALLS (not retryable). The runtime backstop of the
   * up-front check (`src/http-server/budget.ts`). @default unbounded
   */
  maxUpstreamRequests?: number;
}

export interface HttpClient {
  readonly provider: ProviderId;
  /** Origin + base path, for status pages. Never contains credentials. */
  readonly baseUrl: string;
  request(req: HttpRequest, stats?: CallStats): Promise<HttpResponse>;
  /**
   * `req` as `request` would send it (the same builder), for a dry run: the client's `shown`
   * headers stand in for its credentials; nothing is sent.
   */
  describe(req: HttpRequest): WireRequest;
  close(): Promise<void>;
}

/** What goes on the wire for one request: path below the origin (query included), headers, body. */
interface BuiltRequest {
  path: string;
  headers: Record<string, string>;
  body: string | undefined;
}

/**
 * The one builder of outgoing requests: `request` sends what it returns, `describe` shows it.
 * `credentials` are the client's own headers (auth); the request's own headers come after them.
 */
function buildRequest(
  basePath: string,
  req: HttpRequest,
  credentials: Record<string, string>,
): BuiltRequest {
  let qs = '';
  if (req.query !== undefined) {
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(req.query)) {
      if (v !== undefined) {
        search.set(k, v);
      }
    }
    qs = search.toString();
  }
  const headers: Record<string, string> = {
    accept: 'application/json',
    ...credentials,
    ...req.headers,
  };
  let body: string | undefined;
  if (req.body !== undefined) {
    body = JSON.stringify(req.body);
    headers['content-type'] = 'application/json';
  } else if (req.form !== undefined) {
    body = new URLSearchParams(req.form).toString();
    headers['content-type'] = 'application/x-www-form-urlencoded';
  }
  return { path: `${basePath}${req.path}${qs ? `?${qs}` : ''}`, headers, body };
}

/**
 * A request to `baseUrl` as the HTTP client would send it, without a client (a REST base
 * only known from a token). The body is shown as the value that is sent as JSON (or form).
 */
export function describeRequest(
  baseUrl: string,
  req: HttpRequest,
  shown: Record<string, string>,
): WireRequest {
  const base = new URL(baseUrl);
  const built = buildRequest(base.pathname.replace(/\/+$/, ''), req, shown);
  return {
    method: req.method,
    url: `${base.origin}${built.path}`,
    headers: built.headers,
    body: req.body ?? req.form,
  };
}

export interface HttpClientOptions {
  provider: ProviderId;
  baseUrl: string;
  http: HttpOptions;
  /** Headers added to every request (auth). Called per request so tokens can rotate. */
  headers?: () => Record<string, string> | Promise<Record<string, string>>;
  /**
   * What a dry run shows in place of the credential headers, e.g.
   * `{authorization: 'Bearer [redacted]'}` (the scheme kept, the secret not).
   */
  shown?: Record<string, string>;
  /** Hand in a dispatcher (tests, shared agents); otherwise one Pool per origin is created and owned. */
  dispatcher?: Dispatcher;
}

/**
 * The one place that speaks undici: a keep-alive Pool per provider origin, JSON in and out, bounded
 * bodies, and undici failures mapped onto `UpstreamError` codes. HTTP status codes are *not*
 * classified here (each provider has its own error body); the adapters do that.
 */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  const base = new URL(options.baseUrl);
  if (base.username || base.password) {
    throw new Error(`${options.provider} base URL must not carry credentials`);
  }
  const basePath = base.pathname.replace(/\/+$/, '');
  const { http } = options;
  const owned = options.dispatcher === undefined;
  const dispatcher =
    options.dispatcher ??
    new Pool(base.origin, {
      connections: http.connections ?? FALLBACK_CONNECTIONS,
      pipelining: 1,
      keepAliveTimeout: http.keepAliveTimeoutMs,
      keepAliveMaxTimeout: Math.max(http.keepAliveTimeoutMs, 60_000),
      headersTimeout: http.headersTimeoutMs,
      bodyTimeout: http.bodyTimeoutMs,
      connect: { timeout: http.connectTimeoutMs },
    });
  const safeBase = `${base.origin}${basePath}`;

  async function request(req: HttpRequest, stats?: CallStats): Promise<HttpResponse> {
    // Credentials given at once (a fixed key) are not awaited: an await is a turn of its own.
    const own = options.headers ? options.headers() : NO_HEADERS;
    const { path, headers, body } = buildRequest(
      basePath,
      req,
      typeof (own as Promise<unknown>).then === 'function' ? await own : (own as Headers),
    );
    if (stats) {
      if (
        stats.maxUpstreamRequests !== undefined &&
        stats.upstreamRequests >= stats.maxUpstreamRequests
      ) {
        throw new UpstreamNotSentError(options.provider, {
          code: 'TOO_MANY_UPSTREAM_CALLS',
          message: `Not sent: this request reached its budget of ${stats.maxUpstreamRequests} provider calls (GATEWAY_MAX_UPSTREAM_CALLS)`,
        });
      }
      stats.upstreamRequests += 1;
    }
    // undici checks its own timeouts on a coarse (~0.5–1 s) tick; this bounds the whole attempt
    // to the configured timeout exactly. The caller's signal (the client hanging up) still wins.
    // One exchange (undici's handler of the request, its abort handle and the listener on the
    // caller's signal) and one timer, both released when the attempt ends. The exchange reads
    // the answer into memory itself: undici's `request` would wrap it in a stream (and an
    // AbortSignal and its listener cost ~15 µs of CPU per attempt on Node 20).
    const callerSignal = req.signal;
    const exchange = new Exchange(callerSignal, http.maxBodyBytes, options.provider);
    const timer = setTimeout(
      abortOnTimeout,
      Math.max(http.headersTimeoutMs, http.bodyTimeoutMs),
      exchange,
    );
    timer.unref();
    if (callerSignal?.aborted) {
      exchange.handleEvent();
    } else {
      callerSignal?.addEventListener('abort', exchange, ONCE);
    }
    const span = http.observer?.begin({
      provider: options.provider,
      method: req.method,
      path: req.path,
      origin: base.origin,
    });
    if (span?.headers) {
      Object.assign(headers, span.headers);
    }
    // While this call is out alone the process is idle: the young generation may be collected then
    // rather than inside a request's work (../runtime/idle-scavenge.ts).
    const out = idleScavenger.began();
    try {
      const sent: Dispatcher.DispatchOptions = {
        origin: base.origin,
        method: req.method,
        path,
        headers,
      };
      if (body !== undefined) {
        sent.body = body;
      }
      dispatcher.dispatch(sent, exchange);
      const { status, headers: resHeaders, text } = await exchange.answer;
      const contentType = resHeaders['content-type'] ?? '';
      let json: unknown;
      let malformed = false;
      const looksJson = contentType.includes('json') || /^\s*[[{]/.test(text);
      if (text.trim() !== '' && looksJson) {
        try {
          json = JSON.parse(text);
        } catch {
          malformed = true;
        }
      }
      span?.end({ status });
      return { status, headers: resHeaders, text, json, malformed };
    } catch (err) {
      const error = classifyTransportError(options.provider, err, exchange);
      span?.end({ error });
      throw error;
    } finally {
      idleScavenger.ended(out);
      clearTimeout(timer);
      callerSignal?.removeEventListener('abort', exchange);
    }
  }

  return {
    provider: options.provider,
    baseUrl: safeBase,
    request,
    describe: (req) => describeRequest(safeBase, req, options.shown ?? {}),
    async close() {
      if (owned) {
        await dispatcher.close();
      }
    },
  };
}

function oversized(provider: ProviderId, max: number): UpstreamBadResponseError {
  return new UpstreamBadResponseError(provider, {
    message: `${provider} response body exceeded ${max} bytes`,
    oversized: true,
  });
}

/**
 * Raw response headers as one object, in one pass: names lower-cased as undici's `parseHeaders`
 * names them, values read as Latin-1 as it reads them, a repeated header's values joined with
 * ", " (what `parseHeaders` and then a join of its lists gave). A name the object would inherit
 * (`constructor`, …) is still an own key; `__proto__` is none.
 */
function readHeaders(raw: ReadonlyArray<Buffer | string | Buffer[]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const key = util.headerNameToString(raw[i] as Buffer | string);
    if (key === '__proto__') {
      continue;
    }
    const v = raw[i + 1]!;
    const value =
      typeof v === 'string'
        ? v
        : Array.isArray(v)
          ? v.map((x) => x.toString('latin1')).join(', ')
          : v.toString('latin1');
    out[key] = Object.hasOwn(out, key) ? `${out[key]}, ${value}` : value;
  }
  return out;
}

/** An answer read whole: its status, its headers (lower-cased, repeats joined) and its body. */
interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
}

/**
 * One attempt's exchange with undici: the handler its dispatcher drives (the answer read into
 * memory, at most `max` bytes), the attempt's abort handle (`aborted`, `reason`, `abort`), and
 * the listener on the caller's signal (`handleEvent`: the caller's abort aborts the attempt).
 *
 * The body is bounded: a declared Content-Length over `max` fails at the headers; within it the
 * body is read whole (HTTP/1.1 ends it there) and decoded as undici's `body.text()` does (a UTF-8
 * BOM skipped); without one (chunked) it is counted chunk by chunk and decoded as it comes.
 */
class Exchange implements Dispatcher.DispatchHandler {
  aborted = false;
  reason: unknown = undefined;
  readonly answer: Promise<Answer>;
  readonly #caller: AbortSignal | undefined;
  readonly #max: number;
  readonly #provider: ProviderId;
  #abort: ((err: Error) => void) | null = null;
  #resolve: (answer: Answer) => void = ignore;
  #reject: (err: unknown) => void = ignore;
  #settled = false;
  #status = 0;
  #headers: Record<string, string> = {};
  /** The declared length within the bound, or -1 (none: counted as it comes). */
  #declared = -1;
  #chunks: Buffer[] = [];
  #size = 0;

  constructor(caller: AbortSignal | undefined, max: number, provider: ProviderId) {
    this.#caller = caller;
    this.#max = max;
    this.#provider = provider;
    this.answer = new Promise<Answer>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** Aborts the attempt (a timeout, the caller's abort): it fails with `reason`. */
  abort(reason: unknown): void {
    if (!this.aborted) {
      this.aborted = true;
      this.reason = reason;
      this.#abort?.((reason as Error | undefined) ?? new errors.RequestAbortedError());
    }
  }

  /** The caller's signal aborted. */
  handleEvent(): void {
    this.abort(this.#caller?.reason);
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.aborted) {
      abort((this.reason as Error | undefined) ?? new errors.RequestAbortedError());
      return;
    }
    this.#abort = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    if (statusCode < 200) {
      return true;
    }
    const headers = readHeaders(rawHeaders);
    const declared = headers['content-length'];
    // A repeated Content-Length (joined with ", ") is no length: counted as it comes.
    const length = declared !== undefined && /^\d{1,15}$/.test(declared) ? Number(declared) : -1;
    if (length > this.#max) {
      // Thrown: undici aborts the request with it, and `onError` fails the attempt.
      throw oversized(this.#provider, this.#max);
    }
    this.#status = statusCode;
    this.#headers = headers;
    this.#declared = length;
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.#size += chunk.length;
    if (this.#declared < 0 && this.#size > this.#max) {
      throw oversized(this.#provider, this.#max);
    }
    this.#chunks.push(chunk);
    return true;
  }

  onComplete(): void {
    if (this.#settled) {
      return;
    }
    this.#settled = true;
    const chunks = this.#chunks;
    this.#chunks = [];
    this.#resolve({
      status: this.#status,
      headers: this.#headers,
      text: this.#declared >= 0 ? decodeWhole(chunks, this.#size) : decodeChunks(chunks),
    });
  }

  onError(err: Error): void {
    if (!this.#settled) {
      this.#settled = true;
      this.#chunks = [];
      this.#reject(err);
    }
  }
}

function ignore(): void {}

/** A body of declared length as undici's `body.text()` reads it: UTF-8, a leading BOM skipped. */
function decodeWhole(chunks: Buffer[], length: number): string {
  if (chunks.length === 0 || length === 0) {
    return '';
  }
  const buffer = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length);
  const start =
    buffer.length > 2 && buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf ? 3 : 0;
  return buffer.toString('utf8', start);
}

/** A chunked body: its chunks joined, as UTF-8. */
function decodeChunks(chunks: Buffer[]): string {
  return Buffer.concat(chunks).toString('utf8');
}

/** The attempt's own deadline passed. */
function abortOnTimeout(exchange: Exchange): void {
  exchange.abort(new DOMException('The operation timed out.', 'TimeoutError'));
}

type Headers = Record<string, string>;
const NO_HEADERS: Headers = Object.freeze({}) as Headers;
const ONCE = Object.freeze({ once: true });

/** Pool size when none was chosen (the registry passes the provider's in-flight limit): that limit's default. */
const FALLBACK_CONNECTIONS = 16;

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);
const CONNECTION_CODES = new Set([
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/**
 * Maps undici's failures onto the kinds of `UpstreamError`, in exactly one place. Messages name the
 * provider and the failure only: never the URL query, headers or body.
 */
export function classifyTransportError(
  provider: ProviderId,
  err: unknown,
  signal?: { readonly aborted: boolean; readonly reason?: unknown },
): UpstreamError {
  if (err instanceof UpstreamError) {
    return err;
  }
  const code = errorCode(err);
  const cause = { cause: err };
  if (TIMEOUT_CODES.has(code) || (signal?.aborted && isTimeoutReason(signal.reason))) {
    return new UpstreamTimeoutError(
      provider,
      {
        message: `${provider} did not answer in time (${code || 'deadline'})`,
        details: { cause: code || 'deadline' },
      },
      cause,
    );
  }
  if (code === 'UND_ERR_ABORTED' || signal?.aborted) {
    return new UpstreamCancelledError(
      provider,
      { message: `${provider} call was cancelled`, details: { cause: 'aborted' } },
      cause,
    );
  }
  const known = CONNECTION_CODES.has(code);
  return new UpstreamConnectionError(
    provider,
    {
      message: known ? `${provider} connection failed (${code})` : `${provider} request failed`,
      details: { cause: code || 'unknown' },
    },
    cause,
  );
}

function errorCode(err: unknown): string {
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth += 1) {
    const c = (current as { code?: unknown }).code;
    if (typeof c === 'string') {
      return c;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return '';
}

function isTimeoutReason(reason: unknown): boolean {
  return reason instanceof Error && reason.name === 'TimeoutError';
}
