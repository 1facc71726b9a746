import { Secret } from '../secret.js';

/** `/metrics` and the metrics behind it. */
export interface MetricsOptions {
  /**
   * Bearer token `/metrics` requires (`GATEWAY_METRICS_TOKEN`, at least 16 characters). Without
   * one, `/metrics` is open while the gateway runs without API keys (loopback only) and answers
   * 404 once API keys are configured, so a production deployment never exposes metrics by
   * accident. @default null
   */
  token: Secret | null;
  /** Whether `/metrics` is served (and metrics are collected at all). */
  enabled: boolean;
}

export type TraceSampler =
  | 'always_on'
  | 'always_off'
  | 'traceidratio'
  | 'parentbased_always_on'
  | 'parentbased_always_off'
  | 'parentbased_traceidratio';

/** OpenTelemetry tracing from the standard `OTEL_*` variables (null = off, the default). */
export interface TracingOptions {
  /** Where spans go: an OTLP/HTTP endpoint, and/or standard output (`console`, for debugging). */
  exporters: ReadonlyArray<'otlp' | 'console'>;
  /** `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`. */
  url: string;
  protocol: 'http/protobuf' | 'http/json';
  /** `OTEL_EXPORTER_OTLP_(TRACES_)HEADERS` (`k=v,k2=v2`): may hold a vendor's API key. */
  headers: Secret | null;
  /** `OTEL_EXPORTER_OTLP_(TRACES_)TIMEOUT`. @default 10000 */
  timeoutMs: number;
  /** `OTEL_SERVICE_NAME`. @default 'contact-gateway' */
  serviceName: string;
  /** `OTEL_RESOURCE_ATTRIBUTES` (`k=v,k2=v2`). */
  resourceAttributes: Readonly<Record<string, string>>;
  /** `OTEL_TRACES_SAMPLER`. @default 'parentbased_always_on' */
  sampler: TraceSampler;
  /** `OTEL_TRACES_SAMPLER_ARG` for the ratio samplers. @default 1 */
  samplerRatio: number;
  /** `OTEL_BSP_SCHEDULE_DELAY`: how long spans are batched before export. @default 5000 */
  scheduleDelayMs: number;
}

/** Metrics and tracing (`GATEWAY_METRICS_TOKEN`, the standard `OTEL_*`). */
export interface ObservabilityOptions {
  metrics: MetricsOptions;
  tracing: TracingOptions | null;
}

export const MIN_METRICS_TOKEN_LENGTH = 16;

/** A bearer token as RFC 6750 allows it (token68), so that any client can send it. */
const TOKEN68 = /^[A-Za-z0-9._~+/-]+=*$/;

/** The observability part of the configuration (called by `loadConfig`). */
export function parseObservability(
  env: Record<string, string | undefined>,
  hasApiKeys: boolean,
  problems: string[],
): ObservabilityOptions {
  const raw = env['GATEWAY_METRICS_TOKEN']?.trim() ?? '';
  let token: Secret | null = null;
  if (raw !== '') {
    if (raw.length < MIN_METRICS_TOKEN_LENGTH || !TOKEN68.test(raw)) {
      problems.push(
        `GATEWAY_METRICS_TOKEN must be at least ${MIN_METRICS_TOKEN_LENGTH} characters of A-Z a-z 0-9 . _ ~ + / - (e.g. openssl rand -hex 24)`,
      );
    } else {
      token = new Secret(raw);
    }
  }
  return {
    metrics: { token, enabled: token !== null || !hasApiKeys },
    tracing: parseTracing(env, problems),
  };
}

/** The standard variables the gateway reads. */
const TRACING_VARIABLES = [
  'OTEL_SDK_DISABLED',
  'OTEL_TRACES_EXPORTER',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
  'OTEL_EXPORTER_OTLP_HEADERS',
  'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
  'OTEL_EXPORTER_OTLP_TIMEOUT',
  'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT',
  'OTEL_SERVICE_NAME',
  'OTEL_RESOURCE_ATTRIBUTES',
  'OTEL_TRACES_SAMPLER',
  'OTEL_TRACES_SAMPLER_ARG',
  'OTEL_BSP_SCHEDULE_DELAY',
] as const;

const SAMPLERS: readonly TraceSampler[] = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
];

/** `k=v,k2=v2` (values percent-decoded), as the OTel specification writes lists of pairs. */
function parsePairs(name: string, raw: string, problems: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of raw.split(',')) {
    if (item.trim() === '') {
      continue;
    }
    const eq = item.indexOf('=');
    const key = eq > 0 ? item.slice(0, eq).trim() : '';
    let value: string | null = null;
    try {
      value = eq > 0 ? decodeURIComponent(item.slice(eq + 1).trim()) : null;
    } catch {
      value = null;
    }
    if (key === '' || value === null) {
      problems.push(`${name} must be a list of key=value pairs separated by commas`);
      return {};
    }
    out[key] = value;
  }
  return out;
}

