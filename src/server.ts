// First: graphql-js in its production mode (src/runtime/graphql-mode.ts).
import './runtime/graphql-mode.js';
import type { AddressInfo } from 'node:net';
import { createGateway } from './app.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { shutdown, trackRequests } from './http-server/lifecycle.js';
import { createHttpServer } from './http-server/server-options.js';
import { createLogger } from './logger.js';
import { startSandboxes } from './sandbox-mode.js';
import {
  describeListenError,
  describeUnknownVariable,
  findUnknownVariables,
  LISTEN_FAILED_EXIT_CODE,
} from './startup.js';
import { StoreUnavailableError } from './store/errors.js';
import { openStores } from './store/open.js';

async function main() {
  let config: Config;
  try {
    process.loadEnvFile?.();
  } catch {
    // no .env file: the environment is the configuration
  }
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const format =
    config.logFormat === 'auto' ? (process.stdout.isTTY ? 'pretty' : 'json') : config.logFormat;
  const logger = createLogger(config.logLevel, undefined, format);
  for (const unknown of findUnknownVariables(process.env)) {
    logger.warn(
      { variable: unknown.name, didYouMean: unknown.suggestion },
      describeUnknownVariable(unknown),
    );
  }
  const stores = await openStores(config.storage).catch((err: unknown) => {
    if (err instanceof StoreUnavailableError) {
      // One line saying which server and which bound, then exit 1 (never a silent hang).
      logger.fatal({ store: 'postgres', reason: err.reason }, `cannot start: ${err.message}`);
      logger.flush();
      process.exit(1);
    }
    throw err;
  });
  const postgres = stores.engine === 'postgres';
  logger.info(
    {
      store: stores.engine,
      location: stores.location,
      ...(postgres ? { poolSize: config.storage.poolSize } : {}),
    },
    `state (identity map, idempotency, outbox): ${postgres ? `PostgreSQL at ${stores.location} (at most ${config.storage.poolSize} connections, DATABASE_POOL_SIZE)` : `embedded database at ${stores.location}`}`,
  );
  const sandboxes = config.sandboxMode
    ? await startSandboxes(config, { dataDir: config.storage.dataDir })
    : null;
  const gateway = createGateway(sandboxes?.config ?? config, {
    logger,
    stores,
    ...(sandboxes ? { sandboxed: sandboxes.sandboxed } : {}),
  });

  const tracker = trackRequests(gateway.listener);
  const server = createHttpServer(tracker.listener, config.server);
  server.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  }).catch((err: unknown) => {
    const message = describeListenError(err, config.host, config.port);
    if (message) {
      logger.fatal({ code: (err as NodeJS.ErrnoException).code }, message);
      logger.flush();
      process.exit(LISTEN_FAILED_EXIT_CODE);
    }
    throw err;
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}/graphql`;

  if (sandboxes) {
    logger.info(
      { sandboxData: sandboxes.persistedIn },
      `no provider credentials set: sandbox mode, every emulator runs in-process${sandboxes.persistedIn ? ` (records kept in ${sandboxes.persistedIn})` : ''}`,
    );
  }
  for (const entry of gateway.registry.entries) {
    const sandbox = sandboxes?.sandboxes.find((s) => s.provider === entry.id)?.sandbox;
    logger.info(
      {
        provider: entry.id,
        mode: entry.mode,
        ...(entry.adapter ? { baseUrl: entry.adapter.baseUrl } : {}),
        ...(entry.reason ? { reason: entry.reason } : {}),
        ...(sandbox ? { sandboxControls: `${sandbox.url}/__sandbox/requests` } : {}),
      },
      `${entry.id}: ${entry.mode}${entry.adapter ? ` → ${entry.adapter.baseUrl}` : ''}${entry.reason ? ` (${entry.reason})` : ''}`,
    );
  }
  const { apiKeys, production, graphiql } = config.gateway;
  if (apiKeys.length === 0) {
    logger.info(
      { auth: 'anonymous', host: config.host },
      `no GATEWAY_API_KEYS: anonymous access with every scope, listening on loopback only (${config.host}); set keys to serve other machines`,
    );
  } else {
    logger.info(
      { auth: 'api-keys', keys: apiKeys.map((k) => ({ name: k.name, scopes: k.scopes })) },
      `${apiKeys.length} API key(s): ${apiKeys.map((k) => `${k.name} [${k.scopes.join(', ')}]`).join('; ')}`,
    );
  }
  logger.info(
    { url, port, production, graphiql },
    graphiql
      ? `GraphiQL ready at ${url}`
      : `GraphQL endpoint at ${url} (GraphiQL and introspection off)`,
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      return;
    }
    stopping = true;
    await shutdown(signal, {
      server,
      tracker,
      drain: () => gateway.drain(),
      close: async () => {
        await gateway.close();
        await sandboxes?.close();
      },
      timeoutMs: config.server.shutdownTimeoutMs,
      logger,
    });
    logger.flush();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  console.error('contact-gateway failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
