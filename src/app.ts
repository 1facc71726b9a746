import { setMaxListeners } from 'node:events';
import type { RequestListener } from 'node:http';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { useDisableIntrospection } from '@graphql-yoga/plugin-disable-introspection';
import type { DocumentNode } from 'graphql';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import { useApiKeyAuth } from './auth/plugin.js';
import type { Config } from './config.js';
import { createIdempotencyGuard } from './contacts/idempotency.js';
import { ContactsService } from './contacts/service.js';
import type { GraphQLContext } from './context.js';
import { GRAPHIQL_OPTIONS, renderOfflineGraphiQL } from './graphiql.js';
import type { CallPolicy } from './http/policy.js';
import { createResiliencePolicy } from './http/resilience.js';
import { useBodyLimit } from './http-server/body-limit.js';
import { upstreamBudget } from './http-server/budget.js';
import { corsForOrigins, useVaryOrigin } from './http-server/cors.js';
import { useGraphQLExecute, useValidationCache } from './http-server/engine.js';
import {
  isDeferredLog,
  maskError,
  rootError,
  useRequestParseErrors,
} from './http-server/errors.js';
import { createReadiness, type Readiness, useReadiness } from './http-server/health.js';
import { createFastLane, type FastLane } from './http-server/lane.js';
import {
  listArgumentLimit,
  NESTING_ALLOWANCE,
  useNestingLimit,
  useNoSuggestions,
  useOperationLimits,
} from './http-server/limits.js';
import { useKeyRateLimit } from './http-server/rate-limit.js';
import {
  REQUEST_ID_HEADER,
  requestLogger,
  requestState,
  useRequestContext,
} from './http-server/request-context.js';
import { createNodeListener, useExactRoutes, YOGA_HEALTH_CHECK_OFF } from './http-server/routes.js';
import { BatchRunner, createMemoryBatchStore } from './lifecycle/batches.js';
import { Lifecycle } from './lifecycle/index.js';
import { createMemoryJobStore } from './lifecycle/jobs.js';
import { createLogger, scrubLogText } from './logger.js';
import type { ProviderId } from './model/contact.js';
import { createObservability } from './observability/index.js';
import { createRegistry, type ProviderRegistry } from './providers/registry.js';
import { memoryRateLimiters } from './rate-limiters.js';
import { schema } from './schema/index.js';
import { createMemoryIdempotencyStore, type IdempotencyStore } from './store/idempotency.js';
import { createMemoryIdentityStore, type IdentityStore } from './store/identity.js';
import type { GatewayStores } from './store/open.js';
import { createMemoryOutboxStore, type OutboxStore } from './store/outbox.js';

export interface GatewayDeps {
  logger?: Logger;
  /**
   * The durable stores (`openStores`): identity map, idempotency records and outbox, closed with
   * the gateway. Without them each store is in memory (or the one given below).
   */
  stores?: GatewayStores;
  /** @default the embedded in-memory identity map */
  store?: IdentityStore;
  /** @default the embedded in-memory idempotency records (24 h) */
  idempotency?: IdempotencyStore;
  /** @default an in-memory outbox (when `config.storage.outbox`) */
  outbox?: OutboxStore;
  /** @default retries, breaker and limits per provider from `config.resilience` */
  policy?: CallPolicy;
  /** Providers whose URL points at an in-process sandbox (reported as SANDBOX). */
  sandboxed?: ReadonlySet<ProviderId>;
  /** Shared undici dispatcher for every provider (tests); by default each origin gets its own Pool. */
  dispatcher?: Dispatcher;
  /** Serve plain JSON POSTs on the fast lane (src/http-server/lane.ts). @default true */
  fastLane?: boolean;
  /**
   * Run queries and mutations compiled by graphql-jit once a document runs again
   * (`compiledExecute` in src/http-server/engine.ts); false: graphql-js's `execute` always.
   * @default true
   */
  compileOperations?: boolean;
}

