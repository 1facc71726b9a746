import { createHmac, timingSafeEqual } from 'node:crypto';
import { request } from 'undici';
import type { OutboxItem } from '../store/outbox.js';

/** The header carrying a webhook's signature. */
export const SIGNATURE_HEADER = 'x-contact-gateway-signature';

export type WebhookEventType = 'write.delivered' | 'write.failed' | 'batch.completed';

/** What a webhook POST carries (JSON). `id` is stable: a receiver may dedupe on it. */
export interface WebhookEvent {
  id: string;
  type: WebhookEventType;
  /** When the event happened (ISO 8601). */
  createdAt: string;
  data: Record<string, unknown>;
}

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` with the shared secret. A receiver
 * recomputes v1 over the raw body and compares in constant time (`verifySignature`).
 */
export function signWebhook(secret: string, body: string, unixSeconds: number): string {
  const v1 = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${v1}`;
}

/**
 * Checks a signature header against the raw body: the HMAC matches and `t` is within
 * `toleranceSeconds` of `now` (a replayed old delivery is refused).
 */
export function verifySignature(
  secret: string,
  body: string,
  header: string | null | undefined,
  opts: { toleranceSeconds?: number; now?: number } = {},
): boolean {
  const parts = new Map(
    (header ?? '').split(',').map((p) => {
      const i = p.indexOf('=');
      return [p.slice(0, i).trim(), p.slice(i + 1).trim()] as const;
    }),
  );
  const t = Number(parts.get('t'));
  const v1 = parts.get('v1') ?? '';
  if (!Number.isSafeInteger(t) || !/^[0-9a-f]{64}$/.test(v1)) {
    return false;
  }
  const now = Math.floor((opts.now ?? Date.now()) / 1000);
  if (Math.abs(now - t) > (opts.toleranceSeconds ?? 300)) {
    return false;
  }
  const expected = signWebhook(secret, body, t).split('v1=')[1]!;
  return timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(v1, 'hex'));
}

/** The event of a write that ended; its id is the same on every replica. */
export function writeEvent(w: OutboxItem): WebhookEvent {
  const type = w.status === 'DELIVERED' ? 'write.delivered' : 'write.failed';
  return {
    id: `${type}:${w.id}`,
    type,
    createdAt: w.endedAt ?? w.updatedAt,
    data: {
      write: {
        id: w.id,
        provider: w.provider,
        contactId: w.gatewayId,
        status: w.status,
        attempts: w.attempts,
        remoteId: w.remoteId,
        importId: w.importId,
        createdAt: w.createdAt,
        endedAt: w.endedAt,
        // Code, words and retryability only: item-level details stay in the gateway.
        lastError: w.lastError
          ? {
              code: w.lastError.code,
              message: w.lastError.message,
              httpStatus: w.lastError.httpStatus ?? null,
              retryable: w.lastError.retryable,
            }
          : null,
      },
    },
  };
}

/** One POST of an event; resolves when the receiver answered 2xx, else throws why not. */
export async function postWebhook(
  url: string,
  secret: string,
  event: WebhookEvent,
  timeoutMs: number,
): Promise<void> {
  const body = JSON.stringify(event);
  const res = await request(url, {
    method: 'POST',
    body,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'contact-gateway-webhooks',
      [SIGNATURE_HEADER]: signWebhook(secret, body, Math.floor(Date.now() / 1000)),
    },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  await res.body.dump();
  if (res.statusCode < 200 || res.statusCode >= 300) {
    throw new Error(`the receiver answered ${res.statusCode}`);
  }
}
