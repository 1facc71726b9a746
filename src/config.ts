import { z } from 'zod';
import { DEFAULT_JSON_LIMITS, type JsonLimits } from './contacts/validation.js';
import type { HttpObserver } from './http/observer.js';
import { type ProviderResilience, parseResilience } from './http/resilience-config.js';
import { type GatewayOptions, parseGatewayOptions } from './http-server/options.js';
import { parseServerOptions, type ServerOptions } from './http-server/server-options.js';
import { type LifecycleConfig, loadLifecycleConfig } from './lifecycle/config.js';
import { CONTACT_FIELDS, type ProviderId } from './model/contact.js';
import { type ObservabilityOptions, parseObservability } from './observability/config.js';
import { Secret } from './secret.js';

export { Secret };

/** Options of the undici Pool each provider origin gets. */
export interface HttpOptions {
  /** @default 10 */
  connections: number;
  /** @default 5000 */
  connectTimeoutMs: number;
  /** @default 15000 */
  headersTimeoutMs: number;
  /** @default 30000 */
  bodyTimeoutMs: number;
  /** @default 4000 */
  keepAliveTimeoutMs: number;
  /** Largest response body read before the call fails. @default 10 MiB */
  maxBodyBytes: number;
  /** Metrics and tracing of every provider request (set by the gateway, not by the environment). */
  observer?: HttpObserver;
}

/** Notifuse tuning that applies whether it runs live or in the sandbox. */
export interface NotifuseOptions {
  /** Contacts per `contacts.import` request (Notifuse writes 500 per statement). @default 500 */
  batchSize: number;
  /** unified custom field key → Notifuse column (`custom_string_1` …). Column names pass through as they are. */
  customFieldMap: Readonly<Record<string, string>>;
  /** Parallel `contacts.getByEmail` calls per read batch. @default 8 */
  readConcurrency: number;
}

export interface NotifuseConfig extends NotifuseOptions {
  url: string;
  apiKey: Secret;
  workspaceId: string;
}

/** Dotdigital tuning that applies whether it runs live or in the sandbox. */
export interface DotdigitalOptions {
  /**
   * Unified field (dotted path such as `firstName`, `address.postalCode`, or `customFields.<key>`)
   * → Dotdigital data field name. Merged over the adapter's defaults (FIRSTNAME, LASTNAME, …).
   */
  dataFieldMap: Readonly<Record<string, string>>;
  /** Contacts per `PUT /contacts/v3/import`. @default 1000 */
  batchSize: number;
  /** Longest the gateway polls an import before reporting its contacts QUEUED. @default 20000 */
  importMaxWaitMs: number;
  /** First poll delay; doubles up to 5 s. @default 200 */
  importPollIntervalMs: number;
  /** Parallel single calls (PATCH updates, GET reads). @default 8 */
  concurrency: number;
  /**
   * Create a data field the account lacks (`POST /v2/data-fields`) before writing it, instead of
   * dropping it (`DOTDIGITAL_CREATE_DATA_FIELDS=1`). @default false
   */
  createDataFields?: boolean;
  /** How long the account's data field list (`GET /v2/data-fields`) is reused. @default 300000 */
  dataFieldsTtlMs?: number;
}

export interface DotdigitalConfig extends DotdigitalOptions {
  url: string;
  username: string;
  password: Secret;
}
/** Where a unified field goes in Salesforce Marketing Cloud's Contact Builder data model. */
export interface SalesforceMcAttributeTarget {
  /** Attribute set (attribute group) name, e.g. `Email Demographics`. */
  set: string;
  /** Attribute name inside that set, e.g. `First Name`. */
  attribute: string;
}

