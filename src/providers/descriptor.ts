import type { Dispatcher } from 'undici';
import type { z } from 'zod';
import type { HttpOptions } from '../http/client.js';
import type { CallPolicy } from '../http/policy.js';
import type { ProviderId } from '../model/contact.js';
import type { StartedSandbox } from '../sandbox/shared/server.js';
import type { SchemaNotes } from '../schema/notes.js';
import {
  type CredentialVars,
  type EnvTools,
  type ProviderEnvTools,
  providerEnvTools,
} from './env.js';
import type { ProviderOptionsPart } from './options.js';
import type { ProviderAdapter } from './types.js';

/** What every adapter factory receives besides its own config. */
export interface AdapterDeps {
  http: HttpOptions;
  policy: CallPolicy;
  dispatcher?: Dispatcher;
}

/** A provider's own resilience defaults (`<PREFIX>_TIMEOUT_MS`, `_RATE_PER_SECOND`, `_MAX_IN_FLIGHT`). */
export interface ResilienceDefaults {
  /** Env prefix of its resilience variables. */
  prefix: string;
  timeoutMs: number;
  ratePerSecond: number;
  maxInFlight: number;
}

/**
 * A provider's emulator: how to start it, and the environment variables that point a gateway at
 * it (`npm run sandboxes`; sandbox mode reads its config from them through `read`).
 */
export interface SandboxFactory<Credentials = unknown> {
  /** Fixed port for `npm run sandboxes` (env `SANDBOX_<envName>_PORT` overrides). */
  defaultPort: number;
  /** `SANDBOX_<envName>_PORT`. */
  envName: string;
  /** Credentials the sandbox accepts; they never leave the loopback interface. */
  credentials: Credentials;
  start(host: string, port: number): Promise<StartedSandbox>;
  /** The provider's variables pointing at a sandbox listening on `url`, with its credentials. */
  env(url: string): Record<string, string>;
}

/**
 * A sandbox started with its credentials (`start({ ...credentials, host, port })`), pointed at by
 * the variables of `env`: each takes `'url'` (where the sandbox listens) or the name of one of its
 * credentials.
 */
export function sandboxOf<const C extends Record<string, string>>(
  start: (options: C & { host: string; port: number }) => Promise<StartedSandbox>,
  sandbox: Omit<SandboxFactory<C>, 'start' | 'env'> & {
    env: Record<string, 'url' | (keyof C & string)>;
  },
): SandboxFactory<C> {
  const { credentials, env } = sandbox;
  return {
    ...sandbox,
    start: (host, port) => start({ ...credentials, host, port }),
    env: (url) =>
      Object.fromEntries(
        Object.entries(env).map(([name, from]) => [
          name,
          from === 'url' ? url : String(credentials[from]),
        ]),
      ),
  };
}

/**
 * Everything the gateway knows of one provider outside its two folders (`src/providers/<name>/`,
 * `src/sandbox/<name>/`): the registry, config, resilience and sandbox mode iterate these.
 */
export interface ProviderDescriptor<
  Key extends string = string,
  Options = unknown,
  Config = unknown,
  Shape extends z.ZodRawShape = z.ZodRawShape,
  Credentials = unknown,
  Required extends keyof z.infer<z.ZodObject<Shape>> & string = never,
> {
  id: ProviderId;
  /** The description of its value in the GraphQL `Provider` enum. */
  description: string;
  /** Its own facts in the shared GraphQL descriptions, by schema coordinate (`src/schema/notes.ts`). */
  schemaNotes?: SchemaNotes;
  /** Its name in `Config` (`<key>`, `<key>Options`) and in `SANDBOX_CREDENTIALS`. */
  key: Key;
  /** Prefixes of its environment variables (an unknown name with one of them is a mistake). */
  envPrefixes: readonly string[];
  /** Its environment variables, merged into the gateway's schema. */
  env: Shape;
  /**
   * The variables that enable it, when they are a fixed set: `tools.configured(build)` in `read`
   * checks them (a half-configured provider adds a problem per missing variable) and its `*_URL`
   * variables before building its config.
   */
  credentialVars?: CredentialVars<Required>;
  /** Its tuning (`options`, applied live and in the sandbox) and, when its credentials are set, its config. */
  read(
    e: z.infer<z.ZodObject<Shape>>,
    tools: ProviderEnvTools<z.infer<z.ZodObject<Shape>>, Required>,
  ): { options: Options; config: Config | null };
  /** `providerOptions.<key>`: its GraphQL input and its checks (`src/providers/<name>/options.ts`). */
  providerOptions: ProviderOptionsPart<object>;
  resilience: ResilienceDefaults;
  createAdapter(config: Config, deps: AdapterDeps): ProviderAdapter;
  sandbox: SandboxFactory<Credentials>;
}

/** A descriptor with its key, option, config and credential types kept for `Config`'s fields. */
export function defineProvider<
  const Key extends string,
  Options,
  Config,
  Shape extends z.ZodRawShape,
  Credentials,
  const Required extends keyof z.infer<z.ZodObject<Shape>> & string = never,
>(
  d: ProviderDescriptor<Key, Options, Config, Shape, Credentials, Required>,
): ProviderDescriptor<Key, Options, Config, Shape, Credentials, Required> {
  return d;
}

/**
 * What `d.read` makes of its variables `e` (parsed with its `env`), given `tools` bound to them and
 * to its `credentialVars` (`tools.configured`; its URLs are its variables named `*_URL`).
 */
export function readProvider<Options, Config>(
  d: Pick<
    ProviderDescriptor<string, Options, Config, never, unknown>,
    'env' | 'credentialVars' | 'read'
  >,
  e: unknown,
  tools: EnvTools,
): { options: Options; config: Config | null } {
  const vars = e as Record<string, unknown>;
  const urlVars = Object.keys(d.env).filter((name) => name.endsWith('_URL'));
  const credentials = d.credentialVars as CredentialVars<string> | undefined;
  return d.read(vars as never, providerEnvTools(tools, vars, urlVars, credentials) as never);
}
