import { createRequire } from 'node:module';
import type { Plugin } from 'graphql-yoga';
import type { Config } from '../config.js';
import type { IdempotencyGuard } from '../contacts/idempotency.js';
import { combineObservers } from '../http/observer.js';
import type { CallPolicy } from '../http/policy.js';
import { useMetricsEndpoint } from './endpoint.js';
import { createGatewayMetrics, type GatewayMetrics, type MetricsSources } from './metrics.js';
import { createTracing, type GatewayTracing } from './tracing.js';

/**
 * Metrics and tracing, wired into a gateway through a handful of seams: the HTTP client's
 * observer, the call policy, the idempotency guard and Yoga plugins. What is off costs nothing:
 * no observer, no wrapper, no plugin.
 */
export interface Observability {
  readonly metrics: GatewayMetrics | null;
  readonly tracing: GatewayTracing | null;
  /** The config with the HTTP observer every provider client gets (unchanged when both are off). */
  withObserver(config: Config): Config;
  wrapPolicy<P extends CallPolicy>(policy: P): P;
  /** The guard with replays counted (a replay never calls `run`). */
  observeWrites(guard: IdempotencyGuard): IdempotencyGuard;
  /** Counts the outcomes of every write the service carries out (dry runs excluded). */
  observeService<S extends object>(service: S): S;
  /** Right after the router and the request context: `/metrics`, and the operation spans. */
  early(graphqlEndpoint: string): Plugin[];
  /** Last: Yoga's Prometheus metrics. */
  plugins(): Plugin[];
  close(): Promise<void>;
}

/** The service's write methods, whose answers carry per-provider outcomes. */
const WRITE_METHODS = ['upsertContact', 'upsertContacts', 'updateContact'] as const;

export function createObservability(config: Config, sources: MetricsSources): Observability {
  const options = config.observability;
  const metrics = options.metrics.enabled ? createGatewayMetrics(sources) : null;
  const tracing = options.tracing ? createTracing(options.tracing, packageVersion()) : null;
  const observer = combineObservers(metrics?.http, tracing?.http);
  return {
    metrics,
    tracing,
    withObserver: (c) => (observer ? { ...c, http: { ...c.http, observer } } : c),
    wrapPolicy(policy) {
      const counted = metrics ? metrics.countRetries(policy) : policy;
      return tracing ? tracing.keepRequestContext(counted) : counted;
    },
    observeWrites(guard) {
      if (!metrics) {
        return guard;
      }
      return async (key, scope, run) => {
        let ran = false;
        const result = await guard(key, scope, () => {
          ran = true;
          return run();
        });
        if (!ran) {
          metrics.idempotentReplay();
        }
        return result;
      };
    },
    observeService(service) {
      if (!metrics) {
        return service;
      }
      const methods = service as Record<string, unknown>;
      const count = (result: unknown) => {
        metrics.writeOutcomes(result);
        return result;
      };
      for (const name of WRITE_METHODS) {
        const original = methods[name];
        if (typeof original === 'function') {
          // An own property over the prototype's method: callers keep calling `service.<name>`.
          // No async frame of its own: one `then` on the method's promise (a throw rejects, as
          // from an async function).
          methods[name] = (...args: unknown[]) => {
            try {
              return Promise.resolve(original.apply(service, args)).then(count);
            } catch (error) {
              return Promise.reject(error);
            }
          };
        }
      }
      return service;
    },
    early: (graphqlEndpoint) => [
      useMetricsEndpoint({ metrics, token: options.metrics.token, graphqlEndpoint }),
      ...(tracing ? [tracing.plugin] : []),
    ],
    plugins: () => (metrics ? [metrics.plugin] : []),
    async close() {
      await tracing?.shutdown();
    },
  };
}

/** The gateway's version (`service.version` of its spans), from package.json in source or build. */
function packageVersion(): string {
  const require = createRequire(import.meta.url);
  for (const path of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = require(path) as { name?: unknown; version?: unknown };
      if (pkg.name === 'contact-gateway' && typeof pkg.version === 'string') {
        return pkg.version;
      }
    } catch {
      // not at this depth
    }
  }
  return 'unknown';
}
