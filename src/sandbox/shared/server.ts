import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CONTROL_PREFIX, createControlState, handleControlRequest } from './controls.js';
import type {
  Fault,
  RecordedRequest,
  SandboxControls,
  SandboxHandler,
  SandboxResponse,
} from './types.js';

export interface StartedSandbox {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly controls: SandboxControls;
  close(): Promise<void>;
}

export interface StartSandboxOptions {
  /** Name of the emulated service, the folder name under `src/sandbox/`. */
  name: string;
  handler: SandboxHandler;
  /** @default '127.0.0.1' */
  host?: string | undefined;
  /** @default 0 (an ephemeral port) */
  port?: number | undefined;
  /**
   * Larger request bodies are answered 413 without reaching the handler. The emulated providers
   * may have no limit of their own; this only protects the sandbox process.
   * @default 16 MiB
   */
  maxBodyBytes?: number;
}

const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;
/** Control bodies (fault rules, latency) are small but must not fall under a tiny test limit. */
const CONTROL_MAX_BODY_BYTES = 1024 * 1024;

/** A response body that is cut off in the middle of a JSON document. */
const MALFORMED_JSON = '{"sandbox":"malformed response","items":[{"id":1,"name":"trunc';

class BodyTooLargeError extends Error {
  constructor() {
    super('request body too large');
    this.name = 'BodyTooLargeError';
  }
}

/**
 * The latency and delay-fault waits of one sandbox, all ended by `close()`. Not `sleep(ms, { signal })`
 * on one shared signal: every sleeping request added an abort listener to it, and 32 concurrent
 * requests at a 20 ms latency (the bench's load) passed Node's limit of 10
 * (MaxListenersExceededWarning). Here a wait is one timer in a set, removed when it fires.
 */
function createWaits() {
  const pending = new Set<() => void>();
  let closed = false;
  return {
    get closed() {
      return closed;
    },
    wait(ms: number): Promise<void> {
      if (closed) {
        return Promise.reject(new Error('sandbox closing'));
      }
      return new Promise<void>((resolve, reject) => {
        const cancel = () => {
          clearTimeout(timer);
          pending.delete(cancel);
          reject(new Error('sandbox closing'));
        };
        const timer = setTimeout(() => {
          pending.delete(cancel);
          resolve();
        }, ms);
        pending.add(cancel);
      });
    },
    close(): void {
      closed = true;
      for (const cancel of [...pending]) {
        cancel();
      }
    },
  };
}