export interface Gateway {
  yoga: YogaServerInstance<Record<string, never>, GraphQLContext>;
  /** The node:http request listener (`createServer(gateway.listener)`): `yoga` behind a guard for requests it cannot build a URL for, with the fast lane in front. */
  listener: RequestListener;
  /** The fast lane's counts (null when it is off). */
  lane: FastLane['stats'] | null;
  registry: ProviderRegistry;
  service: ContactsService;
  lifecycle: Lifecycle;
  store: IdentityStore;
  /** What `/ready` answers; `drain()` turns it to 503 (shutdown begun). */
  readiness: Readiness;
  /** Stops for shutdown: readiness 503 and no new outbox deliveries (those running finish). */
  drain(): void;
  /** Stops outbox delivery, gives back this instance's outbox leases, closes providers and stores. */
  close(): Promise<void>;
}

/** Parsed documents (and parse errors) Yoga keeps by their text, as many as its default. */
const PARSE_CACHE_MAX = 1024;

/** Yoga's log arguments as one line, credentials and PII scrubbed (errors may quote connection strings). */
function logText(args: unknown[]): string {
  return scrubLogText(
    args
      .map((a) =>
        a instanceof Error ? `${rootError(a).name}: ${rootError(a).message}` : String(a),
      )
      .join(' '),
  );
}

/** Yoga's log arguments as a pino call: the text, plus the underlying error (scrubbed stack) as `err`. */
function logArgs(args: unknown[]): [Record<string, unknown>, string] {
  const error = args.find((a): a is Error => a instanceof Error);
  return [error ? { err: rootError(error) } : {}, logText(args)];
}

/** Header a browser must send on GET (and on "simple" POSTs) so that a cross-site form cannot run an operation. */
export const CSRF_HEADER = 'graphql-require-preflight';

