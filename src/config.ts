import { z } from 'zod';
import { DEFAULT_JSON_LIMITS, type JsonLimits } from './contacts/validation.js';
import type { HttpOptions } from './http/client.js';
import { type ProviderResilience, parseResilience } from './http/resilience-config.js';
import { type GatewayOptions, parseGatewayOptions } from './http-server/options.js';
import { parseServerOptions, type ServerOptions } from './http-server/server-options.js';
import { type LifecycleConfig, loadLifecycleConfig } from './lifecycle/config.js';
import type { ProviderId } from './model/contact.js';
import { type ObservabilityOptions, parseObservability } from './observability/config.js';
import { readProvider } from './providers/descriptor.js';
import { createEnvTools, intVar as int, optionalVar as optional } from './providers/env.js';
import { type AnyProvider, PROVIDERS, type ProviderConfigs } from './providers/registry.js';
import { Secret } from './secret.js';
import { SHARED_HORIZON_MS } from './store/due-gate.js';
import { DEFAULT_POOL_SIZE } from './store/pool-size.js';

export type { HttpOptions };
export { Secret };

export interface StorageOptions {
  /** PostgreSQL connection string (may hold a password); when set, state lives there. */
  databaseUrl: Secret | null;
  /** PostgreSQL: longest wait for a connection before the store counts as unavailable. @default 5000 */
  connectTimeoutMs: number;
  /** PostgreSQL: longest one statement may take (server `statement_timeout` and driver read timeout). @default 10000 */
  statementTimeoutMs: number;
  /** PostgreSQL: most connections the pool opens (`DATABASE_POOL_SIZE`). @default 4 */
  poolSize: number;
  /** Where the embedded database keeps its files (`GATEWAY_DATA_DIR`). @default './data' */
  dataDir: string;
  /** How long idempotency records are kept. @default 24 h */
  idempotencyTtlMs: number;
  /**
   * How long a key may stay "in progress" before it counts as abandoned (its process died) and a
   * new request with it runs again. Keep it above the longest write. @default 120000
   */
  idempotencyInProgressTtlMs: number;
  /** Keep writes whose retries ended on a retryable failure and deliver them later (QUEUED). @default true */
  outbox: boolean;
  /** How often the outbox is checked for due writes; 0 = never (tests drive it). @default 1000 */
  outboxPollMs: number;
  /** First wait before a queued write is tried again (doubles up to 10 min). @default 5000 */
  outboxBaseDelayMs: number;
  /** How long a taken outbox item is reserved for its taker before another may take it. @default 60000 */
  outboxLeaseMs: number;
  /**
   * PostgreSQL: the longest an idle replica goes without asking the database for queued writes
   * and jobs another replica added (its own it finds at once). @default 10000
   */
  replicaPollMs: number;
}

/**
 * The gateway's configuration. Each registered provider adds two fields (`src/providers/registry.ts`):
 * `<key>Options`, its tuning, and `<key>`, its config when its credentials are set (else null).
 */
export interface Config extends ProviderConfigs {
  port: number;
  host: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** `pretty` for people (default on a terminal), `json` lines for machines (default otherwise). */
  logFormat: 'json' | 'pretty' | 'auto';
  /** True when no provider has credentials: `npm start` then runs every sandbox in-process. */
  sandboxMode: boolean;
  /** Most inputs one operation carries, over all its `upsertContacts` (and `contacts`) fields. @default 5000 */
  maxBatchInputs: number;
  /** Most provider calls one request may cause (`GATEWAY_MAX_UPSTREAM_CALLS`). @default 2000 */
  maxUpstreamCalls: number;
  /** Bounds on JSON input values such as `customFields` (`GATEWAY_MAX_JSON_*`). */
  jsonLimits: JsonLimits;
  /** Durable state: identity map, idempotency records, outbox. */
  storage: StorageOptions;
  /** Write history, `writeUpdated`, webhooks, async batches (src/lifecycle/config.ts). */
  lifecycle: LifecycleConfig;
  /** API keys, operation limits and production defaults (`GATEWAY_*`, `NODE_ENV`). */
  gateway: GatewayOptions;
  /** Listener bounds, shutdown and readiness (`GATEWAY_*_TIMEOUT_MS`, `GATEWAY_MAX_CONNECTIONS`). */
  server: ServerOptions;
  http: HttpOptions;
  /** `/metrics` and tracing (`GATEWAY_METRICS_TOKEN`, `OTEL_*`). */
  observability: ObservabilityOptions;
  /** Retries, breaker, limits and timeout per provider (`RETRY_*`, `BREAKER_*`, `<P>_TIMEOUT_MS` …). */
  resilience: Readonly<Record<ProviderId, ProviderResilience>>;
}

