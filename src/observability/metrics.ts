import { performance } from 'node:perf_hooks';
import type { Plugin } from 'graphql-yoga';
import { Counter, Gauge, Registry } from 'prom-client';
import type { HttpObserver, ObservedResult, ObservedSpan } from '../http/observer.js';
import type { CallPolicy } from '../http/policy.js';
import type { ProviderId } from '../model/contact.js';
import type { UpstreamKind } from '../model/errors.js';
import type { ProviderRegistry } from '../providers/registry.js';
import { PROVIDER_IDS } from '../providers/registry.js';
import type { OutboxStore } from '../store/outbox.js';
import { FastCounter, FastHistogram } from './series.js';
import { useYogaMetrics } from './yoga-metrics.js';

/** Prefix of every metric the gateway defines itself. */
export const METRIC_PREFIX = 'contact_gateway_';

/**
 * Path segments an `operation` label may show as they are; any other segment (a contact id, an
 * email, an import id) becomes `{id}`. A fixed vocabulary keeps the label bounded and free of
 * contact data whatever a path carries.
 */
const STATIC_SEGMENTS = new Set([
  'api',
  'v1',
  'v2',
  'v3',
  'partner',
  'contacts',
  'contact',
  'import',
  'addresses',
  'email',
  'search',
  'token',
  'contactId',
  'data-fields',
  'mobileNumber',
  'contacts.upsert',
  'contacts.import',
  'contacts.getByEmail',
  'contacts.getByExternalID',
]);

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);

/** `PATCH /contacts/v3/email/{id}`: the method and the path with every non-fixed segment hidden. */
export function operationLabel(method: string, path: string): string {
  const template = path
    .split('/')
    .map((s) => (s === '' || STATIC_SEGMENTS.has(s) ? s : '{id}'))
    .join('/')
    .slice(0, 100);
  return `${METHODS.has(method) ? method : 'OTHER'} ${template}`;
}

/**
 * {@link operationLabel} of the fixed paths seen (those with no segment hidden, such as
 * `/api/contacts.upsert`), so that a request to one does not split and rebuild its path. A path
 * carrying an id is templated each time: never kept, it may hold contact data.
 */
const fixedOperations = new Map<string, Map<string, string>>();
const MAX_FIXED_OPERATIONS = 256;
let fixedCount = 0;

function observedOperation(method: string, path: string): string {
  // By method, then path: a known request builds no key string.
  const known = fixedOperations.get(method)?.get(path);
  if (known !== undefined) {
    return known;
  }
  const label = operationLabel(method, path);
  if (label === `${method} ${path}` && fixedCount < MAX_FIXED_OPERATIONS) {
    let paths = fixedOperations.get(method);
    if (!paths) {
      paths = new Map();
      fixedOperations.set(method, paths);
    }
    paths.set(path, label);
    fixedCount += 1;
  }
  return label;
}

/** `2xx`…`5xx` for an answer, else what replaced it: `timeout`, `cancelled`, `connection_error`. */
export function outcomeLabel(result: ObservedResult): string {
  if ('status' in result) {
    return result.status === 429 ? '429' : `${Math.floor(result.status / 100)}xx`;
  }
  return OUTCOME_LABELS[result.error.kind] ?? 'connection_error';
}

const OUTCOME_LABELS: Partial<Record<UpstreamKind, string>> = {
  timeout: 'timeout',
  cancelled: 'cancelled',
  bad_response: 'bad_response',
};

const BREAKER_VALUE = { CLOSED: 0, HALF_OPEN: 1, OPEN: 2 } as const;

/** What the gateway hands the metrics: where breakers and the outbox are read at scrape time. */
export interface MetricsSources {
  registry: () => ProviderRegistry;
  outbox: OutboxStore | null;
  now?: () => number;
}

/**
 * The gateway's metrics, in a registry of its own (never prom-client's global one: a process, such
 * as a test run, may hold many gateways). Every label is bounded: provider, a templated provider
 * path, an outcome class, an outcome status. Never an operation name, a key name or contact data.
 */
export interface GatewayMetrics {
  readonly registry: Registry;
  /** Counts and times every provider request (plugged into the HTTP client). */
  readonly http: HttpObserver;
  /** The Yoga plugin: operations, phases, errors and HTTP durations, without operation names. */
  readonly plugin: Plugin;
  /** The policy with retries counted (attempts beyond the first of each call). */
  countRetries<P extends CallPolicy>(policy: P): P;
  /** Counts each outcome of a write that was carried out (not replayed, not a dry run). */
  writeOutcomes(result: unknown): void;
  idempotentReplay(): void;
  /** The text exposition (reads breakers and the outbox first). */
  scrape(): Promise<{ contentType: string; body: string }>;
}

