import type { Logger } from 'pino';
import type { OutboxStore } from '../store/outbox.js';
import type { BatchRunner } from './batches.js';
import type { LifecycleConfig } from './config.js';
import type { JobHandler, JobStore } from './jobs.js';

export type { JobHandler };

import { WriteWatcher } from './watch.js';
import { postWebhook, type WebhookEvent, writeEvent } from './webhooks.js';

/** Longest wait between two deliveries of one webhook event. */
const WEBHOOK_MAX_DELAY_MS = 10 * 60 * 1000;
/** How often ended writes, done jobs and finished batches past their TTL are forgotten. */
const PURGE_EVERY_MS = 60_000;

export const WEBHOOK_JOB = 'webhook';

export interface LifecycleDeps {
  config: LifecycleConfig;
  /** The outbox (write history); null when GATEWAY_OUTBOX=off. */
  outbox: OutboxStore | null;
  jobs: JobStore;
  logger: Logger;
  /** How long a taken job is reserved for its taker. */
  leaseMs: number;
}

/**
 * Following writes to their end: the write history's notifications (the `writeUpdated` watcher,
 * signed webhooks) and the background jobs that carry them (webhook events, async batches), run
 * by whichever replica leases them first.
 */
export class Lifecycle {
  readonly config: LifecycleConfig;
  readonly watcher: WriteWatcher | null;
  readonly jobs: JobStore;
  /** Async batches (set once the service exists). */
  batches: BatchRunner | null = null;
  readonly #outbox: OutboxStore | null;
  readonly #logger: Logger;
  readonly #leaseMs: number;
  readonly #handlers: JobHandler[] = [];
  readonly #running = new Map<string, Promise<unknown>>();
  #timer: NodeJS.Timeout | null = null;
  /**
   * No job was open at the last look: the timer runs at the purge's pace until a write (or, on
   * PostgreSQL, the store's horizon).
   */
  #asleep = false;
  #stopped = false;
  #lastPurge = 0;

