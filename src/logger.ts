import { createHmac, randomBytes } from 'node:crypto';
import { type Logger, pino } from 'pino';
import { build as prettyStream } from 'pino-pretty';
import { redactText } from './http/redact.js';
import { PERSON_FIELDS } from './model/contact.js';

/** Keys whose values are credentials: replaced by `[redacted]` wherever they appear (one level deep). */
const SECRET_KEYS = [
  'authorization',
  'apiKey',
  'apiKeys',
  'key',
  'password',
  'token',
  'accessToken',
  'access_token',
  'clientSecret',
  'client_secret',
  'secret',
  'cookie',
  'GATEWAY_API_KEYS',
];

/** Keys whose values are contact PII: replaced by a keyed hash (stable within one process only). */
const PII_KEYS = new Set<string>([...PERSON_FIELDS, 'emails', 'birthdate', 'address', 'remoteId']);

const HASH_KEY = randomBytes(32);

/**
 * A short keyed hash of a PII value: the same contact gives the same tag within this process, so
 * log lines can be correlated, but the tag cannot be reversed or dictionary-matched without the
 * process's random key.
 */
export function piiTag(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value ?? null);
  return `pii:${createHmac('sha256', HASH_KEY).update(text).digest('hex').slice(0, 12)}`;
}

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
const PHONE = /\+[1-9]\d{6,14}\b/g;

/**
 * A character or word every pattern below needs (`@` userinfo and emails, `=` secret parameters,
 * `+` phone numbers, bearer and basic credentials): text without any is returned as it is, which
 * is most log text, instead of running five replacements over it.
 */
const MAY_NEED_SCRUBBING = /[@=+]|Bearer|Basic/;

/** Free text made safe for a log line: credentials redacted, emails and E.164 numbers hashed. */
export function scrubLogText(text: string): string {
  if (!MAY_NEED_SCRUBBING.test(text)) {
    return text;
  }
  return redactText(text)
    .replace(EMAIL, (m) => `[email ${piiTag(m.toLowerCase())}]`)
    .replace(PHONE, (m) => `[phone ${piiTag(m)}]`);
}

function scrubDeep(value: unknown, depth: number): unknown {
  if (typeof value === 'string') {
    return scrubLogText(value);
  }
  if (depth > 4 || value === null || typeof value !== 'object') {
    return value;
  }
  if (Array.isArray(value)) {
    return value.map((v) => scrubDeep(v, depth + 1));
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) {
    return value;
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubDeep(v, depth + 1)]));
}

/**
 * Log bytes gathered into one write to stdout, and the longest a line waits for its write. The
 * batch stays below sonic-boom's largest single write (16 KiB); 4 KiB meant ~60 writes a second
 * at 850 requests a second, 1.3 % of the CPU under load.
 */
const LOG_BATCH_BYTES = 12_288;
const LOG_FLUSH_MS = 100;

/** What {@link LineBatcher} hands its lines to: sonic-boom (`pino.destination`). */
interface LineSink {
  write(data: string): unknown;
  flush(cb?: (err?: Error) => void): void;
  flushSync(): void;
  readonly destroyed?: boolean;
  /** sonic-boom's events: `write` (bytes written), `drain` (its writing stopped). */
  on?(event: 'write' | 'drain', listener: (bytes?: number) => void): unknown;
}

/** Batchers holding lines not yet handed on: written out when the process exits. */
const holding = new Set<LineBatcher>();
let exitHooked = false;

