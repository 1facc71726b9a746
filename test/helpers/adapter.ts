import { DEFAULT_HTTP_OPTIONS, Secret } from '../../src/config.js';
import { type CallPolicy, singleAttemptPolicy } from '../../src/http/policy.js';
import type { DigitalOnboardingConfig } from '../../src/providers/digital-onboarding/config.js';
import type { DotdigitalConfig } from '../../src/providers/dotdigital/config.js';
import type { NotifuseConfig } from '../../src/providers/notifuse/config.js';
import type { SalesforceMcConfig } from '../../src/providers/salesforce-mc/config.js';
import type { CallContext, ProviderAdapter, WriteItem } from '../../src/providers/types.js';

/**
 * What an adapter under test is built with: a short keep-alive (a sandbox resets between tests)
 * and one attempt per call unless `policy` says otherwise.
 */
export function adapterDeps(policy: CallPolicy = singleAttemptPolicy) {
  return { http: { ...DEFAULT_HTTP_OPTIONS, keepAliveTimeoutMs: 10 }, policy };
}

/** The adapters a test file made (`add` returns the adapter), closed together in `afterAll`. */
export function adapterSet() {
  const all: ProviderAdapter[] = [];
  return {
    add<A extends ProviderAdapter>(adapter: A): A {
      all.push(adapter);
      return adapter;
    },
    close: () => Promise.all(all.map((a) => a.close())),
  };
}

/** A fresh call context: its `stats.upstreamRequests` counts what the adapter sent. */
export const ctx = (): CallContext & { stats: { upstreamRequests: number } } => ({
  stats: { upstreamRequests: 0 },
});

/** A write of `patch` for a contact the identity map does not link yet (override with `extra`). */
export function item(patch: WriteItem['patch'], extra: Partial<WriteItem> = {}): WriteItem {
  return {
    ref: crypto.randomUUID(),
    gatewayId: crypto.randomUUID(),
    patch,
    known: {},
    remoteId: null,
    options: {},
    ...extra,
  };
}

/**
 * Each provider's adapter config for a sandbox at `url` started with the credentials `c` (the
 * sandbox's own start options): unit-test sizes (short import polls, one request per SFMC write),
 * changed by `over`.
 */
export const adapterConfig = {
  notifuse: (
    url: string,
    c: { apiKey: string; workspaceId: string },
    over: Partial<NotifuseConfig> = {},
  ): NotifuseConfig => ({
    url,
    apiKey: new Secret(c.apiKey),
    workspaceId: c.workspaceId,
    batchSize: 500,
    customFieldMap: {},
    readConcurrency: 4,
    ...over,
  }),
  dotdigital: (
    url: string,
    c: { username: string; password: string },
    over: Partial<DotdigitalConfig> = {},
  ): DotdigitalConfig => ({
    url,
    username: c.username,
    password: new Secret(c.password),
    dataFieldMap: {},
    batchSize: 1000,
    importMaxWaitMs: 10_000,
    importPollIntervalMs: 10,
    concurrency: 4,
    ...over,
  }),
  salesforceMc: (
    url: string,
    c: { clientId: string; clientSecret: string; accountId: string },
    over: Partial<SalesforceMcConfig> = {},
  ): SalesforceMcConfig => ({
    authUrl: url,
    clientId: c.clientId,
    clientSecret: new Secret(c.clientSecret),
    accountId: c.accountId,
    contactKey: 'externalId',
    attributeMap: {},
    concurrency: 8,
    searchBatchSize: 50,
    defaultLocale: 'US',
    tokenRefreshSkewSeconds: 60,
    // One request per write; the key look-up before a create (SFMC_KEY_LOOKUP, on by default) is
    // pinned in test/integration/providers/salesforce-mc/rules.test.ts.
    keyLookup: false,
    ...over,
  }),
  digitalOnboarding: (
    url: string,
    c: { token: string; batchSize: number },
    over: Partial<DigitalOnboardingConfig> = {},
  ): DigitalOnboardingConfig => ({
    url,
    token: new Secret(c.token),
    batchSize: c.batchSize,
    concurrency: 4,
    ...over,
  }),
};