/** Starts a real `node:http` server on loopback that records, delays and faults requests. */
export async function startSandboxServer(opts: StartSandboxOptions): Promise<StartedSandbox> {
  const host = opts.host ?? '127.0.0.1';
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const state = createControlState();
  // Ended on close() so requests sleeping for latency/delay faults stop waiting.
  const waits = createWaits();

  const server = createServer((req, res) => {
    void serve(req, res);
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://sandbox.invalid');
      const isControl =
        url.pathname === CONTROL_PREFIX.slice(0, -1) || url.pathname.startsWith(CONTROL_PREFIX);
      const limit = isControl ? Math.max(maxBodyBytes, CONTROL_MAX_BODY_BYTES) : maxBodyBytes;
      let rawBody: string;
      let tooLarge = false;
      try {
        rawBody = await readBody(req, limit);
      } catch (err) {
        if (!(err instanceof BodyTooLargeError)) {
          throw err;
        }
        rawBody = '';
        tooLarge = true;
      }
      const recorded = toRecordedRequest(req, url, rawBody);

      const tooLargeResponse: SandboxResponse = {
        status: 413,
        headers: { connection: 'close' },
        body: { error: `request body exceeds ${limit} bytes` },
      };
      if (isControl) {
        writeResponse(res, tooLarge ? tooLargeResponse : handleControlRequest(state, recorded));
        return;
      }

      state.record(recorded);
      if (tooLarge) {
        writeResponse(res, tooLargeResponse);
        return;
      }

      // The fault is taken on arrival so concurrent requests consume a sequence in arrival order.
      const fault = state.takeFault(recorded.method, recorded.path);
      const latency = state.nextLatency();
      if (latency > 0) {
        await waits.wait(latency);
      }
      if (fault?.kind === 'delay' && fault.ms > 0) {
        await waits.wait(fault.ms);
      }

      switch (fault?.kind) {
        case 'reset':
          req.socket.resetAndDestroy();
          return;
        case 'reset-after-commit':
          await callHandler(opts.handler, recorded);
          state.handled(recorded);
          req.socket.resetAndDestroy();
          return;
        case 'malformed':
          writeResponse(res, {
            status: fault.status ?? 200,
            headers: { 'content-type': 'application/json' },
            text: MALFORMED_JSON,
          });
          return;
        case 'status':
          writeResponse(res, faultResponse(fault));
          return;
        default: {
          const response = await callHandler(opts.handler, recorded);
          state.handled(recorded);
          writeResponse(res, response);
        }
      }
    } catch (err) {
      if (waits.closed || res.headersSent || res.destroyed) {
        res.destroy();
        return;
      }
      writeResponse(res, {
        status: 500,
        body: { error: `sandbox ${opts.name} failed: ${errorMessage(err)}` },
      });
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closed: Promise<void> | undefined;

  return {
    name: opts.name,
    url: `http://${urlHost}:${port}`,
    port,
    controls: state,
    close(): Promise<void> {
      closed ??= new Promise<void>((resolve, reject) => {
        waits.close();
        server.close((err) => (err ? reject(err) : resolve()));
        // Idle keep-alive sockets would otherwise hold close() open until they time out.
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

async function callHandler(
  handler: SandboxHandler,
  req: RecordedRequest,
): Promise<SandboxResponse> {
  return await handler(req);
}

function faultResponse(fault: Extract<Fault, { kind: 'status' }>): SandboxResponse {
  const body = fault.body === undefined ? { error: 'injected fault' } : fault.body;
  const response: SandboxResponse =
    typeof body === 'string'
      ? { status: fault.status, text: body }
      : { status: fault.status, body };
  if (fault.headers) {
    response.headers = fault.headers;
  }
  return response;
}

function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) {
        return;
      }
      size += chunk.length;
      if (size > maxBytes) {
        failed = true;
        chunks.length = 0;
        reject(new BodyTooLargeError());
        // Keep draining (and discarding) so the 413 can still be written.
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) {
        resolve(Buffer.concat(chunks).toString('utf8'));
      }
    });
    req.on('error', (err) => {
      if (!failed) {
        failed = true;
        reject(err);
      }
    });
  });
}

function toRecordedRequest(req: IncomingMessage, url: URL, rawBody: string): RecordedRequest {
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of url.searchParams) {
    const existing = query[key];
    if (existing === undefined) {
      query[key] = value;
    } else if (Array.isArray(existing)) {
      existing.push(value);
    } else {
      query[key] = [existing, value];
    }
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    }
  }
  return {
    method: (req.method ?? 'GET').toUpperCase(),
    path: url.pathname,
    query,
    headers,
    rawBody,
    body: parseJson(rawBody),
    at: Date.now(),
  };
}

function parseJson(text: string): unknown {
  if (text.trim() === '') {
    return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function writeResponse(res: ServerResponse, response: SandboxResponse): void {
  const headers: Record<string, string> = {};
  let payload: Buffer | undefined;
  if (response.text !== undefined) {
    payload = Buffer.from(response.text, 'utf8');
    headers['content-type'] = 'text/plain; charset=utf-8';
  } else if (response.body !== undefined) {
    payload = Buffer.from(JSON.stringify(response.body), 'utf8');
    headers['content-type'] = 'application/json';
  }
  for (const [name, value] of Object.entries(response.headers ?? {})) {
    headers[name.toLowerCase()] = value;
  }
  const bodyless = response.status === 204 || response.status === 304;
  if (payload !== undefined && !bodyless) {
    headers['content-length'] = String(payload.length);
  }
  res.writeHead(response.status, headers);
  res.end(bodyless ? undefined : payload);
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
