import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import { routeOf, sentPath } from './routes.js';

/** The public path of the readiness answer (see `PUBLIC_PATHS`). */
export const READY_PATH = '/ready';

/** What `/ready` says: ready, or why not. */
export type ReadyState = { ready: true } | { ready: false; reason: 'draining' | 'store' };

/**
 * Whether this instance should get traffic: not draining (shutdown begun), and its store answers
 * `SELECT 1` within `timeoutMs`. The store's own message (which server, why) goes to the log
 * only; `/ready` is public and says `draining` or `store`.
 */
export interface Readiness {
  readonly draining: boolean;
  /** From now on `/ready` answers 503 `draining`. */
  drain(): void;
  check(): Promise<ReadyState>;
}

export interface ReadinessOptions {
  /** Resolves `null` when the store answered within `timeoutMs`, else why not. None = no store to check. */
  ping?: ((timeoutMs: number) => Promise<string | null>) | undefined;
  /** `GATEWAY_READY_TIMEOUT_MS`. @default 1000 */
  timeoutMs: number;
  logger: Logger;
}

export function createReadiness(options: ReadinessOptions): Readiness {
  let draining = false;
  let lastProblem: string | null = null;
  return {
    get draining() {
      return draining;
    },
    drain() {
      draining = true;
    },
    async check() {
      if (draining) {
        return { ready: false, reason: 'draining' };
      }
      const problem = options.ping ? await options.ping(options.timeoutMs) : null;
      // One log line per change, not one per probe.
      if (problem !== lastProblem) {
        if (problem) {
          options.logger.warn({ store: problem }, `not ready: store: ${problem}`);
        } else {
          options.logger.info('ready: the store answers again');
        }
        lastProblem = problem;
      }
      return problem ? { ready: false, reason: 'store' } : { ready: true };
    },
  };
}

const REASONS: Record<'draining' | 'store', string> = {
  draining: 'shutting down: finishing the requests in flight',
  store: 'the store (identity map, idempotency, outbox) did not answer in time',
};

/**
 * Answers `/ready` (exact path, no key): `200 {"status":"ready"}`, or `503 {"status":"unavailable",
 * "reason":"draining"|"store","message":…}`. Goes right after the router, which has already sent
 * every other path elsewhere and answered `/health` (alive) itself.
 */
export function useReadiness(readiness: Readiness): Plugin {
  return {
    // Not async: every other request returns synchronously, so Yoga's request pipeline stays on
    // its synchronous path.
    onRequest({ request, fetchAPI, endResponse }) {
      if (routeOf(request) !== 'public' || sentPath(request) !== READY_PATH) {
        return;
      }
      return answer(endResponse, fetchAPI);
    },
  };

  async function answer(
    endResponse: (response: Response) => void,
    fetchAPI: { Response: typeof Response },
  ): Promise<void> {
    const state = await readiness.check();
    const body = state.ready
      ? { status: 'ready' }
      : { status: 'unavailable', reason: state.reason, message: REASONS[state.reason] };
    endResponse(
      new fetchAPI.Response(JSON.stringify(body), {
        status: state.ready ? 200 : 503,
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'cache-control': 'no-store',
        },
      }),
    );
  }
}