export function createGatewayMetrics(sources: MetricsSources): GatewayMetrics {
  const registry = new Registry();
  const now = sources.now ?? Date.now;
  // The per-request families are ./series.ts's (a series found by its label values).
  const requests = new FastCounter({
    name: `${METRIC_PREFIX}provider_requests_total`,
    help: 'HTTP requests sent to providers (each attempt), by provider, templated operation and outcome (2xx, 4xx, 429, 5xx, timeout, connection_error, cancelled, bad_response).',
    registers: [registry],
  });
  const duration = new FastHistogram({
    name: `${METRIC_PREFIX}provider_request_duration_seconds`,
    help: 'Duration of HTTP requests to providers (each attempt, until the body is read), by provider and templated operation.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [registry],
  });
  const outcomes = new FastCounter({
    name: `${METRIC_PREFIX}write_outcomes_total`,
    help: 'Per-provider outcomes of the writes carried out (replays and dry runs excluded), by provider and status.',
    registers: [registry],
  });
  const retries = new Counter({
    name: `${METRIC_PREFIX}retries_total`,
    help: 'Attempts made after the first one of a provider call (retries), by provider.',
    labelNames: ['provider'] as const,
    registers: [registry],
  });
  const replays = new Counter({
    name: `${METRIC_PREFIX}idempotent_replays_total`,
    help: 'Writes answered from an idempotency record (same key, same input) without calling providers.',
    registers: [registry],
  });
  new Gauge({
    name: `${METRIC_PREFIX}breaker_state`,
    help: 'Circuit breaker of each enabled provider: 0 closed, 1 half-open, 2 open.',
    labelNames: ['provider'] as const,
    registers: [registry],
    collect() {
      const providers = sources.registry();
      this.reset();
      for (const entry of providers.entries) {
        if (entry.adapter) {
          this.set({ provider: entry.id }, BREAKER_VALUE[providers.circuit(entry.id).state]);
        }
      }
    },
  });
  const depth = new Gauge({
    name: `${METRIC_PREFIX}outbox_depth`,
    help: 'Writes waiting in the outbox to be delivered.',
    registers: [registry],
  });
  const oldest = new Gauge({
    name: `${METRIC_PREFIX}outbox_oldest_age_seconds`,
    help: 'Age of the oldest write waiting in the outbox (0 when it is empty).',
    registers: [registry],
  });
  // Both outbox gauges from one query per scrape (prom-client would call each collect on its own).
  const readOutbox = async () => {
    const stats = sources.outbox ? await sources.outbox.stats() : null;
    depth.set(stats?.depth ?? 0);
    oldest.set(
      stats?.oldestCreatedAt ? Math.max(0, (now() - Date.parse(stats.oldestCreatedAt)) / 1000) : 0,
    );
  };
  for (const provider of PROVIDER_IDS) {
    retries.inc({ provider }, 0);
  }
  replays.inc(0);

  // @graphql-yoga/plugin-prometheus's families and labels (operation names, field names, paths
  // and URLs off), counted by a plugin of our own at a fraction of its per-request cost.
  const plugin = useYogaMetrics(registry);

  const providerFamilies = { requests, duration };
  const http: HttpObserver = {
    begin: ({ provider, method, path }) =>
      new ProviderSpan(providerFamilies, provider, method, path, performance.now()),
  };

  return {
    registry,
    http,
    plugin,
    countRetries(policy) {
      const counted = Object.create(policy) as typeof policy;
      // No async frame of its own: one `then` on the policy's promise.
      counted.execute = (call, fn) =>
        policy.execute(call, fn).then((attempted) => {
          if (attempted.attempts > 1) {
            retries.inc({ provider: call.provider }, attempted.attempts - 1);
          }
          return attempted;
        });
      return counted;
    },
    writeOutcomes(result) {
      for (const payload of payloadsOf(result)) {
        for (const o of payload.outcomes ?? []) {
          if (
            PROVIDER_IDS.includes(o.provider) &&
            typeof o.status === 'string' &&
            o.status !== 'DRY_RUN'
          ) {
            const { provider } = o;
            const status = o.status.slice(0, 20);
            (
              outcomes.at2(provider, status) ?? outcomes.add({ provider, status }, provider, status)
            ).inc();
          }
        }
      }
    },
    idempotentReplay() {
      replays.inc();
    },
    async scrape() {
      await readOutbox();
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}

/**
 * One provider request being timed: an instance of a class (its `end` on the prototype) rather
 * than an object literal with a closure per request.
 */
class ProviderSpan implements ObservedSpan {
  constructor(
    private readonly families: { requests: FastCounter; duration: FastHistogram },
    private readonly provider: ProviderId,
    private readonly method: string,
    private readonly path: string,
    private readonly started: number,
  ) {}

  end(result: ObservedResult): void {
    const { requests, duration } = this.families;
    const { provider } = this;
    const operation = observedOperation(this.method, this.path);
    const outcome = outcomeLabel(result);
    (
      requests.at3(provider, operation, outcome) ??
      requests.add({ provider, operation, outcome }, provider, operation, outcome)
    ).inc();
    (
      duration.at2(provider, operation) ??
      duration.add({ provider, operation }, provider, operation)
    ).observe((performance.now() - this.started) / 1000);
  }
}

interface PayloadLike {
  outcomes?: ReadonlyArray<{ provider: ProviderId; status: string }>;
}

/** The write payloads in a resolver's result: one payload, or a batch's items. */
function payloadsOf(result: unknown): PayloadLike[] {
  if (!result || typeof result !== 'object') {
    return [];
  }
  const items = (result as { items?: unknown }).items;
  if (Array.isArray(items)) {
    return items.filter((i): i is PayloadLike => !!i && typeof i === 'object');
  }
  return [result as PayloadLike];
}
