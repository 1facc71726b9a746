import path from 'node:path';
import { type Config, Secret } from './config.js';
import type { ProviderId } from './model/contact.js';
import { startDigitalOnboardingSandbox } from './sandbox/digital-onboarding/index.js';
import { startDotdigitalSandbox } from './sandbox/dotdigital/index.js';
import { startNotifuseSandbox } from './sandbox/notifuse/index.js';
import { startSalesforceMcSandbox } from './sandbox/salesforce-mc/index.js';
import { type PersistedSandbox, persistSandbox } from './sandbox/shared/persist.js';
import type { StartedSandbox } from './sandbox/shared/server.js';

/** Credentials the in-process sandboxes accept; they never leave the loopback interface. */
export const SANDBOX_CREDENTIALS = {
  notifuse: { apiKey: 'sandbox-notifuse-api-key', workspaceId: 'sandbox' },
  dotdigital: {
    username: 'apiuser-sandbox@apiconnector.com',
    password: 'sandbox-dotdigital-password',
  },
  salesforceMc: { clientId: 'sandbox-sfmc-client', clientSecret: 'sandbox-sfmc-client-secret' },
  digitalOnboarding: {
    token: 'sandbox-digital-onboarding-token',
    clientId: 'sandbox-do-client',
    clientSecret: 'sandbox-do-client-secret',
  },
} as const;

/**
 * One provider's emulator: how to start it, how to point a gateway's config at it, and the
 * environment variables that do the same for a gateway in another process (`npm run sandboxes`).
 */
export interface SandboxDescriptor {
  provider: ProviderId;
  /** Fixed port for `npm run sandboxes` (env `SANDBOX_<NAME>_PORT` overrides). */
  defaultPort: number;
  /** `SANDBOX_<envName>_PORT`. */
  envName: string;
  start(host: string, port: number): Promise<StartedSandbox>;
  configure(config: Config, url: string): Config;
  env(url: string): Record<string, string>;
}

export const SANDBOXES: readonly SandboxDescriptor[] = [
  {
    provider: 'NOTIFUSE',
    defaultPort: 4101,
    envName: 'NOTIFUSE',
    start: (host, port) => startNotifuseSandbox({ ...SANDBOX_CREDENTIALS.notifuse, host, port }),
    configure: (config, url) => ({
      ...config,
      notifuse: {
        ...config.notifuseOptions,
        url,
        apiKey: new Secret(SANDBOX_CREDENTIALS.notifuse.apiKey),
        workspaceId: SANDBOX_CREDENTIALS.notifuse.workspaceId,
      },
    }),
    env: (url) => ({
      NOTIFUSE_URL: url,
      NOTIFUSE_API_KEY: SANDBOX_CREDENTIALS.notifuse.apiKey,
      NOTIFUSE_WORKSPACE_ID: SANDBOX_CREDENTIALS.notifuse.workspaceId,
    }),
  },
  {
    provider: 'DOTDIGITAL',
    defaultPort: 4102,
    envName: 'DOTDIGITAL',
    start: (host, port) =>
      startDotdigitalSandbox({ ...SANDBOX_CREDENTIALS.dotdigital, host, port }),
    configure: (config, url) => ({
      ...config,
      dotdigital: {
        ...config.dotdigitalOptions,
        url,
        username: SANDBOX_CREDENTIALS.dotdigital.username,
        password: new Secret(SANDBOX_CREDENTIALS.dotdigital.password),
      },
    }),
    env: (url) => ({
      DOTDIGITAL_URL: url,
      DOTDIGITAL_USERNAME: SANDBOX_CREDENTIALS.dotdigital.username,
      DOTDIGITAL_PASSWORD: SANDBOX_CREDENTIALS.dotdigital.password,
    }),
  },
  {
    provider: 'SALESFORCE_MC',
    defaultPort: 4103,
    envName: 'SFMC',
    start: (host, port) =>
      startSalesforceMcSandbox({ ...SANDBOX_CREDENTIALS.salesforceMc, host, port }),
    configure: (config, url) => ({
      ...config,
      salesforceMc: {
        ...config.salesforceMcOptions,
        authUrl: url,
        clientId: SANDBOX_CREDENTIALS.salesforceMc.clientId,
        clientSecret: new Secret(SANDBOX_CREDENTIALS.salesforceMc.clientSecret),
        accountId: null,
      },
    }),
    env: (url) => ({
      SFMC_AUTH_URL: url,
      SFMC_CLIENT_ID: SANDBOX_CREDENTIALS.salesforceMc.clientId,
      SFMC_CLIENT_SECRET: SANDBOX_CREDENTIALS.salesforceMc.clientSecret,
    }),
  },
  {
    provider: 'DIGITAL_ONBOARDING',
    defaultPort: 4104,
    envName: 'DIGITAL_ONBOARDING',
    start: (host, port) =>
      startDigitalOnboardingSandbox({
        token: SANDBOX_CREDENTIALS.digitalOnboarding.token,
        client: {
          id: SANDBOX_CREDENTIALS.digitalOnboarding.clientId,
          secret: SANDBOX_CREDENTIALS.digitalOnboarding.clientSecret,
        },
        host,
        port,
      }),
    configure: (config, url) => ({
      ...config,
      digitalOnboarding: {
        ...config.digitalOnboardingOptions,
        url,
        token: new Secret(SANDBOX_CREDENTIALS.digitalOnboarding.token),
      },
    }),
    env: (url) => ({
      DIGITAL_ONBOARDING_URL: url,
      DIGITAL_ONBOARDING_TOKEN: SANDBOX_CREDENTIALS.digitalOnboarding.token,
    }),
  },
];

