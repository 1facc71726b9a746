/** The shapes every sandbox shares: recorded requests, faults, controls, handlers. */

/** One request as the sandbox received it. */
export interface RecordedRequest {
  method: string;
  /** Path without the query string, as sent (not percent-decoded). */
  path: string;
  query: Record<string, string | string[]>;
  /** Lower-cased names; raw values (tests assert auth headers). */
  headers: Record<string, string>;
  rawBody: string;
  /** The body parsed as JSON, or `undefined` when it is empty or not JSON. */
  body: unknown;
  /** `Date.now()` when the request arrived. */
  at: number;
}

export type Fault =
  /**
   * Answer with this instead of the real handler. The body is JSON-encoded; a string body is sent
   * as text/plain. Default body: `{"error":"injected fault"}`.
   */
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> }
  /** Destroy the socket without answering (TCP reset). */
  | { kind: 'reset' }
  /** Handle the request (the write is stored), then reset the socket instead of answering. */
  | { kind: 'reset-after-commit' }
  /** Answer `status` (default 200) as application/json with a truncated, unparsable body. */
  | { kind: 'malformed'; status?: number }
  /** Wait `ms`, then handle normally. */
  | { kind: 'delay'; ms: number }
  /** Handle normally (lets a sequence say "fail, pass, fail"). */
  | { kind: 'pass' };

/**
 * Faults are consumed one per matching request, in order; the rule is removed when empty.
 * `method` matches case-insensitively, `path` exactly (without query string); omitted = any.
 */
export interface FaultRule {
  method?: string;
  path?: string;
  faults: Fault[];
}

export interface SandboxControls {
  /** every request received (after faults are applied they are still recorded), oldest first */
  readonly requests: readonly RecordedRequest[];
  requestCount(filter?: { method?: string; path?: string }): number;
  /** fixed latency (or uniform random in [min,max]) added to every request before it is handled */
  setLatency(ms: number | { min: number; max: number }): void;
  inject(rule: FaultRule): void;
  clearFaults(): void;
  clearRequests(): void;
  /** clears faults, latency and the request log (not stored data) */
  reset(): void;
  /**
   * Calls `listener` after the handler of every (non-control) request ran, before its answer is
   * written — where a sandbox saves its data (`persist.ts`). Returns the unsubscribe function.
   */
  onHandled(listener: (req: RecordedRequest) => void): () => void;
}

/** `body` is sent as JSON; `text` as text/plain. An explicit content-type header wins. */
export interface SandboxResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  text?: string;
}

export type SandboxHandler = (req: RecordedRequest) => SandboxResponse | Promise<SandboxResponse>;