/**
 * Log lines gathered in an array and handed to `sink` as one string when they reach `batchBytes`
 * (counted in UTF-16 units, close enough for a threshold) or `flushMs` after the first of them.
 * In place of sonic-boom's own batching (`minLength` with `periodicFlush`), which appended each line
 * to one growing string and measured its byte length on every write (a flat copy of the whole
 * batch so far: ~4.5 KB allocated per request), and which wrote, through libuv's thread pool, every
 * `periodicFlush` ms even with nothing buffered (an idle gateway woke ten times a second). The
 * timer is armed by the first line of a batch and not kept running.
 *
 * The sink keeps its `minLength` at `batchBytes`: a full batch starts its own write, a smaller one
 * waits in the sink until `flush` starts it (the timer) or `flushSync` writes it (on exit, when an
 * asynchronous write would never finish). A `flush` while the sink is still writing starts
 * nothing, and what is left after that write may be under `minLength`: the bytes handed on and
 * not yet written are counted (its `write` events), and when it stops writing (`drain`) with some
 * left, it is flushed again. Lines still held when the process exits are written.
 */
export class LineBatcher {
  readonly #sink: LineSink;
  readonly #batchBytes: number;
  readonly #flushMs: number;
  #lines: string[] = [];
  #units = 0;
  #timer: NodeJS.Timeout | null = null;
  /** Bytes handed to the sink and not yet written. */
  #unwritten = 0;

  constructor(sink: LineSink, batchBytes = LOG_BATCH_BYTES, flushMs = LOG_FLUSH_MS) {
    this.#sink = sink;
    this.#batchBytes = batchBytes;
    this.#flushMs = flushMs;
    sink.on?.('write', (bytes) => {
      this.#unwritten = Math.max(0, this.#unwritten - (bytes ?? 0));
    });
    sink.on?.('drain', () => {
      if (this.#unwritten > 0 && !this.#sink.destroyed) {
        this.#sink.flush();
      }
    });
    if (!exitHooked) {
      exitHooked = true;
      process.once('exit', () => {
        for (const batcher of holding) {
          batcher.flushSync();
        }
      });
    }
  }

  write(line: string): boolean {
    this.#lines.push(line);
    this.#units += line.length;
    if (this.#units >= this.#batchBytes) {
      this.#handOn();
    } else if (this.#timer === null) {
      holding.add(this);
      this.#timer = setTimeout(() => this.flush(), this.#flushMs);
      this.#timer.unref();
    }
    return true;
  }

  /** Hands on what is held and has the sink start writing it (pino's `logger.flush`). */
  flush(cb?: (err?: Error) => void): void {
    this.#handOn();
    if (this.#sink.destroyed) {
      cb?.();
      return;
    }
    this.#sink.flush(cb);
  }

  /** Hands on what is held and writes everything now. */
  flushSync(): void {
    this.#handOn();
    if (!this.#sink.destroyed) {
      this.#sink.flushSync();
      this.#unwritten = 0;
    }
  }

  #handOn(): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    holding.delete(this);
    if (this.#lines.length === 0 || this.#sink.destroyed) {
      return;
    }
    const data = this.#lines.length === 1 ? this.#lines[0]! : this.#lines.join('');
    this.#lines = [];
    this.#units = 0;
    this.#unwritten += Buffer.byteLength(data);
    this.#sink.write(data);
  }
}

/** Loggers made by {@link createLogger}, whose configuration {@link writeRequestLine} knows. */
const ownLoggers = new WeakSet<Logger>();

/** The fields of a request's `request` line (never headers, bodies or variables). */
export interface RequestLine {
  method: string;
  /** The path as sent, without the query. */
  path: string;
  status: number;
  durationMs: number;
  keyName: string | null;
  operationName: string | null;
}

const { chindingsSym, endSym, lsCacheSym, needsMetadataGsym, streamSym, timeSym } = pino.symbols;

/** A string as a JSON value, scrubbed as {@link createLogger}'s formatter scrubs every string. */
const jsonText = (value: string) => JSON.stringify(scrubLogText(value));

/**
 * Writes the `request` line of a request (at info; the caller checks the level) straight to the
 * stream of a logger made by {@link createLogger}, carrying `requestId` (and `traceId`) as that
 * request's child logger would: the line is built from its few known fields, each string scrubbed
 * as the logger's formatter scrubs it (none is a redacted key), and framed as pino frames it (its
 * level, time, bindings and line end). The same JSON line as `child(ids).info(line, 'request')`,
 * without a child logger per request, the redaction paths walked over every field or a generic
 * serialiser. Returns false, writing nothing, for any other logger: log through it instead.
 */
