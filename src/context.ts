import type { Caller } from './auth/scopes.js';
import type { IdempotencyGuard } from './contacts/idempotency.js';
import type { RequestScope } from './contacts/loaders.js';
import type { ContactsService } from './contacts/service.js';
import type { Lifecycle } from './lifecycle/index.js';
import type { ProviderRegistry } from './providers/registry.js';

/** The GraphQL context: shared services plus this request's scope (loaders, counters, signal). */
export interface GraphQLContext {
  service: ContactsService;
  /** Write history notifications, webhooks, async batches. */
  lifecycle: Lifecycle;
  registry: ProviderRegistry;
  scope: RequestScope;
  idempotent: IdempotencyGuard;
  /** The `Idempotency-Key` request header, when sent. */
  idempotencyHeader: string | null;
  /** Who is calling and with which scopes (the anonymous loopback caller when no keys are set). */
  caller: Caller;
  /** This request's id, as echoed in `x-request-id`. */
  requestId: string;
}
