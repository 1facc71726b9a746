import { GraphQLError } from 'graphql';
import type { BatchPayload } from '../contacts/service.js';
import type { BatchCounts, BatchInfo, BatchItemRow } from '../lifecycle/batches.js';
import { builder, enumOf } from './builder.js';
import { at, maybe, maybeAt, maybeOf, of, type Page } from './fields.js';
import { ContactBatchPayloadRef, ContactWritePayloadRef } from './outcome.js';

builder.objectField(ContactBatchPayloadRef, 'batchId', (t) =>
  t.id({
    nullable: true,
    description:
      'With `options.async`: the batch to follow with `batch(id)`; the items then carry only each contact’s id (and input errors). Null for a synchronous batch.',
    resolve: (p: BatchPayload & { batchId?: string }) => p.batchId ?? null,
  }),
);

const BatchStatusEnum = enumOf('BatchStatus', 'Where an async batch stands.', {
  RUNNING: 'Items are still being written.',
  COMPLETED: 'Every item has its answer.',
});

const BatchProgressRef = builder
  .objectRef<BatchCounts & { total: number }>('BatchProgress')
  .implement({
    description: 'Counts over an async batch so far.',
    fields: (t) => ({
      total: t.exposeInt('total', { description: 'Inputs received.' }),
      processed: t.exposeInt('processed', {
        description: 'Items with their answer (input errors included).',
      }),
      succeeded: t.exposeInt('succeeded', {
        description: 'Answered items whose every outcome is CREATED or UPDATED.',
      }),
      failed: t.exposeInt('failed', {
        description:
          'Answered items with an input error or a provider that did not take them (QUEUED included).',
      }),
    }),
  });

const BatchItemRef = builder.objectRef<BatchItemRow>('BatchItem').implement({
  description: 'One input of an async batch.',
  fields: (t) => ({
    index: t.exposeInt('index', { description: 'Its position in `inputs` (0-based).' }),
    contactId: t.exposeID(
      'contactId',
      maybe('The contact’s gateway id (null for an input that failed validation).'),
    ),
    result: t.expose(
      'result',
      maybeOf(
        ContactWritePayloadRef,
        'Its answer, as a synchronous batch gives it; null until written.',
      ),
    ),
  }),
});

const BatchItemPageRef = builder.objectRef<Page<BatchItemRow>>('BatchItemPage').implement({
  description: 'A page of a batch’s items, in input order.',
  fields: (t) => ({
    nodes: t.field({ type: [BatchItemRef], description: 'The items.', resolve: (p) => p.items }),
    hasNextPage: t.boolean({ description: 'More items follow.', resolve: (p) => p.hasMore }),
    endCursor: t.string({
      nullable: true,
      description: 'Pass as `after` for the next page.',
      resolve: (p) => {
        const last = p.items[p.items.length - 1];
        return last ? String(last.index) : null;
      },
    }),
  }),
});

const MAX_ITEMS = 1000;

const BatchRef = builder.objectRef<BatchInfo>('Batch').implement({
  description: 'An async batch (`upsertContacts` with `options.async`).',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The batch id.' }),
    status: t.expose('status', of(BatchStatusEnum, 'Where it stands.')),
    createdAt: t.expose('createdAt', at('When it was accepted.')),
    completedAt: t.expose('completedAt', maybeAt('When its last item was answered.')),
    summary: t.field({
      type: BatchProgressRef,
      description: 'Counts so far.',
      resolve: async (b, _args, ctx) => ({
        total: b.total,
        ...(await ctx.lifecycle.batches!.store.counts(b.id)),
      }),
    }),
    items: t.field({
      type: BatchItemPageRef,
      description: `The items' answers, in input order. \`first\` 1–${MAX_ITEMS} (default 100).`,
      args: {
        first: t.arg.int({ description: 'At most this many.' }),
        after: t.arg.string({ description: 'After this cursor (`endCursor`).' }),
      },
      resolve: async (b, args, ctx) => {
        const first = args.first ?? 100;
        const after = args.after == null ? -1 : Number(args.after);
        if (first < 1 || first > MAX_ITEMS || !Number.isSafeInteger(after)) {
          throw new GraphQLError(
            `first must be 1–${MAX_ITEMS} and after a cursor from endCursor.`,
            {
              extensions: { code: 'BAD_USER_INPUT' },
            },
          );
        }
        const rows = await ctx.lifecycle.batches!.store.items(b.id, after, first + 1);
        return { items: rows.slice(0, first), hasMore: rows.length > first };
      },
    }),
  }),
});

builder.queryFields((t) => ({
  batch: t.field({
    type: BatchRef,
    nullable: true,
    description:
      'An async batch by id: status, counts so far and the items’ answers (paged). Needs scope `contacts:write` or `contacts:read` (contact fields in the answers still need `contacts:read`).',
    authScopes: { 'contacts:read': true, 'contacts:write': true },
    args: {
      id: t.arg.id({
        required: true,
        description: 'The batch id (`ContactBatchPayload.batchId`).',
      }),
    },
    resolve: (_root, args, ctx) => ctx.lifecycle.batches?.store.get(String(args.id)) ?? null,
  }),
}));