export function writeRequestLine(
  logger: Logger,
  ids: { requestId: string; traceId?: string | undefined },
  line: RequestLine,
): boolean {
  const own = logger as unknown as Record<symbol, unknown>;
  const stream = own[streamSym] as { write(s: string): unknown; [k: symbol]: unknown } | undefined;
  if (!ownLoggers.has(logger) || !stream || stream[needsMetadataGsym] === true) {
    return false;
  }
  const level = (own[lsCacheSym] as Record<number, string>)[30];
  const time = (own[timeSym] as () => string)();
  stream.write(
    `${level}${time}${own[chindingsSym] as string},"requestId":${JSON.stringify(ids.requestId)}${
      ids.traceId ? `,"traceId":${JSON.stringify(ids.traceId)}` : ''
    },"method":${jsonText(line.method)},"path":${jsonText(line.path)},"status":${jsonNumber(
      line.status,
    )},"durationMs":${jsonNumber(line.durationMs)},"keyName":${
      line.keyName === null ? 'null' : jsonText(line.keyName)
    }${line.operationName ? `,"operationName":${jsonText(line.operationName)}` : ''},"msg":"request"${
      own[endSym] as string
    }`,
  );
  return true;
}

const jsonNumber = (n: number) => (Number.isFinite(n) ? String(n) : 'null');

/**
 * The process logger. A request's lines go through its child (`requestLogger`), which carries
 * its `requestId` (and `traceId`); its `request` line is written by {@link writeRequestLine}.
 * Credentials are redacted by key and in free text (bearer/basic credentials, URL userinfo,
 * `key=value` secrets); contact PII (emails, phones, names, birthdates, addresses) is replaced by
 * a keyed hash, by key and in free text, at every level including debug. Request bodies, headers
 * and variables are never logged at all.
 */
export function createLogger(
  level: string,
  destination?: NodeJS.WritableStream,
  format: 'json' | 'pretty' = 'json',
): Logger {
  const stream =
    format === 'pretty'
      ? prettyStream({
          colorize: true,
          translateTime: 'HH:MM:ss.l',
          ignore: 'pid,hostname,service',
        })
      : (destination ??
        // stdout written asynchronously, off the request path, in batches of LOG_BATCH_BYTES: a
        // line waits at most LOG_FLUSH_MS (a write per line cost the event loop a write call and
        // its callback per request). What is left is written synchronously on exit.
        (level === 'silent'
          ? undefined
          : (new LineBatcher(
              pino.destination({ dest: 1, sync: false, minLength: LOG_BATCH_BYTES }),
            ) as unknown as NodeJS.WritableStream)));
  const keys = [...SECRET_KEYS, ...PII_KEYS];
  const logger = pino(
    {
      level,
      base: { service: 'contact-gateway' },
      hooks: {
        logMethod(args, method) {
          const safe = args.map((a) => (typeof a === 'string' ? scrubLogText(a) : a));
          method.apply(this, safe as Parameters<typeof method>);
        },
      },
      formatters: {
        log: (object) => scrubDeep(object, 0) as Record<string, unknown>,
      },
      serializers: {
        // Only type, message and stack (scrubbed): other properties of an error may carry data.
        err: (err: unknown) => {
          if (!(err instanceof Error)) {
            return scrubDeep(err, 0);
          }
          const s = pino.stdSerializers.err(err);
          return { type: s.type, message: scrubLogText(s.message), stack: scrubLogText(s.stack) };
        },
      },
      redact: {
        paths: [...keys, ...keys.map((k) => `*.${k}`), '*.headers.authorization'],
        censor: (value: unknown, path: string[]) =>
          PII_KEYS.has(path[path.length - 1] ?? '') ? piiTag(value) : '[redacted]',
      },
    },
    stream as pino.DestinationStream | undefined,
  );
  ownLoggers.add(logger);
  return logger;
}
