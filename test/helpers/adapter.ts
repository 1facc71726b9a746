import { DEFAULT_HTTP_OPTIONS } from '../../src/config.js';
import { type CallPolicy, singleAttemptPolicy } from '../../src/http/policy.js';
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
