import type { Logger } from 'pino';
import type { ProviderRegistry } from '../providers/registry.js';
import type { IdentityStore } from '../store/identity.js';
import type { OutboxStore } from '../store/outbox.js';
import type { ViewOf } from './payload.js';
import type { JsonLimits } from './validation.js';

/** What the write, read and outbox-delivery paths share (resolved from the service's deps). */
export interface ContactsDeps {
  registry: ProviderRegistry;
  store: IdentityStore;
  logger: Logger;
  outbox: OutboxStore | null;
  outboxBaseDelayMs: number;
  jsonLimits: JsonLimits;
  now: () => Date;
  view: ViewOf;
}