/** Builds the gateway (no listening): tests call `gateway.yoga.fetch(...)`. */
export function createGateway(config: Config, deps: GatewayDeps = {}): Gateway {
  const logger = deps.logger ?? createLogger(config.logLevel);
  const store = deps.stores?.identity ?? deps.store ?? createMemoryIdentityStore();
  const idempotencyStore =
    deps.stores?.idempotency ??
    deps.idempotency ??
    createMemoryIdempotencyStore(config.storage.idempotencyTtlMs, {
      inProgressTtlMs: config.storage.idempotencyInProgressTtlMs,
    });
  const outbox = config.storage.outbox
    ? (deps.stores?.outbox ?? deps.outbox ?? createMemoryOutboxStore())
    : null;
  // Breakers are read from the registry at scrape time (it is built just below).
  const observability = createObservability(config, { registry: () => registry, outbox });
  const idempotent = observability.observeWrites(createIdempotencyGuard(idempotencyStore));
  const limiters = deps.stores?.rateLimiters ?? memoryRateLimiters;
  const policy =
    deps.policy ?? createResiliencePolicy((id) => config.resilience[id], Date.now, limiters);
  const registry = createRegistry(observability.withObserver(config), {
    policy: observability.wrapPolicy(policy),
    ...(deps.sandboxed ? { sandboxed: deps.sandboxed } : {}),
    ...(deps.dispatcher ? { dispatcher: deps.dispatcher } : {}),
  });
  const lifecycle = new Lifecycle({
    config: config.lifecycle,
    outbox,
    jobs: deps.stores?.jobs ?? createMemoryJobStore(),
    logger,
    leaseMs: config.storage.outboxLeaseMs,
  });
  const service = observability.observeService(
    new ContactsService({
      registry,
      store,
      logger,
      ...(outbox ? { outbox: lifecycle.track(outbox) } : {}),
      outboxBaseDelayMs: config.storage.outboxBaseDelayMs,
      jsonLimits: config.jsonLimits,
    }),
  );
  lifecycle.batches = new BatchRunner(deps.stores?.batches ?? createMemoryBatchStore(), {
    service,
    identity: store,
    lifecycle,
    jsonLimits: config.jsonLimits,
  });
  const delivery = startOutboxDelivery(service, outbox, config, logger);
  lifecycle.start();
  const readiness = createReadiness({
    ping: deps.stores?.ping,
    timeoutMs: config.server.readyTimeoutMs,
    logger,
  });
  const options = config.gateway;
  const graphqlEndpoint = '/graphql';

  // Order matters for onRequest: the exact router first (404 for any other path), then the
  // request id, the key and its rate limit, all before the body is read. Limits run at
  // parse/validate/execute start, i.e. before any resolver.
  const plugins = [
    useExactRoutes({ graphqlEndpoint }),
    // The item and upstream-call limits, then graphql-js's execute: one onExecute hook, first
    // (a plugin after it may still wrap the execute function it sets).
    useGraphQLExecute(
      [
        listArgumentLimit(config.maxBatchInputs),
        upstreamBudget({ registry, maxCalls: config.maxUpstreamCalls }),
      ],
      { compile: deps.compileOperations !== false },
    ),
    useReadiness(readiness),
    useRequestContext({ logger }),
    ...observability.early(graphqlEndpoint),
    useApiKeyAuth({ keys: options.apiKeys }),
    useKeyRateLimit({ perMinute: options.rateLimitPerMinute, limiters }),
    useRequestParseErrors(),
    ...(options.corsOrigins.length > 0 ? [useVaryOrigin()] : []),
    useCSRFPrevention({ requestHeaders: [CSRF_HEADER] }),
    ...useOperationLimits(options.limits),
    useNestingLimit(options.limits.maxDepth + NESTING_ALLOWANCE),
    ...(options.graphiql ? [] : [useDisableIntrospection()]),
    ...(options.production ? useNoSuggestions() : []),
    ...observability.plugins(),
    useBodyLimit(options.maxBodyBytes),
    // After every plugin that adds a validation rule.
    useValidationCache(),
  ];
  const yoga = createYoga<Record<string, never>, GraphQLContext>({
    schema,
    graphqlEndpoint,
    // `/health` is answered by the router (useExactRoutes): Yoga's matches any URL ending in it.
    healthCheckEndpoint: YOGA_HEALTH_CHECK_OFF,
    landingPage: false,
    // Documents by text stay cached by Yoga's plugin, in LRU caches without a TTL: a parse of a
    // text never goes stale, and with a TTL lru-cache armed a 1 ms timer on every lookup (to
    // forget its cached clock), one more event-loop wake-up per request. Validation results are
    // cached by useValidationCache.
    parserAndValidationCache: {
      documentCache: new LRUCache<string, DocumentNode>({ max: PARSE_CACHE_MAX }),
      errorCache: new LRUCache<string, object>({ max: PARSE_CACHE_MAX }),
      validationCache: false,
    },
    maskedErrors: { maskError },
    // Enforced by useBodyLimit (last plugin), which skips the counting stream where Node's parser
    // already bounds the body.
    maxRequestBodySize: false,
    // No file uploads here: multipart requests are refused (415) instead of parsed.
    multipart: false,
    graphiql: options.graphiql ? GRAPHIQL_OPTIONS : false,
    renderGraphiQL: renderOfflineGraphiQL,
    // Never Yoga's default (which echoes any Origin with credentials): no CORS headers at all
    // unless origins are configured, and then only to those.
    cors:
      options.corsOrigins.length > 0
        ? corsForOrigins(options.corsOrigins, {
            methods: ['GET', 'POST'],
            allowedHeaders: [
              'authorization',
              'content-type',
              'idempotency-key',
              REQUEST_ID_HEADER,
              CSRF_HEADER,
            ],
            exposedHeaders: [REQUEST_ID_HEADER, 'retry-after'],
            maxAge: 600,
          })
        : false,
    plugins,
    logging: {
      // Yoga's own debug lines ("Processing GraphQL Parameters" …) know no request, so they could
      // not carry its id: the request context writes its own debug line per request instead.
      debug: () => undefined,
      info: (...args) => {
        if (logger.isLevelEnabled('info')) {
          logger.info(logText(args));
        }
      },
      warn: (...args) => logger.warn(...logArgs(args)),
      // A masked error's original is logged by its request (with the request id), not here.
      error: (...args) => {
        if (!(args.length === 1 && isDeferredLog(args[0]))) {
          logger.error(...logArgs(args));
        }
      },
    },
    context: ({ request }) => {
      const state = requestState(request);
      return {
        service,
        lifecycle,
        registry,
        idempotent,
        idempotencyHeader: request.headers.get('idempotency-key'),
        caller: state.caller,
        requestId: state.id,
        scope: {
          stats: { upstreamRequests: 0, maxUpstreamRequests: config.maxUpstreamCalls },
          signal: requestSignal(request.signal),
          // Made on first use: most requests log nothing but their `request` line.
          get log() {
            return requestLogger(state, logger) ?? logger;
          },
        },
      };
    },
  });

  const lane =
    deps.fastLane === false || observability.tracing
      ? null
      : createFastLane({
          yoga: yoga as unknown as YogaServerInstance<Record<string, never>, object>,
          plugins,
          graphqlEndpoint,
          maxBodyBytes: options.maxBodyBytes,
          keysRequired: options.apiKeys.length > 0,
          logger,
        });
  return {
    yoga,
    listener: createNodeListener(yoga, lane ?? undefined),
    lane: lane?.stats ?? null,
    registry,
    service,
    lifecycle,
    store,
    readiness,
    drain() {
      readiness.drain();
      delivery.pause();
    },
    async close() {
      readiness.drain();
      await delivery.stop();
      await lifecycle.stop();
      const released = await outbox?.releaseLeases().catch(() => 0);
      if (released) {
        logger.info({ released }, `outbox: ${released} lease(s) given back for other instances`);
      }
      await registry.close();
      await observability.close();
      if (deps.stores) {
        await deps.stores.close();
      } else {
        await store.close();
        await idempotencyStore.close();
        await outbox?.close();
      }
    },
  };
}

