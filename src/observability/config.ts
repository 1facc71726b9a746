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

/** Metrics and tracing (`GATEWAY_METRICS_TOKEN`, the standard `OTEL_*`). */
export interface ObservabilityOptions {
  metrics: MetricsOptions;
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
  return { metrics: { token, enabled: token !== null || !hasApiKeys } };
}