/** Salesforce Marketing Cloud tuning that applies whether it runs live or in the sandbox. */
export interface SalesforceMcOptions {
  /**
   * What becomes the `contactKey` of a new contact: `externalId` uses the external id and falls
   * back to the email; `email` always uses the email. A linked contact keeps its key (remote id).
   * @default 'externalId'
   */
  contactKey: 'externalId' | 'email';
  /**
   * Unified field (`firstName`, `address.city`, `customFields.<key>` …) → attribute set and
   * attribute. Merged over the adapter's defaults; `null` removes a default. `email`, `phone` and
   * `emailFormat` are channel attributes with fixed places and cannot be remapped.
   */
  attributeMap: Readonly<Record<string, SalesforceMcAttributeTarget | null>>;
  /** Parallel single calls (the Contacts API writes one contact per request). @default 8 */
  concurrency: number;
  /** Emails per `POST /contacts/v1/addresses/email/search`. @default 50 */
  searchBatchSize: number;
  /** MobileConnect `Locale` (country code) when neither the number nor the address gives one. @default 'US' */
  defaultLocale: string;
  /** Seconds before `expires_in` runs out at which a cached token is renewed. @default 60 */
  tokenRefreshSkewSeconds: number;
  /**
   * Look an unlinked contact key up (`POST /contacts/v1/addresses/search/ContactKey`, scope
   * `audiences_read`) before creating it, so that an existing contact is PATCHed and keeps its
   * HTML Enabled and MobileConnect Status (`SFMC_KEY_LOOKUP`). Off: POST at once (one call less;
   * the create defaults then overwrite those values of a contact made elsewhere). @default true
   */
  keyLookup?: boolean;
}

export interface SalesforceMcConfig extends SalesforceMcOptions {
  /** Tenant auth base, e.g. `https://{subdomain}.auth.marketingcloudapis.com`. */
  authUrl: string;
  clientId: string;
  clientSecret: Secret;
  /** MID of the business unit to act in; `null` = the one that owns the installed package. */
  accountId: string | null;
}
/** Digital Onboarding tuning that applies whether it runs live or in the sandbox. */
export interface DigitalOnboardingOptions {
  /**
   * Contacts per bulk `POST /v2/partner/contacts` (`{items}`). The docs publish no maximum; set it
   * to your account's limit. @default 100
   */
  batchSize: number;
  /** Parallel calls (bulk chunks, single PATCHes, reads). @default 8 */
  concurrency: number;
  /** Seconds before a fetched partner token's `expires_in` runs out at which it is renewed. @default 60 */
  tokenRefreshSkewSeconds?: number;
}

/** OAuth2 client credentials: the gateway fetches and renews partner tokens itself. */
export interface DigitalOnboardingClientCredentials {
  clientId: string;
  clientSecret: Secret;
  /** Token endpoint. @default `{DIGITAL_ONBOARDING_URL}/oauth2/token` */
  authUrl: string;
}

export interface DigitalOnboardingConfig extends DigitalOnboardingOptions {
  url: string;
  /**
   * A partner token issued outside the gateway, sent as Bearer (it lasts about an hour; a 401
   * `invalid_token` then fails every write). `null` when `clientCredentials` are set.
   */
  token: Secret | null;
  /** `DIGITAL_ONBOARDING_CLIENT_ID` / `_CLIENT_SECRET` / `_AUTH_URL`; wins over `token`. */
  clientCredentials?: DigitalOnboardingClientCredentials | null;
}

export interface StorageOptions {
  /** PostgreSQL connection string (may hold a password); when set, state lives there. */
  databaseUrl: Secret | null;
  /** PostgreSQL: longest wait for a connection before the store counts as unavailable. @default 5000 */
  connectTimeoutMs: number;
  /** PostgreSQL: longest one statement may take (server `statement_timeout` and driver read timeout). @default 10000 */
  statementTimeoutMs: number;
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
}

export interface Config {
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
  notifuseOptions: NotifuseOptions;
  notifuse: NotifuseConfig | null;
  dotdigitalOptions: DotdigitalOptions;
  dotdigital: DotdigitalConfig | null;
  salesforceMcOptions: SalesforceMcOptions;
  salesforceMc: SalesforceMcConfig | null;
  digitalOnboardingOptions: DigitalOnboardingOptions;
  digitalOnboarding: DigitalOnboardingConfig | null;
}

