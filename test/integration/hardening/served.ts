import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGateway, type Gateway, type GatewayDeps } from '../../../src/app.js';
import { loadConfig } from '../../../src/config.js';
import { createLogger } from '../../../src/logger.js';
import { type RunningSandboxes, startSandboxes } from '../../../src/sandbox-mode.js';
import { KEYS_ENV } from './keys.js';

/** A gateway with the test keys, in production mode, on the sandboxes, behind a real port. */
export interface ServedGateway {
  gateway: Gateway;
  sandboxes: RunningSandboxes;
  server: Server;
  port: number;
  /** Every log line so far, parsed. */
  lines: Array<Record<string, unknown>>;
  /** `request` log lines by request id. */
  logged(requestId: string): Array<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function serveGateway(
  env: Record<string, string>,
  deps: Pick<GatewayDeps, 'fastLane'> = {},
): Promise<ServedGateway> {
  const lines: Array<Record<string, unknown>> = [];
  const sandboxes = await startSandboxes(
    loadConfig({ ...KEYS_ENV, NODE_ENV: 'production', ...env }),
  );
  const gateway = createGateway(sandboxes.config, {
    ...deps,
    sandboxed: sandboxes.sandboxed,
    logger: createLogger('info', {
      write: (l: string) => lines.push(JSON.parse(l) as Record<string, unknown>),
    } as unknown as NodeJS.WritableStream),
  });
  const server: Server = createServer(gateway.listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    gateway,
    sandboxes,
    server,
    port: (server.address() as AddressInfo).port,
    lines,
    logged: (requestId) =>
      lines.filter((e) => e['msg'] === 'request' && e['requestId'] === requestId),
    async close() {
      await new Promise((resolve) => server.close(resolve));
      await gateway.close();
      await sandboxes.close();
    },
  };
}
