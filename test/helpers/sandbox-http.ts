import { afterAll, beforeAll, beforeEach } from 'vitest';

/** What a sandbox answered, read once: status, headers, the text and its JSON. */
export interface SandboxReply {
  status: number;
  headers: Headers;
  contentType: string | null;
  text: string;
  /** The body as JSON; `undefined` when empty (or, unless `strictJson`, not JSON). */
  // biome-ignore lint/suspicious/noExplicitAny: test replies are asserted structurally
  json: any;
}

export interface SandboxCallOptions {
  /** Request headers; `null` leaves a header out. */
  headers?: Record<string, string | null>;
  /** Sent as is when a string, JSON-encoded otherwise; none when undefined. */
  body?: unknown;
  /** A non-empty body that is not JSON fails the call instead of giving `json: undefined`. */
  strictJson?: boolean;
}

/** One real HTTP request to a sandbox (`url` is its base URL) through `fetch`. */
export async function sandboxCall(
  url: string,
  method: string,
  path: string,
  opts: SandboxCallOptions = {},
): Promise<SandboxReply> {
  const headers = Object.fromEntries(
    Object.entries(opts.headers ?? {}).filter((e): e is [string, string] => e[1] !== null),
  );
  const init: RequestInit = { method, headers };
  if (opts.body !== undefined) {
    init.body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  }
  const res = await fetch(`${url}${path}`, init);
  const text = await res.text();
  let json: unknown;
  if (opts.strictJson) {
    json = text === '' ? undefined : JSON.parse(text);
  } else {
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
  }
  return {
    status: res.status,
    headers: res.headers,
    contentType: res.headers.get('content-type'),
    text,
    json,
  };
}

/**
 * One sandbox for the test file that calls it: started in `beforeAll` by `start`, closed in
 * `afterAll`, its controls (recorded requests, faults, latency) reset before each test. The
 * returned object stands for the sandbox once `beforeAll` has run.
 */
export function useSandbox<S extends { controls: { reset(): void }; close(): Promise<void> }>(
  start: () => Promise<S>,
): S {
  let current: S | undefined;
  beforeAll(async () => {
    current = await start();
  });
  afterAll(async () => {
    await current?.close();
  });
  beforeEach(() => {
    current?.controls.reset();
  });
  return new Proxy({} as S, {
    get(_, key) {
      if (!current) {
        throw new Error('useSandbox: the sandbox starts in beforeAll; use it inside a test');
      }
      const value = Reflect.get(current, key, current) as unknown;
      return typeof value === 'function' ? value.bind(current) : value;
    },
  });
}