export const DEFAULT_HTTP_OPTIONS: HttpOptions = {
  connections: 10,
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

const optional = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));
const int = (def: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(def);

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
  GATEWAY_DATA_DIR: z.string().trim().min(1).default('./data'),
  IDEMPOTENCY_TTL_MS: int(24 * 60 * 60 * 1000, 1000, 30 * 24 * 60 * 60 * 1000),
  IDEMPOTENCY_IN_PROGRESS_TTL_MS: int(120_000, 100, 24 * 60 * 60 * 1000),
  GATEWAY_OUTBOX: z.enum(['on', 'off']).default('on'),
  OUTBOX_POLL_MS: int(1000, 0, 3_600_000),
  OUTBOX_BASE_DELAY_MS: int(5000, 1, 3_600_000),
  OUTBOX_LEASE_MS: int(60_000, 100, 3_600_000),
  HTTP_CONNECTIONS: int(DEFAULT_HTTP_OPTIONS.connections, 1, 1024),
  HTTP_CONNECT_TIMEOUT_MS: int(DEFAULT_HTTP_OPTIONS.connectTimeoutMs, 1, 600_000),
  NOTIFUSE_URL: optional,
  NOTIFUSE_API_KEY: optional,
  NOTIFUSE_WORKSPACE_ID: optional,
  NOTIFUSE_BATCH_SIZE: int(500, 1, 500),
  NOTIFUSE_CUSTOM_FIELD_MAP: optional,
  DOTDIGITAL_URL: z.string().default('https://r1-api.dotdigital.com'),
  DOTDIGITAL_USERNAME: optional,
  DOTDIGITAL_PASSWORD: optional,
  DOTDIGITAL_DATA_FIELD_MAP: optional,
  DOTDIGITAL_BATCH_SIZE: int(1000, 1, 10_000),
  DOTDIGITAL_IMPORT_MAX_WAIT_MS: int(20_000, 0, 600_000),
  DOTDIGITAL_IMPORT_POLL_INTERVAL_MS: int(200, 10, 60_000),
  DOTDIGITAL_CONCURRENCY: int(8, 1, 64),
  DOTDIGITAL_CREATE_DATA_FIELDS: z.enum(['0', '1']).default('0'),
  DOTDIGITAL_DATA_FIELDS_TTL_MS: int(300_000, 0, 86_400_000),
  SFMC_AUTH_URL: optional,
  SFMC_CLIENT_ID: optional,
  SFMC_CLIENT_SECRET: optional,
  SFMC_ACCOUNT_ID: optional,
  SFMC_CONTACT_KEY: z.enum(['externalId', 'email']).default('externalId'),
  SFMC_ATTRIBUTE_MAP: optional,
  SFMC_CONCURRENCY: int(8, 1, 64),
  SFMC_KEY_LOOKUP: z.enum(['on', 'off']).default('on'),
  SFMC_SEARCH_BATCH_SIZE: int(50, 1, 500),
  SFMC_DEFAULT_LOCALE: z
    .string()
    .regex(/^[A-Za-z]{2}$/, 'must be a two-letter country code')
    .default('US')
    .transform((v) => v.toUpperCase()),
  SFMC_TOKEN_REFRESH_SKEW_SECONDS: int(60, 0, 900),
  DIGITAL_ONBOARDING_URL: z.string().default('https://api.digitalonboarding.com'),
  DIGITAL_ONBOARDING_TOKEN: optional,
  DIGITAL_ONBOARDING_CLIENT_ID: optional,
  DIGITAL_ONBOARDING_CLIENT_SECRET: optional,
  DIGITAL_ONBOARDING_AUTH_URL: optional,
  DIGITAL_ONBOARDING_TOKEN_REFRESH_SKEW_SECONDS: int(60, 0, 900),
  DIGITAL_ONBOARDING_BATCH_SIZE: int(100, 1, 10_000),
  DIGITAL_ONBOARDING_CONCURRENCY: int(8, 1, 64),
});