/**
 * Tracing is off unless an exporter is configured: `OTEL_TRACES_EXPORTER=otlp` (or `console`), or
 * an OTLP endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) with
 * `OTEL_TRACES_EXPORTER` unset. `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none` turn it off.
 */
function parseTracing(
  env: Record<string, string | undefined>,
  problems: string[],
): TracingOptions | null {
  const get = (name: string) => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  // Every variable is read even when tracing stays off, so that the start-up check of unknown
  // variables (src/startup.ts records what is read) knows them all.
  for (const name of TRACING_VARIABLES) {
    get(name);
  }
  if (get('OTEL_SDK_DISABLED')?.toLowerCase() === 'true') {
    return null;
  }
  const tracesEndpoint = get('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const endpoint = get('OTEL_EXPORTER_OTLP_ENDPOINT');
  const named = get('OTEL_TRACES_EXPORTER');
  const listed = named
    ? named.split(',').map((e) => e.trim().toLowerCase())
    : tracesEndpoint || endpoint
      ? ['otlp']
      : [];
  if (listed.includes('none') || listed.length === 0) {
    return null;
  }
  const unknown = listed.filter((e) => e !== 'otlp' && e !== 'console');
  if (unknown.length > 0) {
    problems.push(
      `OTEL_TRACES_EXPORTER: ${unknown.join(', ')} not supported (otlp, console or none)`,
    );
    return null;
  }
  const exporters = [...new Set(listed)] as Array<'otlp' | 'console'>;

  const url =
    tracesEndpoint ?? `${(endpoint ?? 'http://localhost:4318').replace(/\/+$/, '')}/v1/traces`;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new Error('not http');
    }
  } catch {
    problems.push(
      `${tracesEndpoint ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' : 'OTEL_EXPORTER_OTLP_ENDPOINT'} must be an http(s) URL`,
    );
  }
  const protocol =
    get('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ??
    get('OTEL_EXPORTER_OTLP_PROTOCOL') ??
    'http/protobuf';
  if (protocol !== 'http/protobuf' && protocol !== 'http/json') {
    problems.push(
      `OTEL_EXPORTER_OTLP_PROTOCOL: ${protocol} is not built in (http/protobuf or http/json; every OpenTelemetry Collector accepts both on port 4318)`,
    );
  }
  const rawHeaders = get('OTEL_EXPORTER_OTLP_TRACES_HEADERS') ?? get('OTEL_EXPORTER_OTLP_HEADERS');
  if (rawHeaders) {
    // Checked here, kept secret: the values are usually a vendor's API key.
    parsePairs('OTEL_EXPORTER_OTLP_HEADERS', rawHeaders, problems);
  }
  const number = (name: string, fallback: number, min: number, max: number): number => {
    const raw = get(name);
    if (raw === undefined) {
      return fallback;
    }
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || n > max) {
      problems.push(`${name} must be a number from ${min} to ${max}`);
      return fallback;
    }
    return n;
  };
  const timeoutMs = number(
    get('OTEL_EXPORTER_OTLP_TRACES_TIMEOUT')
      ? 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT'
      : 'OTEL_EXPORTER_OTLP_TIMEOUT',
    10_000,
    1,
    600_000,
  );
  const sampler = (get('OTEL_TRACES_SAMPLER')?.toLowerCase() ??
    'parentbased_always_on') as TraceSampler;
  if (!SAMPLERS.includes(sampler)) {
    problems.push(`OTEL_TRACES_SAMPLER must be one of ${SAMPLERS.join(', ')}`);
  }
  const ratio = sampler.endsWith('traceidratio') ? number('OTEL_TRACES_SAMPLER_ARG', 1, 0, 1) : 1;
  return {
    exporters,
    url,
    protocol: protocol === 'http/json' ? 'http/json' : 'http/protobuf',
    headers: rawHeaders ? new Secret(rawHeaders) : null,
    timeoutMs,
    serviceName: get('OTEL_SERVICE_NAME') ?? 'contact-gateway',
    resourceAttributes: parsePairs(
      'OTEL_RESOURCE_ATTRIBUTES',
      get('OTEL_RESOURCE_ATTRIBUTES') ?? '',
      problems,
    ),
    sampler: SAMPLERS.includes(sampler) ? sampler : 'parentbased_always_on',
    samplerRatio: ratio,
    scheduleDelayMs: number('OTEL_BSP_SCHEDULE_DELAY', 5_000, 0, 600_000),
  };
}

/** The exporter's headers from `OTEL_EXPORTER_OTLP_(TRACES_)HEADERS`. */
export function tracingHeaders(options: TracingOptions): Record<string, string> {
  return options.headers
    ? parsePairs('OTEL_EXPORTER_OTLP_HEADERS', options.headers.reveal(), [])
    : {};
}
