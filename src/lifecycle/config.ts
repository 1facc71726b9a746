import { z } from 'zod';
import { intVar, readEnvSection } from '../env-section.js';
import { Secret } from '../secret.js';

/** Write history, notifications and async batches (`GATEWAY_WRITE_*`, `GATEWAY_WEBHOOK_*`, …). */
export interface LifecycleConfig {
  /** How long a write is kept after it ended (DELIVERED/FAILED). @default 7 days */
  writeHistoryTtlMs: number;
  /** How often `writeUpdated` subscriptions look for changed writes (all replicas). @default 500 */
  watchPollMs: number;
  /** Where signed webhook events go (null: no webhooks). May carry a token: a secret. */
  webhookUrl: Secret | null;
  /** HMAC-SHA256 key of `X-Contact-Gateway-Signature`. */
  webhookSecret: Secret | null;
  /** One webhook POST's limit. @default 10000 */
  webhookTimeoutMs: number;
  /** Deliveries of one event before it is dropped (with a log line). @default 15 */
  webhookMaxAttempts: number;
  /** First wait before an event is re-sent; doubles up to 10 min. @default 5000 */
  webhookBaseDelayMs: number;
  /** How often background jobs (webhook events, async batches) are looked for; 0 = never. @default 250 */
  jobsPollMs: number;
  /** Inputs an async batch writes per step (one step = one `upsertContacts` run). @default 500 */
  batchChunk: number;
}

const int = intVar;

const Env = z.object({
  GATEWAY_WRITE_HISTORY_TTL_MS: int(7 * 24 * 60 * 60 * 1000, 1000, 365 * 24 * 60 * 60 * 1000),
  GATEWAY_WRITE_WATCH_MS: int(500, 10, 60_000),
  GATEWAY_WEBHOOK_URL: z.string().trim().optional(),
  GATEWAY_WEBHOOK_SECRET: z.string().trim().optional(),
  GATEWAY_WEBHOOK_TIMEOUT_MS: int(10_000, 100, 120_000),
  GATEWAY_WEBHOOK_MAX_ATTEMPTS: int(15, 1, 100),
  GATEWAY_WEBHOOK_BASE_DELAY_MS: int(5000, 1, 3_600_000),
  GATEWAY_JOBS_POLL_MS: int(250, 0, 3_600_000),
  GATEWAY_BATCH_CHUNK: int(500, 1, 10_000),
});

/** Reads this section; problems are appended to `problems` (never quoting the URL or secret). */
export function loadLifecycleConfig(
  env: Record<string, string | undefined>,
  problems: string[],
): LifecycleConfig {
  const e = readEnvSection(Env, env, problems) ?? Env.parse({});
  const url = e.GATEWAY_WEBHOOK_URL || undefined;
  const secret = e.GATEWAY_WEBHOOK_SECRET || undefined;
  if (url && !secret) {
    problems.push('GATEWAY_WEBHOOK_SECRET is required when GATEWAY_WEBHOOK_URL is set');
  }
  if (secret && !url) {
    problems.push('GATEWAY_WEBHOOK_URL is required when GATEWAY_WEBHOOK_SECRET is set');
  }
  if (secret && secret.length < 16) {
    problems.push('GATEWAY_WEBHOOK_SECRET must be at least 16 characters');
  }
  if (url) {
    let ok = false;
    try {
      const u = new URL(url);
      ok = u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      ok = false;
    }
    if (!ok) {
      problems.push('GATEWAY_WEBHOOK_URL must be an http(s) URL');
    }
  }
  return {
    writeHistoryTtlMs: e.GATEWAY_WRITE_HISTORY_TTL_MS,
    watchPollMs: e.GATEWAY_WRITE_WATCH_MS,
    webhookUrl: url && secret ? new Secret(url) : null,
    webhookSecret: url && secret ? new Secret(secret) : null,
    webhookTimeoutMs: e.GATEWAY_WEBHOOK_TIMEOUT_MS,
    webhookMaxAttempts: e.GATEWAY_WEBHOOK_MAX_ATTEMPTS,
    webhookBaseDelayMs: e.GATEWAY_WEBHOOK_BASE_DELAY_MS,
    jobsPollMs: e.GATEWAY_JOBS_POLL_MS,
    batchChunk: e.GATEWAY_BATCH_CHUNK,
  };
}
