import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { createGateway, type Gateway } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import type { ProviderId } from '../../src/model/contact.js';
import type { NotifuseSandbox } from '../../src/sandbox/notifuse/index.js';
import { type RunningSandboxes, startSandboxes } from '../../src/sandbox-mode.js';
import { openStores } from '../../src/store/open.js';

export interface Replicas {
  sandboxes: RunningSandboxes;
  replicas: Gateway[];
  close(): Promise<void>;
}

/**
 * `count` gateway instances (replicas) on one PostgreSQL (`DATABASE_URL`, set by .ci/run) and one
 * schema of their own, calling the same sandboxes: they share the identity map, the idempotency
 * records and the outbox. `file` names the test file in the error when DATABASE_URL is missing.
 */
export async function startReplicas(
  file: string,
  env: Record<string, string>,
  opts: { only: readonly ProviderId[]; count?: number },
): Promise<Replicas> {
  const databaseUrl = process.env['DATABASE_URL'];
  if (!databaseUrl) {
    throw new Error(`${file} needs DATABASE_URL (see .ci/run)`);
  }
  const config = loadConfig({ LOG_LEVEL: 'silent', DATABASE_URL: databaseUrl, ...env });
  const sandboxes = await startSandboxes(config, { only: opts.only });
  const schema = `r_${randomUUID().replaceAll('-', '')}`;
  const replicas: Gateway[] = [];
  for (let i = 0; i < (opts.count ?? 2); i += 1) {
    const stores = await openStores(sandboxes.config.storage, { schema });
    replicas.push(
      createGateway(sandboxes.config, {
        logger: createLogger('silent'),
        sandboxed: sandboxes.sandboxed,
        stores,
      }),
    );
  }
  return {
    sandboxes,
    replicas,
    async close() {
      await Promise.all(replicas.map((g) => g.close()));
      await sandboxes.close();
    },
  };
}

/** A GraphQL request to one gateway instance through `yoga.fetch`; the parsed answer. */
export async function gatewayGql<T>(
  g: Gateway,
  query: string,
  variables: Record<string, unknown>,
): Promise<T> {
  const res = await g.yoga.fetch('http://gateway/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as T;
}

/**
 * Two replicas calling the Notifuse sandbox alone (`startReplicas`), started before the file's
 * tests (after the hooks the file registered first: `env` may read what they made) and closed
 * after them. Read `replicas` and `notifuse` inside tests.
 */
export function notifuseReplicas(file: string, env: () => Record<string, string>) {
  let started: Replicas | undefined;
  beforeAll(async () => {
    started = await startReplicas(file, env(), { only: ['NOTIFUSE'] });
  }, 60_000);
  afterAll(async () => {
    await started?.close();
  });
  const running = () => {
    if (!started) {
      throw new Error(`${file}: the replicas are not started (read them inside a test)`);
    }
    return started;
  };
  return {
    /** The running replicas (the array `close` stops: remove one stopped early). */
    get replicas(): Gateway[] {
      return running().replicas;
    },
    get notifuse(): NotifuseSandbox {
      return running().sandboxes.sandboxes[0]!.sandbox as NotifuseSandbox;
    },
  };
}
