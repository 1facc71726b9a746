import { createGateway, type Gateway } from '../../src/app.js';
import { type Config, loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import type { NotifuseSandbox } from '../../src/sandbox/notifuse/index.js';
import { type RunningSandboxes, startSandboxes } from '../../src/sandbox-mode.js';

export interface TestGateway {
  gateway: Gateway;
  sandboxes: RunningSandboxes;
  notifuse: NotifuseSandbox;
  gql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<{
    status: number;
    data: T;
    errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
  }>;
  close(): Promise<void>;
}

/**
 * A gateway wired to real loopback sandboxes, exactly as sandbox mode wires it, queried through
 * `yoga.fetch` (no gateway port).
 */
export async function createTestGateway(
  env: Record<string, string> = {},
  tweak: (config: Config) => Config = (c) => c,
): Promise<TestGateway> {
  const sandboxes = await startSandboxes(loadConfig({ LOG_LEVEL: 'silent', ...env }));
  const gateway = createGateway(tweak(sandboxes.config), {
    logger: createLogger('silent'),
    sandboxed: sandboxes.sandboxed,
  });
  const notifuse = sandboxes.sandboxes.find((s) => s.provider === 'NOTIFUSE')!
    .sandbox as NotifuseSandbox;
  return {
    gateway,
    sandboxes,
    notifuse,
    async gql(query, variables, headers) {
      const res = await gateway.yoga.fetch('http://gateway/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { data: never; errors?: never };
      return {
        status: res.status,
        data: body.data,
        ...(body.errors ? { errors: body.errors } : {}),
      };
    },
    async close() {
      await gateway.close();
      await sandboxes.close();
    },
  };
}
