import type { ProviderErrorInfo } from '../model/errors.js';
import type { Outcome } from '../model/outcome.js';
import { dispatchWrites } from '../providers/engine.js';
import { type IdentityRecord, recordWritten } from '../store/identity.js';
import type { OutboxItem } from '../store/outbox.js';
import type { ContactsDeps } from './deps.js';
import { SUCCESS } from './payload.js';

/** Longest wait between two delivery attempts of a queued write. */
const OUTBOX_MAX_DELAY_MS = 10 * 60 * 1000;

/**
 * Outbox delivery: writes whose retries ended on a retryable failure (or a provider job still
 * running) are sent again in the background through the same write engine as a request's.
 */
export class OutboxDelivery {
  readonly #d: ContactsDeps;

  constructor(deps: ContactsDeps) {
    this.#d = deps;
  }

  /**
   * When a queued write that failed `attempts` times is tried next: exponential, full jitter, and
   * never before the provider's `Retry-After` (`error.details.retryAfterMs`).
   */
  nextAttemptAt(attempts: number, error?: ProviderErrorInfo | null): string {
    const cap = Math.min(
      OUTBOX_MAX_DELAY_MS,
      this.#d.outboxBaseDelayMs * 2 ** Math.max(0, attempts - 1),
    );
    const wait = Math.max(cap / 2 + (Math.random() * cap) / 2, retryAfterOf(error));
    return new Date(this.#d.now().getTime() + wait).toISOString();
  }

  /**
   * Delivers what is due in the outbox: each item is leased (no other instance takes it), sent
   * through its adapter with the identity map's current remote id, and then removed (delivered,
   * or failed for good) or rescheduled with backoff. Returns how many items were handled.
   */
  async deliver(opts: { limit?: number; leaseMs?: number; poll?: boolean } = {}): Promise<number> {
    const outbox = this.#d.outbox;
    if (!outbox) {
      return 0;
    }
    const now = this.#d.now().toISOString();
    const due = await outbox.claimDue(now, opts.limit ?? 100, opts.leaseMs ?? 60_000, opts.poll);
    const groups = new Map<string, OutboxItem[]>();
    for (const item of due) {
      const key = `${item.provider}:${item.kind}`;
      const group = groups.get(key);
      if (group) {
        group.push(item);
      } else {
        groups.set(key, [item]);
      }
    }
    await Promise.all(
      [...groups.values()].map(async (items) => {
        const { provider, kind } = items[0]!;
        const adapter = this.#d.registry.get(provider).adapter;
        if (!adapter) {
          const error: ProviderErrorInfo = {
            code: 'PROVIDER_NOT_ENABLED',
            message: `${provider} is not enabled; the write waits until it is`,
            httpStatus: null,
            retryable: true,
            details: null,
          };
          await Promise.all(
            items.map((i) => outbox.reschedule(i.id, this.nextAttemptAt(i.attempts), error)),
          );
          return;
        }
        const records = await Promise.all(items.map((i) => this.#d.store.get(i.gatewayId)));
        const writes = items.map((i, n) => {
          const record = records[n];
          return {
            ...i.item,
            ref: i.id,
            remoteId: record?.records[provider]?.remoteId ?? i.item.remoteId,
            known: record?.view ?? i.item.known,
          };
        });
        const ctx = { stats: { upstreamRequests: 0 } };
        const results = await dispatchWrites(
          adapter,
          kind,
          writes.map((item, n) => ({ item, importId: items[n]!.importId ?? null })),
          ctx,
          (err) => {
            this.#d.logger.error({ err, provider }, 'outbox delivery threw');
            // A bug may be fixed by a deploy: the write stays queued.
            return { code: 'INTERNAL', message: 'delivery failed', retryable: true };
          },
        );
        await Promise.all(
          items.map(async (item, n) => {
            const r = results[n]!;
            if (SUCCESS.has(r.status)) {
              await this.#recordDelivered(item, r, records[n] ?? null);
              await outbox.finish(item.id, {
                status: 'DELIVERED',
                remoteId: r.remoteId,
                error: r.error,
              });
              this.#d.logger.info(
                { provider, outboxId: item.id, attempts: item.attempts, status: r.status },
                'queued write delivered',
              );
            } else if (r.status === 'QUEUED' || (r.status === 'FAILED' && r.error?.retryable)) {
              await outbox.reschedule(
                item.id,
                this.nextAttemptAt(item.attempts + 1, r.error),
                r.error ?? {
                  code: 'QUEUED',
                  message: 'the provider has not finished the write yet',
                  retryable: true,
                },
              );
            } else {
              await outbox.finish(item.id, {
                status: 'FAILED',
                remoteId: r.remoteId,
                error: r.error,
              });
              this.#d.logger.warn(
                { provider, outboxId: item.id, code: r.error?.code, status: r.status },
                'queued write failed for good and left the outbox',
              );
            }
          }),
        );
      }),
    );
    return due.length;
  }

  /** A delivered queued write: merge it into the identity map and link the remote id. */
  async #recordDelivered(item: OutboxItem, r: Outcome, found: IdentityRecord | null) {
    const record = found ?? (await this.#d.store.get(item.gatewayId));
    if (!record) {
      return;
    }
    const now = this.#d.now().toISOString();
    recordWritten(record, item.item.patch, [{ provider: item.provider, outcome: r }], now);
    await this.#d.store.save(record);
  }
}

/** The wait a provider asked for (`Retry-After`, kept as `details.retryAfterMs`), else 0. */
function retryAfterOf(error: ProviderErrorInfo | null | undefined): number {
  const wait = error?.details?.['retryAfterMs'];
  return typeof wait === 'number' && Number.isFinite(wait) && wait > 0 ? wait : 0;
}

/** The provider job a QUEUED outcome waits for (an `importId`). */
export function importIdOf(details: Record<string, unknown> | null): string | null {
  const id = details?.['importId'];
  return typeof id === 'string' && id !== '' ? id : null;
}
