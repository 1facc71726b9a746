import type { ProviderEntry } from '../providers/registry.js';
import { builder } from './builder.js';
import { ProviderEnum, ProviderModeEnum } from './enums.js';

export const ProviderStatusRef = builder.objectRef<ProviderEntry>('ProviderStatus').implement({
  description:
    'A provider as this gateway sees it: whether it is called, where, and what it accepts.',
  fields: (t) => ({
    provider: t.field({ type: ProviderEnum, description: 'The provider.', resolve: (e) => e.id }),
    enabled: t.boolean({
      description: 'Whether writes without a `providers` option go to it.',
      resolve: (e) => e.adapter !== null,
    }),
    mode: t.field({
      type: ProviderModeEnum,
      description: 'How it is reached.',
      resolve: (e) => e.mode,
    }),
    reason: t.string({
      nullable: true,
      description: 'Why it is not enabled, when it is not.',
      resolve: (e) => e.reason,
    }),
    baseUrl: t.string({
      nullable: true,
      description: 'Where requests go (never credentials).',
      resolve: (e) => e.adapter?.baseUrl ?? null,
    }),
    maxBatchSize: t.int({
      nullable: true,
      description: 'Most contacts one bulk request carries.',
      resolve: (e) => e.adapter?.capabilities.maxBatchSize ?? null,
    }),
    acceptedFields: t.stringList({
      description: 'Unified fields it stores (others are reported in droppedFields).',
      resolve: (e) => [...(e.adapter?.capabilities.acceptedFields ?? [])],
    }),
    clearableFields: t.stringList({
      description: 'Fields it can clear with null.',
      resolve: (e) => [...(e.adapter?.capabilities.clearableFields ?? [])],
    }),
  }),
});

builder.queryFields((t) => ({
  providers: t.field({
    type: [ProviderStatusRef],
    description: 'Every provider the gateway knows, enabled or not.',
    resolve: (_root, _args, ctx) => [...ctx.registry.entries],
  }),
}));
