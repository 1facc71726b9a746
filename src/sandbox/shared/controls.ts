import { z } from 'zod';
import { createRouter } from './router.js';
import type {
  Fault,
  FaultRule,
  RecordedRequest,
  SandboxControls,
  SandboxResponse,
} from './types.js';

/** Control endpoints live under this prefix; they are never recorded, delayed or faulted. */
export const CONTROL_PREFIX = '/__sandbox/';

/** Upper bound for latency and delay faults, so a typo cannot park a request for hours. */
const MAX_WAIT_MS = 10 * 60 * 1000;

const statusCode = z.number().int().min(100).max(599);
const waitMs = z.number().finite().min(0).max(MAX_WAIT_MS);

const faultSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('status'),
    status: statusCode,
    body: z.unknown().optional(),
    headers: z.record(z.string(), z.string()).optional(),
  }),
  z.object({ kind: z.literal('reset') }),
  z.object({ kind: z.literal('reset-after-commit') }),
  z.object({ kind: z.literal('malformed'), status: statusCode.optional() }),
  z.object({ kind: z.literal('delay'), ms: waitMs }),
  z.object({ kind: z.literal('pass') }),
]);

const faultRuleSchema = z.object({
  method: z.string().min(1).optional(),
  path: z.string().startsWith('/').optional(),
  faults: z.array(faultSchema).min(1),
});

const latencySchema = z.union([
  z.object({ ms: waitMs }),
  z
    .object({ min: waitMs, max: waitMs })
    .refine((v) => v.min <= v.max, { message: 'min must not exceed max' }),
]);

type Latency = { readonly min: number; readonly max: number };

interface StoredRule {
  readonly method: string | undefined;
  readonly path: string | undefined;
  readonly faults: Fault[];
}

/** The controls plus the hooks the server needs. */
export interface ControlState extends SandboxControls {
  record(req: RecordedRequest): void;
  /** Takes the next fault of the first rule matching this request, if any. */
  takeFault(method: string, path: string): Fault | undefined;
  /** Milliseconds to wait before handling the next request. */
  nextLatency(): number;
  /** Tells the `onHandled` listeners that this request's handler ran. */
  handled(req: RecordedRequest): void;
}

export function createControlState(): ControlState {
  const log: RecordedRequest[] = [];
  let rules: StoredRule[] = [];
  let latency: Latency = { min: 0, max: 0 };
  const listeners = new Set<(req: RecordedRequest) => void>();

  return {
    onHandled(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    handled(req) {
      for (const listener of listeners) {
        listener(req);
      }
    },
    get requests(): readonly RecordedRequest[] {
      return log.slice();
    },
    requestCount(filter) {
      const method = filter?.method?.toUpperCase();
      const path = filter?.path;
      return log.filter(
        (r) =>
          (method === undefined || r.method === method) && (path === undefined || r.path === path),
      ).length;
    },
    setLatency(ms) {
      const parsed = latencySchema.safeParse(typeof ms === 'number' ? { ms } : ms);
      if (!parsed.success) {
        throw new RangeError(`invalid latency: ${z.prettifyError(parsed.error)}`);
      }
      latency = 'ms' in parsed.data ? { min: parsed.data.ms, max: parsed.data.ms } : parsed.data;
    },
    inject(rule) {
      rules.push(toStoredRule(rule));
    },
    clearFaults() {
      rules = [];
    },
    clearRequests() {
      log.length = 0;
    },
    reset() {
      rules = [];
      latency = { min: 0, max: 0 };
      log.length = 0;
    },
    record(req) {
      log.push(req);
    },
    takeFault(method, path) {
      const upper = method.toUpperCase();
      const index = rules.findIndex(
        (r) =>
          (r.method === undefined || r.method === upper) &&
          (r.path === undefined || r.path === path),
      );
      const rule = rules[index];
      if (rule === undefined) {
        return undefined;
      }
      const fault = rule.faults.shift();
      if (rule.faults.length === 0) {
        rules.splice(index, 1);
      }
      return fault;
    },
    nextLatency() {
      return latency.min === latency.max
        ? latency.min
        : latency.min + Math.random() * (latency.max - latency.min);
    },
  };
}

/** Validates a rule (it may come from an HTTP body) and copies it so callers cannot mutate it. */
function toStoredRule(input: unknown): StoredRule {
  const parsed = faultRuleSchema.safeParse(input);
  if (!parsed.success) {
    throw new TypeError(`invalid fault rule: ${z.prettifyError(parsed.error)}`);
  }
  const faults = parsed.data.faults.map((f): Fault => {
    switch (f.kind) {
      case 'status': {
        const fault: Fault = { kind: 'status', status: f.status };
        if (f.body !== undefined) {
          fault.body = f.body;
        }
        if (f.headers !== undefined) {
          fault.headers = { ...f.headers };
        }
        return fault;
      }
      case 'malformed':
        return f.status === undefined
          ? { kind: 'malformed' }
          : { kind: 'malformed', status: f.status };
      case 'delay':
        return { kind: 'delay', ms: f.ms };
      default:
        return { kind: f.kind };
    }
  });
  return { method: parsed.data.method?.toUpperCase(), path: parsed.data.path, faults };
}

type ControlRoute = (state: ControlState, req: RecordedRequest) => SandboxResponse;

const ok: SandboxResponse = { status: 200, body: { ok: true } };

const controlRouter = createRouter<ControlRoute>()
  .on('GET', `${CONTROL_PREFIX}requests`, (state) => ({ status: 200, body: state.requests }))
  .on('DELETE', `${CONTROL_PREFIX}requests`, (state) => {
    state.clearRequests();
    return ok;
  })
  .on('POST', `${CONTROL_PREFIX}faults`, (state, req) =>
    applied(() => state.inject(req.body as FaultRule)),
  )
  .on('DELETE', `${CONTROL_PREFIX}faults`, (state) => {
    state.clearFaults();
    return ok;
  })
  .on('POST', `${CONTROL_PREFIX}latency`, (state, req) => {
    const body = req.body as { ms?: unknown } | undefined;
    return applied(() =>
      state.setLatency(
        (body !== null && typeof body === 'object' && 'ms' in body ? body.ms : body) as
          | number
          | { min: number; max: number },
      ),
    );
  })
  .on('POST', `${CONTROL_PREFIX}reset`, (state) => {
    state.reset();
    return ok;
  });

/**
 * Serves the control endpoints: `GET|DELETE /__sandbox/requests`, `POST|DELETE /__sandbox/faults`,
 * `POST /__sandbox/latency` (`{ms}` or `{min,max}`), `POST /__sandbox/reset`.
 */
export function handleControlRequest(state: ControlState, req: RecordedRequest): SandboxResponse {
  const match = controlRouter.match(req.method, req.path);
  switch (match.kind) {
    case 'found':
      return match.handler(state, req);
    case 'method-not-allowed':
      return {
        status: 405,
        headers: { allow: match.allow.join(', ') },
        body: { error: `method ${req.method} not allowed on ${req.path}` },
      };
    default:
      return { status: 404, body: { error: `unknown sandbox control endpoint ${req.path}` } };
  }
}

function badRequest(err: unknown): SandboxResponse {
  return { status: 400, body: { error: err instanceof Error ? err.message : String(err) } };
}

/** `ok` once `change` is applied; a change the state refuses (it throws) is a 400 saying why. */
function applied(change: () => void): SandboxResponse {
  try {
    change();
  } catch (err) {
    return badRequest(err);
  }
  return ok;
}