export interface RunningSandboxes {
  /** The config with every sandboxed provider pointed at its emulator. */
  config: Config;
  sandboxed: ReadonlySet<ProviderId>;
  sandboxes: ReadonlyArray<{ provider: ProviderId; sandbox: StartedSandbox }>;
  /** Where the sandboxes keep their records (`<dataDir>/sandboxes`), or null: in memory. */
  persistedIn: string | null;
  close(): Promise<void>;
}

/**
 * Sandbox mode: start every provider emulator on a loopback port and wire it in. Used by
 * `npm start` when no provider has credentials, and by the integration tests.
 */
export async function startSandboxes(
  config: Config,
  opts: {
    host?: string;
    only?: readonly ProviderId[];
    /**
     * Keep every sandbox's records under `<dataDir>/sandboxes/` (loaded now, written on every
     * change), so they live as long as the gateway's own state there. A `memory://` location or
     * none: in memory only.
     */
    dataDir?: string;
  } = {},
): Promise<RunningSandboxes> {
  const host = opts.host ?? '127.0.0.1';
  const chosen = SANDBOXES.filter((d) => !opts.only || opts.only.includes(d.provider));
  const settled = await Promise.allSettled(chosen.map((d) => d.start(host, 0)));
  const started = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) {
    // Do not leave the others listening when one cannot start.
    await Promise.all(started.map((s) => s.close()));
    throw failed.reason;
  }
  const sandboxes = chosen.map((d, i) => ({ provider: d.provider, sandbox: started[i]! }));
  const persisted: PersistedSandbox[] = [];
  const dir = opts.dataDir;
  if (dir !== undefined && !dir.includes('://')) {
    try {
      for (const { sandbox } of sandboxes) {
        const store = (sandbox as StartedSandbox & { store?: object }).store;
        if (store) {
          persisted.push(persistSandbox(sandbox.name, store, sandbox.controls, dir));
        }
      }
    } catch (err) {
      await Promise.all(started.map((s) => s.close()));
      throw err;
    }
  }
  const wired = chosen.reduce((c, d, i) => d.configure(c, started[i]!.url), config);
  return {
    config: wired,
    sandboxed: new Set<ProviderId>(sandboxes.map((s) => s.provider)),
    sandboxes,
    persistedIn: persisted.length > 0 ? path.join(dir!, 'sandboxes') : null,
    async close() {
      for (const p of persisted) {
        p.close();
      }
      await Promise.all(sandboxes.map((s) => s.sandbox.close()));
    },
  };
}
