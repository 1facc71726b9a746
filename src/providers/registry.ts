import type { Dispatcher } from 'undici';
import type { Config } from '../config.js';
import type { CallPolicy } from '../http/policy.js';
import type { CircuitStatus } from '../http/resilience.js';
import { PROVIDER_IDS, type ProviderId } from '../model/contact.js';
import { createDigitalOnboardingAdapter } from './digital-onboarding/index.js';
import { createDotdigitalAdapter } from './dotdigital/index.js';
import { createNotifuseAdapter } from './notifuse/index.js';
import { createSalesforceMcAdapter } from './salesforce-mc/index.js';
import type { ProviderAdapter } from './types.js';

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
  /** Adapters that can be called, in enum order (the default fan-out and merge order). */
  enabled(): ProviderAdapter[];
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

/** What every adapter factory receives besides its own config. */
export interface AdapterDeps {
  http: Config['http'];
  policy: CallPolicy;
  dispatcher?: Dispatcher;
}

type Factory = (config: Config, deps: AdapterDeps) => ProviderAdapter | null;

/** ProviderId → adapter factory. A factory returns null when its provider has no credentials. */
const FACTORIES: Record<ProviderId, Factory> = {
  NOTIFUSE: (config, deps) =>
    config.notifuse ? createNotifuseAdapter(config.notifuse, deps) : null,
  DOTDIGITAL: (config, deps) =>
    config.dotdigital ? createDotdigitalAdapter(config.dotdigital, deps) : null,
  SALESFORCE_MC: (config, deps) =>
    config.salesforceMc ? createSalesforceMcAdapter(config.salesforceMc, deps) : null,
  DIGITAL_ONBOARDING: (config, deps) =>
    config.digitalOnboarding
      ? createDigitalOnboardingAdapter(config.digitalOnboarding, deps)
      : null,
};

export function createRegistry(config: Config, deps: RegistryDeps): ProviderRegistry {
  const entries: ProviderEntry[] = PROVIDER_IDS.map((id) => {
    const factory = FACTORIES[id];
    const { timeoutMs } = config.resilience[id];
    const adapter = factory(config, {
      // One attempt's timeout is the provider's (Dotdigital documents calls of up to 121 s).
      http: { ...config.http, headersTimeoutMs: timeoutMs, bodyTimeoutMs: timeoutMs },
      policy: deps.policy,
      ...(deps.dispatcher ? { dispatcher: deps.dispatcher } : {}),
    });
    if (!adapter) {
      return { id, mode: 'DISABLED', adapter: null, reason: 'no credentials configured' };
    }
    const sandboxed = deps.sandboxed?.has(id) ?? false;
    return { id, mode: sandboxed ? 'SANDBOX' : 'LIVE', adapter, reason: null };
  });
  return {
    entries,
    enabled: () => entries.flatMap((e) => (e.adapter ? [e.adapter] : [])),
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
