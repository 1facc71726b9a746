import { createContextCache } from '@pothos/core';
import DataLoader from 'dataloader';
import type { Logger } from 'pino';
import type { CallStats } from '../http/client.js';
import type { ProviderId } from '../model/contact.js';
import type { ProviderErrorInfo } from '../model/errors.js';
import { toProviderErrorInfo } from '../model/errors.js';
import type { Outcome } from '../model/outcome.js';
import { alignByKey } from '../providers/align.js';
import { dispatchWrites, type WriteOp } from '../providers/engine.js';
import type { ProviderAdapter, ReadKey, ReadResult, WriteItem } from '../providers/types.js';

/** Everything that lives for one GraphQL request. */
export interface RequestScope {
  stats: CallStats;
  signal?: AbortSignal;
  /** The request's logger (every line carries its request id); the process logger when absent. */
  log?: Logger;
}

export type ReadAnswer = ReadResult | null | ProviderErrorInfo;

export interface ProviderLoaders {
  upsert: DataLoader<WriteItem, Outcome>;
  update: DataLoader<WriteItem, Outcome>;
  read: DataLoader<ReadKey, ReadAnswer, string>;
}

function writeLoader(
  adapter: ProviderAdapter,
  scope: RequestScope,
  op: WriteOp,
): DataLoader<WriteItem, Outcome> {
  return new DataLoader<WriteItem, Outcome>(
    (items) => {
      const ctx = { stats: scope.stats, ...(scope.signal ? { signal: scope.signal } : {}) };
      return dispatchWrites(
        adapter,
        op,
        items.map((item) => ({ item })),
        ctx,
      );
    },
    // Writes are never cached: every call is its own write. Batches fill the bulk endpoint.
    { cache: false, maxBatchSize: adapter.capabilities.maxBatchSize, name: `${adapter.id}.${op}` },
  );
}

function readLoader(adapter: ProviderAdapter, scope: RequestScope) {
  return new DataLoader<ReadKey, ReadAnswer, string>(
    async (keys) => {
      const ctx = { stats: scope.stats, ...(scope.signal ? { signal: scope.signal } : {}) };
      try {
        const results = await adapter.readMany(keys, ctx);
        return alignByKey(keys, new Map(keys.map((k, i) => [k, results[i]!])), () => null);
      } catch (err) {
        const error = toProviderErrorInfo(adapter.id, err);
        return keys.map(() => error);
      }
    },
    {
      maxBatchSize: adapter.capabilities.maxBatchSize,
      cacheKeyFn: (key) => `${key.by}:${key.value}`,
      name: `${adapter.id}.read`,
    },
  );
}

/** One loader per provider and operation, created on first use and kept for the request. */
export const loadersFor = createContextCache((scope: RequestScope) => {
  const cache = new Map<ProviderId, ProviderLoaders>();
  return (adapter: ProviderAdapter): ProviderLoaders => {
    let loaders = cache.get(adapter.id);
    if (!loaders) {
      loaders = {
        upsert: writeLoader(adapter, scope, 'upsert'),
        update: writeLoader(adapter, scope, 'update'),
        read: readLoader(adapter, scope),
      };
      cache.set(adapter.id, loaders);
    }
    return loaders;
  };
});