const NOTIFUSE_COLUMN = /^custom_(string|number|datetime|json)_[1-5]$/;

function isHttpUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

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
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];
  const requireAll = (group: string, vars: Record<string, string | undefined>): boolean => {
    const set = Object.entries(vars).filter(([, v]) => v !== undefined);
    if (set.length === 0) {
      return false;
    }
    for (const [name, v] of Object.entries(vars)) {
      if (v === undefined) {
        problems.push(`${name} is required when ${group} is configured`);
      }
    }
    return set.length === Object.keys(vars).length;
  };
  const checkUrl = (name: string, value: string | undefined) => {
    if (value !== undefined && !isHttpUrl(value)) {
      problems.push(`${name} must be an http(s) URL`);
    }
  };

  const notifuseOptions: NotifuseOptions = {
    batchSize: e.NOTIFUSE_BATCH_SIZE,
    customFieldMap: parseJsonMap(
      'NOTIFUSE_CUSTOM_FIELD_MAP',
      e.NOTIFUSE_CUSTOM_FIELD_MAP,
      z.string().regex(NOTIFUSE_COLUMN),
      'values must be Notifuse columns custom_{string|number|datetime|json}_{1..5}',
      problems,
    ),
    readConcurrency: 8,
  };
  let notifuse: NotifuseConfig | null = null;
  if (
    requireAll('Notifuse', {
      NOTIFUSE_URL: e.NOTIFUSE_URL,
      NOTIFUSE_API_KEY: e.NOTIFUSE_API_KEY,
      NOTIFUSE_WORKSPACE_ID: e.NOTIFUSE_WORKSPACE_ID,
    })
  ) {
    checkUrl('NOTIFUSE_URL', e.NOTIFUSE_URL);
    notifuse = {
      ...notifuseOptions,
      url: e.NOTIFUSE_URL!,
      apiKey: new Secret(e.NOTIFUSE_API_KEY!),
      workspaceId: e.NOTIFUSE_WORKSPACE_ID!,
    };
  }

  const dotdigitalOptions: DotdigitalOptions = {
    dataFieldMap: parseJsonMap(
      'DOTDIGITAL_DATA_FIELD_MAP',
      e.DOTDIGITAL_DATA_FIELD_MAP,
      z.string().regex(/^[A-Za-z0-9_]{1,100}$/),
      'values must be Dotdigital data field names (letters, digits, _)',
      problems,
    ),
    batchSize: e.DOTDIGITAL_BATCH_SIZE,
    importMaxWaitMs: e.DOTDIGITAL_IMPORT_MAX_WAIT_MS,
    importPollIntervalMs: e.DOTDIGITAL_IMPORT_POLL_INTERVAL_MS,
    concurrency: e.DOTDIGITAL_CONCURRENCY,
    createDataFields: e.DOTDIGITAL_CREATE_DATA_FIELDS === '1',
    dataFieldsTtlMs: e.DOTDIGITAL_DATA_FIELDS_TTL_MS,
  };
  let dotdigital: DotdigitalConfig | null = null;
  if (
    requireAll('Dotdigital', {
      DOTDIGITAL_USERNAME: e.DOTDIGITAL_USERNAME,
      DOTDIGITAL_PASSWORD: e.DOTDIGITAL_PASSWORD,
    })
  ) {
    checkUrl('DOTDIGITAL_URL', e.DOTDIGITAL_URL);
    dotdigital = {
      ...dotdigitalOptions,
      url: e.DOTDIGITAL_URL,
      username: e.DOTDIGITAL_USERNAME!,
      password: new Secret(e.DOTDIGITAL_PASSWORD!),
    };
  }

  const salesforceMcOptions: SalesforceMcOptions = {
    contactKey: e.SFMC_CONTACT_KEY,
    attributeMap: parseSfmcAttributeMap(e.SFMC_ATTRIBUTE_MAP, problems),
    concurrency: e.SFMC_CONCURRENCY,
    searchBatchSize: e.SFMC_SEARCH_BATCH_SIZE,
    defaultLocale: e.SFMC_DEFAULT_LOCALE,
    tokenRefreshSkewSeconds: e.SFMC_TOKEN_REFRESH_SKEW_SECONDS,
    keyLookup: e.SFMC_KEY_LOOKUP === 'on',
  };
  let salesforceMc: SalesforceMcConfig | null = null;
  if (
    requireAll('Salesforce Marketing Cloud', {
      SFMC_AUTH_URL: e.SFMC_AUTH_URL,
      SFMC_CLIENT_ID: e.SFMC_CLIENT_ID,
      SFMC_CLIENT_SECRET: e.SFMC_CLIENT_SECRET,
    })
  ) {
    checkUrl('SFMC_AUTH_URL', e.SFMC_AUTH_URL);
    salesforceMc = {
      ...salesforceMcOptions,
      authUrl: e.SFMC_AUTH_URL!,
      clientId: e.SFMC_CLIENT_ID!,
      clientSecret: new Secret(e.SFMC_CLIENT_SECRET!),
      accountId: e.SFMC_ACCOUNT_ID ?? null,
    };
  }

  const digitalOnboardingOptions: DigitalOnboardingOptions = {
    batchSize: e.DIGITAL_ONBOARDING_BATCH_SIZE,
    concurrency: e.DIGITAL_ONBOARDING_CONCURRENCY,
    tokenRefreshSkewSeconds: e.DIGITAL_ONBOARDING_TOKEN_REFRESH_SKEW_SECONDS,
  };
  let digitalOnboarding: DigitalOnboardingConfig | null = null;
  const doClient = requireAll('Digital Onboarding client credentials', {
    DIGITAL_ONBOARDING_CLIENT_ID: e.DIGITAL_ONBOARDING_CLIENT_ID,
    DIGITAL_ONBOARDING_CLIENT_SECRET: e.DIGITAL_ONBOARDING_CLIENT_SECRET,
  });
  if (e.DIGITAL_ONBOARDING_AUTH_URL !== undefined && !doClient) {
    problems.push(
      'DIGITAL_ONBOARDING_AUTH_URL needs DIGITAL_ONBOARDING_CLIENT_ID and DIGITAL_ONBOARDING_CLIENT_SECRET',
    );
  }
  if (doClient && e.DIGITAL_ONBOARDING_TOKEN !== undefined) {
    problems.push(
      'set either DIGITAL_ONBOARDING_TOKEN or DIGITAL_ONBOARDING_CLIENT_ID/_CLIENT_SECRET, not both',
    );
  }
  if (e.DIGITAL_ONBOARDING_TOKEN !== undefined || doClient) {
    checkUrl('DIGITAL_ONBOARDING_URL', e.DIGITAL_ONBOARDING_URL);
    checkUrl('DIGITAL_ONBOARDING_AUTH_URL', e.DIGITAL_ONBOARDING_AUTH_URL);
    digitalOnboarding = {
      ...digitalOnboardingOptions,
      url: e.DIGITAL_ONBOARDING_URL,
      token:
        e.DIGITAL_ONBOARDING_TOKEN !== undefined ? new Secret(e.DIGITAL_ONBOARDING_TOKEN) : null,
      clientCredentials: doClient
        ? {
            clientId: e.DIGITAL_ONBOARDING_CLIENT_ID!,
            clientSecret: new Secret(e.DIGITAL_ONBOARDING_CLIENT_SECRET!),
            authUrl:
              e.DIGITAL_ONBOARDING_AUTH_URL ??
              `${e.DIGITAL_ONBOARDING_URL.replace(/\/+$/, '')}/oauth2/token`,
          }
        : null,
    };
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
    sandboxMode: !notifuse && !dotdigital && !salesforceMc && !digitalOnboarding,
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
      dataDir: e.GATEWAY_DATA_DIR,
      idempotencyTtlMs: e.IDEMPOTENCY_TTL_MS,
      idempotencyInProgressTtlMs: e.IDEMPOTENCY_IN_PROGRESS_TTL_MS,
      outbox: e.GATEWAY_OUTBOX === 'on',
      outboxPollMs: e.OUTBOX_POLL_MS,
      outboxBaseDelayMs: e.OUTBOX_BASE_DELAY_MS,
      outboxLeaseMs: e.OUTBOX_LEASE_MS,
    },
    gateway,
    server,
    http: {
      ...DEFAULT_HTTP_OPTIONS,
      connections: e.HTTP_CONNECTIONS,
      connectTimeoutMs: e.HTTP_CONNECT_TIMEOUT_MS,
    },
    observability,
    resilience,
    notifuseOptions,
    notifuse,
    dotdigitalOptions,
    dotdigital,
    salesforceMcOptions,
    salesforceMc,
    digitalOnboardingOptions,
    digitalOnboarding,
  });
}