/**
 * Delivers due outbox items every `OUTBOX_POLL_MS`, one run at a time, until stopped. Once a run
 * finds no write waiting, the timer stops until this process enqueues or changes a write, and on
 * PostgreSQL (other replicas enqueue) for `GATEWAY_REPLICA_POLL_MS` (10 s) at most
 * (`OutboxStore.sleep`, src/store/due-gate.ts).
 */
export function startOutboxDelivery(
  service: Pick<ContactsService, 'deliverOutbox'>,
  store: OutboxStore | null,
  config: Pick<Config, 'storage'>,
  logger: Logger,
) {
  const { outbox, outboxPollMs, outboxLeaseMs } = config.storage;
  let running: Promise<unknown> | null = null;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  const arm = () => {
    timer = setInterval(tick, outboxPollMs);
    timer.unref();
  };
  const wake = () => {
    if (!stopped && !timer) {
      arm();
    }
  };
  const tick = () => {
    if (running || stopped) {
      return;
    }
    running = service
      .deliverOutbox({ leaseMs: outboxLeaseMs, poll: true })
      .catch((err: unknown) => logger.error({ err }, 'outbox delivery failed'))
      .finally(() => {
        running = null;
        if (!stopped && timer && store?.sleep?.(wake)) {
          clearInterval(timer);
          timer = null;
        }
      });
  };
  if (outbox && outboxPollMs > 0) {
    arm();
  }
  return {
    /** No new runs; the one running goes on. */
    pause() {
      stopped = true;
    },
    async stop() {
      stopped = true;
      if (timer) {
        clearInterval(timer);
        timer = null;
      }
      await running;
    },
  };
}

/**
 * The request's abort signal, handed to every provider call it makes: a batch makes hundreds, each
 * adding a listener, which is expected here and not the leak Node's default limit of 10 warns about.
 * The fast lane's (a ClientGone, not an EventTarget) has no such limit.
 */
function requestSignal(signal: AbortSignal): AbortSignal {
  if (signal instanceof EventTarget) {
    setMaxListeners(0, signal);
  }
  return signal;
}
