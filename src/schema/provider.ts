import type { CircuitStatus } from '../http/resilience.js';
import type { ProviderEntry } from '../providers/registry.js';
import { builder, enumOf } from './builder.js';
import { ProviderEnum, ProviderModeEnum } from './enums.js';
import { maybe, of } from './fields.js';

const CircuitStateEnum = enumOf('CircuitState', "A provider's circuit breaker.", {
  CLOSED: 'Calls go through.',
  OPEN: 'Too many consecutive failures (network, timeout, 5xx): calls fail fast with CIRCUIT_OPEN until the half-open time.',
  HALF_OPEN: 'One probe call is let through; its result closes or reopens it.',
});

const CircuitStatusRef = builder.objectRef<CircuitStatus>('CircuitStatus').implement({
  description: "The provider's circuit breaker (BREAKER_THRESHOLD, BREAKER_HALF_OPEN_MS).",
  fields: (t) => ({
    state: t.field({ type: CircuitStateEnum, description: 'Its state.', resolve: (c) => c.state }),
    consecutiveFailures: t.exposeInt('consecutiveFailures', {
      description: 'Failed attempts in a row (a success resets it).',
    }),
    openedAt: t.exposeString(
      'openedAt',
      maybe('When it last opened (ISO 8601), while it is not closed.'),
    ),
  }),
});

export const ProviderStatusRef = builder.objectRef<ProviderEntry>('ProviderStatus').implement({
  description:
    'A provider as this gateway sees it: whether it is called, where, and what it accepts.',
  fields: (t) => ({
    provider: t.field({ type: ProviderEnum, description: 'The provider.', resolve: (e) => e.id }),
    enabled: t.boolean({
      description: 'Whether writes without a `providers` option go to it.',
      resolve: (e) => e.adapter !== null,
    }),
    mode: t.expose('mode', of(ProviderModeEnum, 'How it is reached.')),
    reason: t.exposeString('reason', maybe('Why it is not enabled, when it is not.')),
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
    circuit: t.field({
      type: CircuitStatusRef,
      description: 'Its circuit breaker.',
      resolve: (e, _args, ctx) => ctx.registry.circuit(e.id),
    }),
  }),
});

builder.queryFields((t) => ({
  providers: t.field({
    type: [ProviderStatusRef],
    description:
      'Every provider the gateway knows, enabled or not. Needs any scope (`contacts:read` or `contacts:write`); carries no contact data.',
    authScopes: { $any: { 'contacts:read': true, 'contacts:write': true } },
    resolve: (_root, _args, ctx) => [...ctx.registry.entries],
  }),
}));
