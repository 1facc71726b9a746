import type { CallContext, WriteItem } from '../../src/providers/types.js';

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
