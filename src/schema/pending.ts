import type { OutboxItem } from '../store/outbox.js';
import { builder, enumOf } from './builder.js';
import { ProviderErrorRef } from './errors.js';
import { maybeOf, provider } from './fields.js';

const PendingWriteKindEnum = enumOf('PendingWriteKind', 'Which operation a queued write repeats.', {
  UPSERT: 'An upsertContact / upsertContacts write.',
  UPDATE: 'An updateContact write (by the remote id).',
});

const PendingWriteRef = builder.objectRef<OutboxItem>('PendingWrite').implement({
  description:
    'A provider write the gateway accepted (its outcome was QUEUED) and keeps delivering in the background, with backoff, until it succeeds or fails for good.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The outbox id (`outcomes.details.outboxId`).' }),
    provider: t.expose('provider', provider('Where it goes.')),
    kind: t.field({
      type: PendingWriteKindEnum,
      description: 'What it repeats.',
      resolve: (w) => (w.kind === 'update' ? 'UPDATE' : 'UPSERT'),
    }),
    contactId: t.id({ description: 'Gateway id of the contact.', resolve: (w) => w.gatewayId }),
    attempts: t.exposeInt('attempts', {
      description: 'Background delivery attempts so far (each with its own retries).',
    }),
    nextAttemptAt: t.exposeString('nextAttemptAt', {
      description: 'When it is tried next (ISO 8601).',
    }),
    createdAt: t.exposeString('createdAt', {
      description: 'When it was queued (ISO 8601).',
    }),
    lastError: t.expose('lastError', maybeOf(ProviderErrorRef, 'Why it waits: the last failure.')),
  }),
});

builder.queryFields((t) => ({
  pendingWrites: t.field({
    type: [PendingWriteRef],
    description:
      'Writes waiting in the outbox, oldest first: what waits and why. Needs scope `contacts:read`.',
    deprecationReason:
      'Use `writes(status: QUEUED)`: the write history, which also keeps how each write ended.',
    authScopes: { 'contacts:read': true },
    args: {
      limit: t.arg.int({ description: 'At most this many (1–1000).', defaultValue: 100 }),
    },
    resolve: (_root, args, ctx) =>
      ctx.service.pendingWrites(Math.min(1000, Math.max(1, args.limit ?? 100))),
  }),
}));
