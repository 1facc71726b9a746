import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import type { Config } from './config.js';
import { createIdempotencyGuard } from './contacts/idempotency.js';
import type { ProviderId } from './contacts/model.js';
import { ContactsService } from './contacts/service.js';
import type { GraphQLContext } from './context.js';
import { type CallPolicy, singleAttemptPolicy } from './http/policy.js';
import { redactText } from './http/redact.js';
import { createLogger } from './logger.js';
import { createRegistry, type ProviderRegistry } from './providers/registry.js';
import { schema } from './schema/index.js';
import { createMemoryIdempotencyStore, type IdempotencyStore } from './store/idempotency.js';
import { createMemoryIdentityStore, type IdentityStore } from './store/identity.js';

export interface GatewayDeps {
  logger?: Logger;
  /** @default the embedded in-memory identity map */
  store?: IdentityStore;
  /** @default the embedded in-memory idempotency records (24 h) */
  idempotency?: IdempotencyStore;
  /** @default one attempt per call (the resilience seam) */
  policy?: CallPolicy;
  /** Providers whose URL points at an in-process sandbox (reported as SANDBOX). */
  sandboxed?: ReadonlySet<ProviderId>;
  /** Shared undici dispatcher for every provider (tests); by default each origin gets its own Pool. */
  dispatcher?: Dispatcher;
}

export interface Gateway {
  yoga: YogaServerInstance<Record<string, never>, GraphQLContext>;
  registry: ProviderRegistry;
  service: ContactsService;
  store: IdentityStore;
  close(): Promise<void>;
}

export const GRAPHIQL_EXAMPLE = `# contact-gateway: one Contact model over every provider.
# Run "UpsertOne" twice: CREATED, then UPDATED, with the same gateway id.
# Then run "ReadBack". Open the Docs pane (top left) for every type and field.

mutation UpsertOne {
  upsertContact(
    input: {
      email: "ada@example.com"
      firstName: "Ada"
      lastName: "Lovelace"
      phone: "+14155550123"
      timezone: "Europe/London"
      address: { country: "GB", postalCode: "NW1 2DB" }
    }
    options: { providers: [NOTIFUSE] }
  ) {
    contact { id email firstName lastName records { provider remoteId } }
    outcomes { provider status remoteId droppedFields attempts durationMs error { code message retryable } }
    errors { field code message }
  }
}

query ReadBack {
  contact(email: "ada@example.com") {
    id email firstName lastName phone timezone
    address { country postalCode }
    records { provider remoteId syncedAt }
  }
  providers { provider mode enabled baseUrl maxBatchSize }
}
`;

/** Yoga's log arguments as one line, credentials scrubbed (errors may quote connection strings). */
function logText(args: unknown[]): string {
  return redactText(
    args.map((a) => (a instanceof Error ? `${a.name}: ${a.message}` : String(a))).join(' '),
  );
}

/** Builds the gateway (no listening): tests call `gateway.yoga.fetch(...)`. */
export function createGateway(config: Config, deps: GatewayDeps = {}): Gateway {
  const logger = deps.logger ?? createLogger(config.logLevel);
  const store = deps.store ?? createMemoryIdentityStore();
  const idempotencyStore = deps.idempotency ?? createMemoryIdempotencyStore();
  const idempotent = createIdempotencyGuard(idempotencyStore);
  const registry = createRegistry(config, {
    policy: deps.policy ?? singleAttemptPolicy,
    ...(deps.sandboxed ? { sandboxed: deps.sandboxed } : {}),
    ...(deps.dispatcher ? { dispatcher: deps.dispatcher } : {}),
  });
  const service = new ContactsService({ registry, store, logger });
  const limits = { maxBatchInputs: config.maxBatchInputs };

  const yoga = createYoga<Record<string, never>, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    maskedErrors: true,
    graphiql: { title: 'contact-gateway', defaultQuery: GRAPHIQL_EXAMPLE },
    logging: {
      debug: (...args) => logger.debug(logText(args)),
      info: (...args) => logger.info(logText(args)),
      warn: (...args) => logger.warn(logText(args)),
      error: (...args) => logger.error(logText(args)),
    },
    context: ({ request }) => ({
      service,
      registry,
      limits,
      idempotent,
      idempotencyHeader: request.headers.get('idempotency-key'),
      scope: { registry, stats: { upstreamRequests: 0 }, signal: request.signal },
    }),
  });

  return {
    yoga,
    registry,
    service,
    store,
    async close() {
      await registry.close();
      await store.close();
      await idempotencyStore.close();
    },
  };
}