  constructor(deps: LifecycleDeps) {
    this.config = deps.config;
    this.jobs = deps.jobs;
    this.#outbox = deps.outbox;
    this.#logger = deps.logger;
    this.#leaseMs = deps.leaseMs;
    this.watcher = deps.outbox
      ? new WriteWatcher(deps.outbox, deps.config.watchPollMs, deps.logger)
      : null;
    if (deps.config.webhookUrl && deps.config.webhookSecret) {
      const url = deps.config.webhookUrl;
      const secret = deps.config.webhookSecret;
      this.#handlers.push({
        type: WEBHOOK_JOB,
        limit: 20,
        run: (job) =>
          postWebhook(
            url.reveal(),
            secret.reveal(),
            job.payload as WebhookEvent,
            deps.config.webhookTimeoutMs,
          ),
      });
    }
  }

  get webhooks(): boolean {
    return this.config.webhookUrl !== null;
  }

  /** Adds a kind of job (async batches). */
  handle(handler: JobHandler): void {
    this.#handlers.push(handler);
  }

  /**
   * The outbox as the delivery sees it: a write that ends also becomes a webhook event (one job
   * per event: its id is the event's, so a second replica ending it adds nothing) and wakes the
   * subscriptions.
   */
  track(outbox: OutboxStore): OutboxStore {
    return {
      ...outbox,
      finish: async (id, end) => {
        const ended = await outbox.finish(id, end);
        if (ended) {
          await this.emit(writeEvent(ended));
          this.watcher?.kick();
        }
        return ended;
      },
    };
  }

  /** Queues a webhook event (no-op without GATEWAY_WEBHOOK_URL). */
  async emit(event: WebhookEvent): Promise<void> {
    if (!this.webhooks) {
      return;
    }
    const now = new Date().toISOString();
    await this.jobs.add(
      [{ id: event.id, type: WEBHOOK_JOB, payload: event, nextAttemptAt: now }],
      now,
    );
    this.kick();
  }

  /**
   * Looks for jobs every `jobsPollMs` until stopped. Once a look finds no job of any kind open, it
   * looks only every PURGE_EVERY_MS (for the purge) until this process writes a job, and on
   * PostgreSQL (other replicas add jobs) for `GATEWAY_REPLICA_POLL_MS` (10 s) at most
   * (src/store/due-gate.ts): an idle gateway does not wake four times a second, nor ask its
   * database.
   */
  start(): void {
    if (this.config.jobsPollMs > 0 && !this.#timer) {
      this.#pace(this.config.jobsPollMs, false);
    }
  }

  #pace(ms: number, asleep: boolean): void {
    if (this.#timer) {
      clearInterval(this.#timer);
    }
    this.#asleep = asleep;
    this.#timer = setInterval(() => this.#tick(), ms);
    this.#timer.unref();
  }

  #tick(): void {
    this.kick();
    if (!this.jobs.sleep || this.#asleep) {
      return;
    }
    void Promise.all(this.#running.values()).then(() => {
      if (this.#stopped || this.#running.size > 0 || this.#asleep) {
        return;
      }
      const types = this.#handlers.map((h) => h.type);
      if (this.jobs.sleep?.(types, () => this.#wake())) {
        this.#pace(Math.max(PURGE_EVERY_MS, this.config.jobsPollMs), true);
      }
    });
  }

  /** A job was written while the timer slept: look every `jobsPollMs` again. */
  #wake(): void {
    if (!this.#stopped && this.#timer && this.#asleep) {
      this.#pace(this.config.jobsPollMs, false);
    }
  }

  /** Looks for due jobs now (each kind: one run at a time). */
  kick(): void {
    if (this.#stopped) {
      return;
    }
    for (const handler of this.#handlers) {
      if (!this.#running.has(handler.type)) {
        const run = this.#runDue(handler, true)
          .catch((err: unknown) => this.#logger.error({ err, job: handler.type }, 'jobs failed'))
          .finally(() => this.#running.delete(handler.type));
        this.#running.set(handler.type, run);
      }
    }
    if (Date.now() - this.#lastPurge > PURGE_EVERY_MS) {
      this.#lastPurge = Date.now();
      void this.purge().catch((err: unknown) => this.#logger.warn({ err }, 'purge failed'));
    }
  }

  /** Runs what is due of every kind once (tests drive it). */
  async runDue(): Promise<void> {
    for (const handler of this.#handlers) {
      await (this.#running.get(handler.type) ?? this.#runDue(handler, false));
    }
  }

  /** Forgets what ended more than GATEWAY_WRITE_HISTORY_TTL_MS ago. */
  async purge(): Promise<void> {
    const before = new Date(Date.now() - this.config.writeHistoryTtlMs).toISOString();
    await Promise.all([this.#outbox?.purge(before), this.jobs.purge(before)]);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
    await this.watcher?.stop();
    await Promise.all(this.#running.values());
  }

  /** `poll`: the timer's look (or a kick), which the store's gate may answer (due-gate.ts). */
  async #runDue(handler: JobHandler, poll: boolean): Promise<void> {
    const now = new Date().toISOString();
    const due = await this.jobs.claimDue(handler.type, now, handler.limit, this.#leaseMs, poll);
    await Promise.all(
      due.map(async (job) => {
        const lease = {
          extend: () =>
            this.jobs.extend(job.id, new Date(Date.now() + this.#leaseMs).toISOString()),
        };
        try {
          await handler.run(job, lease);
          await this.jobs.done(job.id, new Date().toISOString());
        } catch (err) {
          const reason = err instanceof Error ? err.message : String(err);
          if (job.type === WEBHOOK_JOB && job.attempts >= this.config.webhookMaxAttempts) {
            this.#logger.error(
              { event: (job.payload as WebhookEvent).id, attempts: job.attempts, reason },
              'webhook event dropped after its last attempt',
            );
            await this.jobs.done(job.id, new Date().toISOString());
            return;
          }
          const cap = Math.min(
            WEBHOOK_MAX_DELAY_MS,
            this.config.webhookBaseDelayMs * 2 ** Math.max(0, job.attempts - 1),
          );
          const wait = cap / 2 + (Math.random() * cap) / 2;
          this.#logger.warn(
            { job: job.type, id: job.id, attempts: job.attempts, reason },
            'job failed; retried',
          );
          await this.jobs.retry(job.id, new Date(Date.now() + wait).toISOString(), reason);
        }
      }),
    );
  }
}