export const DEFAULT_HTTP_OPTIONS: HttpOptions = {
  connections: null,
  connectTimeoutMs: 5_000,
  headersTimeoutMs: 15_000,
  bodyTimeoutMs: 30_000,
  keepAliveTimeoutMs: 4_000,
  maxBodyBytes: 10 * 1024 * 1024,
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n- ${problems.join('\n- ')}`);
    this.name = 'ConfigError';
  }
}

/** The gateway's own variables; each provider's are in its descriptor (`env`). */
const EnvSchema = z.object({
  PORT: int(4000, 0, 65535),
  HOST: z.string().default('127.0.0.1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty', 'auto']).default('auto'),
  MAX_BATCH_INPUTS: int(5000, 1, 100_000),
  GATEWAY_MAX_UPSTREAM_CALLS: int(2000, 1, 1_000_000),
  GATEWAY_MAX_JSON_DEPTH: int(DEFAULT_JSON_LIMITS.maxDepth, 1, 32),
  GATEWAY_MAX_JSON_BYTES: int(DEFAULT_JSON_LIMITS.maxBytes, 2, 1024 * 1024),
  GATEWAY_MAX_JSON_KEYS: int(DEFAULT_JSON_LIMITS.maxKeys, 1, 10_000),
  GATEWAY_MAX_JSON_STRING_LENGTH: int(DEFAULT_JSON_LIMITS.maxStringLength, 1, 1024 * 1024),
  DATABASE_URL: optional,
  DATABASE_CONNECT_TIMEOUT_MS: int(5000, 100, 600_000),
  DATABASE_STATEMENT_TIMEOUT_MS: int(10_000, 100, 3_600_000),
  DATABASE_POOL_SIZE: int(DEFAULT_POOL_SIZE, 1, 1000),
  GATEWAY_DATA_DIR: z.string().trim().min(1).default('./data'),
  IDEMPOTENCY_TTL_MS: int(24 * 60 * 60 * 1000, 1000, 30 * 24 * 60 * 60 * 1000),
  IDEMPOTENCY_IN_PROGRESS_TTL_MS: int(120_000, 100, 24 * 60 * 60 * 1000),
  GATEWAY_OUTBOX: z.enum(['on', 'off']).default('on'),
  OUTBOX_POLL_MS: int(1000, 0, 3_600_000),
  OUTBOX_BASE_DELAY_MS: int(5000, 1, 3_600_000),
  OUTBOX_LEASE_MS: int(60_000, 100, 3_600_000),
  GATEWAY_REPLICA_POLL_MS: int(SHARED_HORIZON_MS, 10, 3_600_000),
  HTTP_CONNECTIONS: z.coerce.number().int().min(1).max(1024).optional(),
  HTTP_CONNECT_TIMEOUT_MS: int(DEFAULT_HTTP_OPTIONS.connectTimeoutMs, 1, 600_000),
});

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !(value instanceof Secret)) {
    for (const v of Object.values(value)) {
      deepFreeze(v);
    }
    Object.freeze(value);
  }
  return value;
}

/**
 * Reads the environment (the only reader of `process.env`). A provider is enabled when its
 * credentials are set; a half-configured provider fails fast, listing every missing variable.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  const own = PROVIDERS.map((p) => z.object(p.env).safeParse(env));
  const issues = [parsed, ...own].flatMap((r) => (r.success ? [] : r.error.issues));
  if (!parsed.success || issues.length > 0) {
    throw new ConfigError(issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];
  const tools = createEnvTools(problems);
  const providers: Record<string, unknown> = {};
  for (const [i, p] of PROVIDERS.entries()) {
    const { options, config } = readProvider(p as unknown as AnyProvider, own[i]!.data, tools);
    providers[`${p.key}Options`] = options;
    providers[p.key] = config;
  }

  const gateway = parseGatewayOptions(env, e.HOST, problems);
  const resilience = parseResilience(env, problems);
  const observability = parseObservability(env, gateway.apiKeys.length > 0, problems);
  const server = parseServerOptions(env, problems);

  const lifecycle = loadLifecycleConfig(env, problems);
  if (problems.length > 0) {
    throw new ConfigError(problems);
  }

  return deepFreeze({
    lifecycle,
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    sandboxMode: PROVIDERS.every((p) => providers[p.key] === null),
    maxBatchInputs: e.MAX_BATCH_INPUTS,
    maxUpstreamCalls: e.GATEWAY_MAX_UPSTREAM_CALLS,
    jsonLimits: {
      maxDepth: e.GATEWAY_MAX_JSON_DEPTH,
      maxBytes: e.GATEWAY_MAX_JSON_BYTES,
      maxKeys: e.GATEWAY_MAX_JSON_KEYS,
      maxStringLength: e.GATEWAY_MAX_JSON_STRING_LENGTH,
    },
    storage: {
      databaseUrl: e.DATABASE_URL ? new Secret(e.DATABASE_URL) : null,
      connectTimeoutMs: e.DATABASE_CONNECT_TIMEOUT_MS,
      statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
      poolSize: e.DATABASE_POOL_SIZE,
      dataDir: e.GATEWAY_DATA_DIR,
      idempotencyTtlMs: e.IDEMPOTENCY_TTL_MS,
      idempotencyInProgressTtlMs: e.IDEMPOTENCY_IN_PROGRESS_TTL_MS,
      outbox: e.GATEWAY_OUTBOX === 'on',
      outboxPollMs: e.OUTBOX_POLL_MS,
      outboxBaseDelayMs: e.OUTBOX_BASE_DELAY_MS,
      outboxLeaseMs: e.OUTBOX_LEASE_MS,
      replicaPollMs: e.GATEWAY_REPLICA_POLL_MS,
    },
    gateway,
    server,
    http: {
      ...DEFAULT_HTTP_OPTIONS,
      connections: e.HTTP_CONNECTIONS ?? null,
      connectTimeoutMs: e.HTTP_CONNECT_TIMEOUT_MS,
    },
    observability,
    resilience,
    ...(providers as unknown as ProviderConfigs),
  });
}

/** The provider ids that have credentials in this config. */
export function configuredProviders(config: Config): ProviderId[] {
  return PROVIDERS.filter((p) => config[p.key] !== null).map((p) => p.id);
}
