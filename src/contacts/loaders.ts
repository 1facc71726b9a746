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
import type {
  CallContext,
  ProviderAdapter,
  ReadKey,
  ReadResult,
  WriteItem,
} from '../providers/types.js';

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

/** The write engine's call context of a request. */
function callContext(scope: RequestScope): CallContext {
  const ctx: CallContext = { stats: scope.stats };
  if (scope.signal) {
    ctx.signal = scope.signal;
  }
  return ctx;
}

/**
 * One write with nothing to batch it with (one item alone in its request: `upsertContact`,
 * `updateContact`), straight to the write engine: what the loader's batch function would do with
 * a batch of one, without the loader and its tick.
 */
export async function writeAlone(
  adapter: ProviderAdapter,
  scope: RequestScope,
  op: WriteOp,
  item: WriteItem,
): Promise<Outcome> {
  const [outcome] = await dispatchWrites(adapter, op, [{ item }], callContext(scope));
  return outcome!;
}

function writeLoader(
  adapter: ProviderAdapter,
  scope: RequestScope,
  op: WriteOp,
): DataLoader<WriteItem, Outcome> {
  return new DataLoader<WriteItem, Outcome>(
    (items) =>
      dispatchWrites(
        adapter,
        op,
        items.map((item) => ({ item })),
        callContext(scope),
      ),
    // Writes are never cached: every call is its own write. Batches fill the bulk endpoint.
    { cache: false, maxBatchSize: adapter.capabilities.maxBatchSize, name: `${adapter.id}.${op}` },
  );
}

function readLoader(adapter: ProviderAdapter, scope: RequestScope) {
  return new DataLoader<ReadKey, ReadAnswer, string>(
    async (keys) => {
      const ctx = callContext(scope);
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

/**
 * One loader per provider and operation, each created on first use (a write request needs one of
 * the three) and kept for the request.
 */
export const loadersFor = createContextCache((scope: RequestScope) => {
  const cache = new Map<ProviderId, ProviderLoaders>();
  return (adapter: ProviderAdapter): ProviderLoaders => {
    let loaders = cache.get(adapter.id);
    if (!loaders) {
      let upsert: ProviderLoaders['upsert'] | undefined;
      let update: ProviderLoaders['update'] | undefined;
      let read: ProviderLoaders['read'] | undefined;
      loaders = {
        get upsert() {
          upsert ??= writeLoader(adapter, scope, 'upsert');
          return upsert;
        },
        get update() {
          update ??= writeLoader(adapter, scope, 'update');
          return update;
        },
        get read() {
          read ??= readLoader(adapter, scope);
          return read;
        },
      };
      cache.set(adapter.id, loaders);
    }
    return loaders;
  };
});
