import type { Dispatcher } from 'undici';
import type { HttpOptions } from '../http/client.js';
import type { CallPolicy } from '../http/policy.js';
import type { CircuitStatus } from '../http/resilience.js';
import type { ProviderId } from '../model/contact.js';
import type { AdapterDeps, ProviderDescriptor } from './descriptor.js';
import { digitalOnboardingProvider } from './digital-onboarding/descriptor.js';
import { dotdigitalProvider } from './dotdigital/descriptor.js';
import { notifuseProvider } from './notifuse/descriptor.js';
import { salesforceMcProvider } from './salesforce-mc/descriptor.js';
import type { ProviderAdapter } from './types.js';

/**
 * Every provider, in `Provider` enum order (the default fan-out and merge order): adding one is its
 * two folders (`src/providers/<name>/`, `src/sandbox/<name>/`) and one line here.
 */
export const PROVIDERS = [
  digitalOnboardingProvider,
  notifuseProvider,
  dotdigitalProvider,
  salesforceMcProvider,
] as const;

/** The providers' ids, in `Provider` enum order. */
export const PROVIDER_IDS: readonly ProviderId[] = PROVIDERS.map((p) => p.id);

type Registered = (typeof PROVIDERS)[number];
type Read<D> = D extends { read: (...args: never[]) => infer R } ? R : never;
type OptionsOf<D> = Read<D> extends { options: infer O } ? O : never;
type ConfigOf<D> = Read<D> extends { config: infer C } ? NonNullable<C> : never;
type CredentialsOf<D> = D extends { sandbox: { credentials: infer K } } ? K : never;

/** `Config`'s provider fields: `<key>Options` (tuning) and `<key>` (null without credentials). */
export type ProviderConfigs = {
  [D in Registered as D['key']]: ConfigOf<D> | null;
} & {
  [D in Registered as `${D['key']}Options`]: OptionsOf<D>;
};

/** The sandbox credentials of every provider, by key. */
export type SandboxCredentials = { [D in Registered as D['key']]: CredentialsOf<D> };

/** A registered provider's descriptor, erased to what iterating code needs. */
export type AnyProvider = ProviderDescriptor<Registered['key'], unknown, unknown, never, unknown>;

/** The descriptor of `id`. */
export function providerDescriptor(id: ProviderId): AnyProvider {
  return PROVIDERS.find((p) => p.id === id) as unknown as AnyProvider;
}

/** `UNAVAILABLE` stays in the GraphQL enum (a fixed contract) but every provider has an adapter now. */
export type ProviderMode = 'LIVE' | 'SANDBOX' | 'DISABLED';

export interface ProviderEntry {
  id: ProviderId;
  mode: ProviderMode;
  adapter: ProviderAdapter | null;
  /** Why the provider is not live, in words for the start log and `providers` query. */
  reason: string | null;
}

export interface ProviderRegistry {
  /** Every provider of the `Provider` enum, in enum order. */
  readonly entries: readonly ProviderEntry[];
  /** Adapters that can be called, in enum order (the default fan-out and merge order): one list, shared. */
  enabled(): readonly ProviderAdapter[];
  get(id: ProviderId): ProviderEntry;
  /** The circuit breaker of a provider (always CLOSED under a policy without breakers). */
  circuit(id: ProviderId): CircuitStatus;
  close(): Promise<void>;
}

export interface RegistryDeps {
  policy: CallPolicy;
  /** Providers whose configured URL is an in-process sandbox. */
  sandboxed?: ReadonlySet<ProviderId>;
  dispatcher?: Dispatcher;
}

export type { AdapterDeps };

/** What the registry reads of the configuration (`Config` has it all). */
export type RegistryConfig = ProviderConfigs & {
  http: HttpOptions;
  resilience: Readonly<Record<ProviderId, { timeoutMs: number; maxInFlight: number }>>;
};

export function createRegistry(config: RegistryConfig, deps: RegistryDeps): ProviderRegistry {
  const entries: ProviderEntry[] = PROVIDERS.map((p) => {
    const { id } = p;
    const { timeoutMs, maxInFlight } = config.resilience[id];
    const own = config[p.key] as never;
    const adapter =
      own &&
      (p as unknown as AnyProvider).createAdapter(own, {
        // One attempt's timeout is the provider's (Dotdigital documents calls of up to 121 s).
        // As many connections as calls the provider's in-flight limit lets run, unless set.
        http: {
          ...config.http,
          connections: config.http.connections ?? maxInFlight,
          headersTimeoutMs: timeoutMs,
          bodyTimeoutMs: timeoutMs,
        },
        policy: deps.policy,
        ...(deps.dispatcher ? { dispatcher: deps.dispatcher } : {}),
      });
    if (!adapter) {
      return { id, mode: 'DISABLED', adapter: null, reason: 'no credentials configured' };
    }
    const sandboxed = deps.sandboxed?.has(id) ?? false;
    return { id, mode: sandboxed ? 'SANDBOX' : 'LIVE', adapter, reason: null };
  });
  // Entries never change once made: every write and read shares the one list.
  const enabled: readonly ProviderAdapter[] = Object.freeze(
    entries.flatMap((e) => (e.adapter ? [e.adapter] : [])),
  );
  return {
    entries,
    enabled: () => enabled,
    get(id) {
      return entries.find((e) => e.id === id)!;
    },
    circuit(id) {
      const policy = deps.policy as Partial<{ circuit(p: ProviderId): CircuitStatus }>;
      return policy.circuit
        ? policy.circuit(id)
        : { state: 'CLOSED', consecutiveFailures: 0, openedAt: null };
    },
    async close() {
      await Promise.all(entries.map((e) => e.adapter?.close()));
    },
  };
}
