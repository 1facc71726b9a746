import type { Logger } from 'pino';
import type { ProviderRegistry } from '../providers/registry.js';
import type { IdentityRecord, IdentityStore } from '../store/identity.js';
import type { OutboxItem, OutboxStore, WriteFilter } from '../store/outbox.js';
import type { ContactsDeps } from './deps.js';
import type { RequestScope } from './loaders.js';
import { OutboxDelivery } from './outbox-delivery.js';
import {
  type BatchPayload,
  type ContactView,
  contactView,
  type WriteOptions,
  type WritePayload,
} from './payload.js';
import { ContactReads } from './read.js';
import { DEFAULT_JSON_LIMITS, type JsonLimits, type RawContactInput } from './validation.js';
import { ContactWrites } from './write.js';

export type { Outcome, OutcomeStatus } from '../model/outcome.js';
export type { BatchPayload, ContactView, WriteOptions, WritePayload } from './payload.js';

export interface ContactsServiceDeps {
  registry: ProviderRegistry;
  store: IdentityStore;
  logger: Logger;
  /**
   * Where writes whose retries ended on a retryable failure wait (QUEUED) to be delivered in the
   * background. Without one they are reported FAILED (retryable) and nothing is kept.
   */
  outbox?: OutboxStore;
  /** First wait before a queued write is tried again; it doubles per attempt up to 10 min. @default 5000 */
  outboxBaseDelayMs?: number;
  /** Bounds on JSON input values (`customFields`). @default DEFAULT_JSON_LIMITS */
  jsonLimits?: JsonLimits;
  now?: () => Date;
}

/**
 * The contacts service, what the resolvers call: writes (`write.ts`), reads (`read.ts`), the
 * write history and outbox delivery (`outbox-delivery.ts`). It never talks HTTP; the request's
 * loaders batch onto each provider's write engine.
 */
export class ContactsService {
  readonly #outbox: OutboxStore | null;
  readonly #writes: ContactWrites;
  readonly #reads: ContactReads;
  readonly #delivery: OutboxDelivery;

  constructor(deps: ContactsServiceDeps) {
    const shared: ContactsDeps = {
      registry: deps.registry,
      store: deps.store,
      logger: deps.logger,
      outbox: deps.outbox ?? null,
      outboxBaseDelayMs: deps.outboxBaseDelayMs ?? 5_000,
      jsonLimits: deps.jsonLimits ?? DEFAULT_JSON_LIMITS,
      now: deps.now ?? (() => new Date()),
      view: (record, readErrors, times, owned) => this.toContact(record, readErrors, times, owned),
    };
    this.#outbox = shared.outbox;
    this.#delivery = new OutboxDelivery(shared);
    this.#writes = new ContactWrites(shared, this.#delivery);
    this.#reads = new ContactReads(shared);
  }

  upsertContact(
    input: RawContactInput,
    options: WriteOptions,
    scope: RequestScope,
  ): Promise<WritePayload> {
    return this.#writes.upsertContact(input, options, scope);
  }

  upsertContacts(
    inputs: readonly RawContactInput[],
    options: WriteOptions,
    scope: RequestScope,
  ): Promise<BatchPayload> {
    return this.#writes.upsertContacts(inputs, options, scope);
  }

  updateContact(
    id: string,
    patch: RawContactInput,
    options: WriteOptions,
    scope: RequestScope,
  ): Promise<WritePayload> {
    return this.#writes.updateContact(id, patch, options, scope);
  }

  getContact(
    by: { id?: string | null; email?: string | null; externalId?: string | null },
    scope: RequestScope,
  ): Promise<ContactView | null> {
    return this.#reads.getContact(by, scope);
  }

  getContacts(
    by: { ids?: readonly string[] | null; emails?: readonly string[] | null },
    scope: RequestScope,
  ): Promise<Array<ContactView | null>> {
    return this.#reads.getContacts(by, scope);
  }

  /** One write of the history (`Query.write`). */
  write(id: string): Promise<OutboxItem | null> {
    return this.#outbox ? this.#outbox.get(id) : Promise.resolve(null);
  }

  /** A page of the write history, newest first (`Query.writes`). */
  writes(filter: WriteFilter): Promise<{ items: OutboxItem[]; hasMore: boolean }> {
    return this.#outbox
      ? this.#outbox.page(filter)
      : Promise.resolve({ items: [], hasMore: false });
  }

  /** What waits in the outbox (`pendingWrites`), oldest first. */
  pendingWrites(limit: number): Promise<OutboxItem[]> {
    return this.#outbox ? this.#outbox.list(limit) : Promise.resolve([]);
  }

  /** Delivers what is due in the outbox (see `OutboxDelivery.deliver`); how many were handled. */
  deliverOutbox(opts: { limit?: number; leaseMs?: number; poll?: boolean } = {}): Promise<number> {
    return this.#delivery.deliver(opts);
  }

  /** The answer's view of a record (a method, not `#private`, so a test can make it fail). */
  private toContact(
    record: IdentityRecord,
    readErrors: ContactView['readErrors'],
    times?: { createdAt: string | null; updatedAt: string | null },
    owned?: boolean,
  ): ContactView {
    return contactView(record, readErrors, times, owned);
  }
}