/** A JSON object of string → string from one variable, each value checked by `value`. */
function parseJsonMap(
  name: string,
  raw: string | undefined,
  value: z.ZodString,
  rule: string,
  problems: string[],
): Record<string, string> {
  if (raw === undefined) {
    return {};
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    problems.push(`${name} must be a JSON object`);
    return {};
  }
  const result = z.record(z.string(), value).safeParse(parsed);
  if (!result.success) {
    problems.push(`${name}: ${rule}`);
    return {};
  }
  return result.data;
}

/** Unified fields the SFMC attribute map may not move: channel addresses and HTML Enabled. */
const SFMC_FIXED_FIELDS = new Set(['email', 'phone', 'emailFormat']);
const SFMC_NAME = z.string().trim().min(1).max(128);
const SFMC_MAPPABLE = new Set<string>(CONTACT_FIELDS.filter((f) => f !== 'customFields'));

/**
 * `SFMC_ATTRIBUTE_MAP`: `{"<unified field>": {"set": "<attribute set>", "attribute": "<name>"} | null}`.
 * Keys are unified leaves (`address.city`) or `customFields.<key>`.
 */
function parseSfmcAttributeMap(
  raw: string | undefined,
  problems: string[],
): Record<string, SalesforceMcAttributeTarget | null> {
  if (raw === undefined) {
    return {};
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    problems.push('SFMC_ATTRIBUTE_MAP must be a JSON object');
    return {};
  }
  const result = z
    .record(
      z.string().min(1),
      z.object({ set: SFMC_NAME, attribute: SFMC_NAME }).strict().nullable(),
    )
    .safeParse(parsed);
  if (!result.success) {
    problems.push(
      'SFMC_ATTRIBUTE_MAP: values must be {"set": "<attribute set>", "attribute": "<attribute>"} or null',
    );
    return {};
  }
  const keys = Object.keys(result.data);
  const fixed = keys.filter((k) => SFMC_FIXED_FIELDS.has(k));
  const unknown = keys.filter(
    (k) => !SFMC_FIXED_FIELDS.has(k) && !(SFMC_MAPPABLE.has(k) || /^customFields\.[^.]+$/.test(k)),
  );
  if (fixed.length > 0) {
    problems.push(`SFMC_ATTRIBUTE_MAP cannot remap ${fixed.join(', ')} (fixed channel attributes)`);
  }
  if (unknown.length > 0) {
    problems.push(
      `SFMC_ATTRIBUTE_MAP: ${unknown.join(', ')} not unified fields (use e.g. firstName, address.city, customFields.<key>)`,
    );
  }
  if (fixed.length > 0 || unknown.length > 0) {
    return {};
  }
  return result.data;
}

/** The provider ids that have credentials in this config. */
export function configuredProviders(config: Config): ProviderId[] {
  const ids: ProviderId[] = [];
  if (config.digitalOnboarding) {
    ids.push('DIGITAL_ONBOARDING');
  }
  if (config.notifuse) {
    ids.push('NOTIFUSE');
  }
  if (config.dotdigital) {
    ids.push('DOTDIGITAL');
  }
  if (config.salesforceMc) {
    ids.push('SALESFORCE_MC');
  }
  return ids;
}
