import { type Config, Secret } from './config.js';
import type { ProviderId } from './contacts/model.js';
import { startNotifuseSandbox } from './sandbox/notifuse/index.js';
import type { StartedSandbox } from './sandbox/shared/server.js';

/** Credentials the in-process sandboxes accept; they never leave the loopback interface. */
export const SANDBOX_CREDENTIALS = {
  notifuse: { apiKey: 'sandbox-notifuse-api-key', workspaceId: 'sandbox' },
} as const;

export interface RunningSandboxes {
  /** The config with every sandboxed provider pointed at its emulator. */
  config: Config;
  sandboxed: ReadonlySet<ProviderId>;
  sandboxes: ReadonlyArray<{ provider: ProviderId; sandbox: StartedSandbox }>;
  close(): Promise<void>;
}

/**
 * Sandbox mode: start every provider emulator on a loopback port and wire it in. Used by
 * `npm start` when no provider has credentials, and by the integration tests.
 */
export async function startSandboxes(
  config: Config,
  host = '127.0.0.1',
): Promise<RunningSandboxes> {
  const notifuse = await startNotifuseSandbox({ ...SANDBOX_CREDENTIALS.notifuse, host, port: 0 });
  return {
    config: {
      ...config,
      notifuse: {
        ...config.notifuseOptions,
        url: notifuse.url,
        apiKey: new Secret(SANDBOX_CREDENTIALS.notifuse.apiKey),
        workspaceId: SANDBOX_CREDENTIALS.notifuse.workspaceId,
      },
    },
    sandboxed: new Set<ProviderId>(['NOTIFUSE']),
    sandboxes: [{ provider: 'NOTIFUSE', sandbox: notifuse }],
    async close() {
      await notifuse.close();
    },
  };
}
