import { setTimeout as sleep } from 'node:timers/promises';

export const UPSERT_CONTACTS = `mutation Import($inputs: [ContactInput!]!, $options: WriteOptions) {
  upsertContacts(inputs: $inputs, options: $options) {
    items {
      errors { code field message }
      outcomes { provider status error { code message retryable } }
    }
  }
}`;

export interface ItemResult {
  errors: Array<{ code: string; field: string; message: string }>;
  outcomes: Array<{
    provider: string;
    status: 'CREATED' | 'UPDATED' | 'FAILED' | 'SKIPPED' | 'DRY_RUN' | 'QUEUED';
    error: { code: string; message: string; retryable: boolean } | null;
  }>;
}

/** The gateway refused the request as a whole (not one row): bad key, too many items, … */
export class GatewayError extends Error {
  override name = 'GatewayError';
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

export interface ClientOptions {
  url: string;
  key: string | undefined;
  /** Told before each wait, e.g. to print "gateway busy, retrying". */
  onRetry?: (reason: string, waitMs: number) => void;
  /** How long to keep retrying a connection failure or a busy answer. @default 180_000 */
  patienceMs?: number;
}

interface GraphQLBody {
  data?: { upsertContacts?: { items: ItemResult[] } | null } | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

/**
 * Sends one chunk. Retries (with the same idempotency key, so nothing is written twice) while the
 * gateway cannot be reached, is rate limiting (429/503, honouring Retry-After), or is still running
 * the same key (IDEMPOTENCY_IN_PROGRESS: the write of a killed run finishing). Other whole-request
 * errors throw GatewayError.
 */
export function createImportClient(opts: ClientOptions) {
  const patienceMs = opts.patienceMs ?? 180_000;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/graphql-response+json, application/json',
  };
  if (opts.key) {
    headers['authorization'] = `Bearer ${opts.key}`;
  }
  return {
    async upsert(
      inputs: readonly Record<string, unknown>[],
      options: { idempotencyKey: string; providers?: readonly string[] | undefined },
    ): Promise<ItemResult[]> {
      const body = JSON.stringify({
        query: UPSERT_CONTACTS,
        variables: {
          inputs,
          options: {
            idempotencyKey: options.idempotencyKey,
            ...(options.providers ? { providers: options.providers } : {}),
          },
        },
      });
      const started = Date.now();
      for (let attempt = 1; ; attempt++) {
        const wait = (reason: string, ms: number) => {
          if (Date.now() - started + ms > patienceMs) {
            throw new GatewayError(
              `gave up after ${Math.round(patienceMs / 1000)} s: ${reason}`,
              undefined,
            );
          }
          opts.onRetry?.(reason, ms);
          return sleep(ms);
        };
        const backoff = Math.min(500 * 2 ** Math.min(attempt - 1, 4), 8000);
        let res: Response;
        try {
          res = await fetch(opts.url, { method: 'POST', headers, body });
        } catch (err) {
          const cause = (err as { cause?: { code?: string; message?: string } }).cause;
          await wait(
            `cannot reach the gateway (${cause?.code ?? cause?.message ?? (err as Error).message})`,
            backoff,
          );
          continue;
        }
        const text = await res.text();
        if (res.status === 429 || res.status === 503 || res.status === 502 || res.status === 504) {
          const retryAfter = Number(res.headers.get('retry-after'));
          await wait(
            `gateway answered HTTP ${res.status}`,
            Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : backoff,
          );
          continue;
        }
        let parsed: GraphQLBody;
        try {
          parsed = JSON.parse(text) as GraphQLBody;
        } catch {
          throw new GatewayError(
            `the gateway answered HTTP ${res.status} without a GraphQL body`,
            undefined,
          );
        }
        const items = parsed.data?.upsertContacts?.items;
        if (items && items.length === inputs.length) {
          return items;
        }
        const first = parsed.errors?.[0];
        const code = first?.extensions?.code;
        if (code === 'IDEMPOTENCY_IN_PROGRESS') {
          await wait('this chunk is still being written by an earlier run', 1000);
          continue;
        }
        if (code === 'RATE_LIMITED' || code === 'STORE_UNAVAILABLE') {
          await wait(`gateway answered ${code}`, backoff);
          continue;
        }
        throw new GatewayError(
          first
            ? `${first.message}${code ? ` (${code})` : ''}`
            : `unexpected answer (HTTP ${res.status})`,
          code,
        );
      }
    },
  };
}

export type ImportClient = ReturnType<typeof createImportClient>;
