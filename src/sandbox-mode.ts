import path from 'node:path';
import { z } from 'zod';
import type { Config } from './config.js';
import type { ProviderId } from './model/contact.js';
import { readProvider, type SandboxFactory } from './providers/descriptor.js';
import { createEnvTools } from './providers/env.js';
import {
  type AnyProvider,
  PROVIDERS,
  providerDescriptor,
  type SandboxCredentials,
} from './providers/registry.js';
import { type PersistedSandbox, persistSandbox } from './sandbox/shared/persist.js';
import type { StartedSandbox } from './sandbox/shared/server.js';

/** Credentials the in-process sandboxes accept; they never leave the loopback interface. */
export const SANDBOX_CREDENTIALS = Object.fromEntries(
  PROVIDERS.map((p) => [p.key, p.sandbox.credentials]),
) as SandboxCredentials;

/** One provider's emulator (its descriptor's `sandbox`), and how to point a config at it. */
export interface SandboxDescriptor
  extends Pick<SandboxFactory, 'defaultPort' | 'envName' | 'start' | 'env'> {
  provider: ProviderId;
  configure(config: Config, url: string): Config;
}

/**
 * The provider's config pointing at its sandbox at `url`: what `read` makes of the sandbox's
 * variables, with the running config's tuning (`<key>Options`) kept.
 */
function sandboxConfig(p: AnyProvider, options: unknown, url: string): unknown {
  const problems: string[] = [];
  const { config } = readProvider(
    p,
    z.object(p.env).parse(p.sandbox.env(url)),
    createEnvTools(problems),
  );
  if (config === null || problems.length > 0) {
    throw new Error(
      `the ${p.id} sandbox environment does not configure it: ${problems.join('; ')}`,
    );
  }
  return { ...(config as object), ...(options as object) };
}

/** Every provider's sandbox, from its descriptor (`src/providers/<name>/descriptor.ts`). */
export const SANDBOXES: readonly SandboxDescriptor[] = PROVIDERS.map(({ id }) => {
  const p = providerDescriptor(id);
  const { key, sandbox } = p;
  return {
    provider: id,
    defaultPort: sandbox.defaultPort,
    envName: sandbox.envName,
    start: (host, port) => sandbox.start(host, port),
    configure: (config, url) => ({
      ...config,
      [key]: sandboxConfig(p, config[`${key}Options`], url),
    }),
    env: (url) => sandbox.env(url),
  };
});

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
