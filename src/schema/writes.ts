import { GraphQLError } from 'graphql';
import type { Outcome } from '../contacts/service.js';
import type { OutboxItem } from '../store/outbox.js';
import { builder, enumOf } from './builder.js';
import { ProviderEnum } from './enums.js';
import { ProviderErrorRef } from './errors.js';
import { at, maybe, maybeAt, maybeOf, of, type Page, provider } from './fields.js';
import { providerNotes } from './notes.js';
import { ProviderOutcomeRef } from './outcome.js';
import { NEEDS_READ } from './visibility.js';

export const WriteStatusEnum = enumOf(
  'WriteStatus',
  'Where a write the gateway answered QUEUED stands.',
  {
    QUEUED: 'Waiting for its next delivery attempt (or the next check of its import).',
    DELIVERING: 'Being delivered (or its import checked) right now.',
    DELIVERED: 'The provider took it; `remoteId` is its id of the contact.',
    FAILED: 'The provider refused it for good; `lastError` says why.',
  },
);

const WriteKindEnum = enumOf('WriteKind', 'What the gateway does to complete a queued write.', {
  UPSERT: 'Sends the upsert again.',
  UPDATE: 'Sends the update again (by the remote id).',
  IMPORT_POLL: `Re-checks the provider's asynchronous job${providerNotes('WriteKind.IMPORT_POLL')} and reads the contact's end state from its report.`,
});

export const WriteRef = builder.objectRef<OutboxItem>('Write').implement({
  description:
    'A provider write the gateway answered QUEUED, followed to its end. Kept GATEWAY_WRITE_HISTORY_TTL_MS (default 7 days) after it ended. Needs scope `contacts:read`.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The write id (`ProviderOutcome.writeId`).' }),
    provider: t.expose('provider', provider('Where it goes.')),
    kind: t.field({
      type: WriteKindEnum,
      description: 'How it is completed.',
      resolve: (w) =>
        w.kind === 'poll' ? 'IMPORT_POLL' : w.kind === 'update' ? 'UPDATE' : 'UPSERT',
    }),
    contactId: t.id({ description: 'Gateway id of the contact.', resolve: (w) => w.gatewayId }),
    status: t.expose('status', of(WriteStatusEnum, 'Where it stands.')),
    attempts: t.exposeInt('attempts', {
      description: 'Background delivery attempts (or import checks) so far.',
    }),
    lastError: t.expose(
      'lastError',
      maybeOf(
        ProviderErrorRef,
        'The last failure: why it waits, or why it FAILED. Provider error texts only; never credentials or the body sent.',
      ),
    ),
    nextAttemptAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When it is tried next; null once it ended.',
      resolve: (w) => (w.endedAt ? null : w.nextAttemptAt),
    }),
    remoteId: t.exposeString('remoteId', maybe("The provider's id of the contact once DELIVERED.")),
    importId: t.exposeString('importId', {
      nullable: true,
      description: providerNotes('Write.importId', {
        open: '',
        close: '',
        join: ' ',
        none: "The provider's asynchronous job this write waits for (or waited for).",
      }),
    }),
    createdAt: t.expose('createdAt', at('When it was queued.')),
    updatedAt: t.expose('updatedAt', at('When it last changed.')),
    endedAt: t.expose('endedAt', maybeAt('When it was DELIVERED or FAILED; null while it waits.')),
  }),
});

type WriteConnection = Page<OutboxItem>;

const WriteEdgeRef = builder.objectRef<OutboxItem>('WriteEdge').implement({
  description: 'One write of a page.',
  fields: (t) => ({
    cursor: t.exposeString('cursor', { description: 'Pass as `after` to continue after it.' }),
    node: t.field({ type: WriteRef, description: 'The write.', resolve: (w) => w }),
  }),
});

const PageInfoRef = builder.objectRef<WriteConnection>('WritePageInfo').implement({
  description: 'Relay page info of a write page.',
  fields: (t) => ({
    hasNextPage: t.boolean({ description: 'More writes follow.', resolve: (c) => c.hasMore }),
    hasPreviousPage: t.boolean({
      description: 'Always false: pages go forward only.',
      resolve: () => false,
    }),
    startCursor: t.string({
      nullable: true,
      description: 'Cursor of the first edge.',
      resolve: (c) => c.items[0]?.cursor ?? null,
    }),
    endCursor: t.string({
      nullable: true,
      description: 'Cursor of the last edge (the next page’s `after`).',
      resolve: (c) => c.items[c.items.length - 1]?.cursor ?? null,
    }),
  }),
});

const WriteConnectionRef = builder.objectRef<WriteConnection>('WriteConnection').implement({
  description: 'A page of the write history (Relay connection), newest first.',
  fields: (t) => ({
    edges: t.field({ type: [WriteEdgeRef], description: 'The writes.', resolve: (c) => c.items }),
    nodes: t.field({
      type: [WriteRef],
      description: 'The writes, without cursors.',
      resolve: (c) => c.items,
    }),
    pageInfo: t.field({ type: PageInfoRef, description: 'Paging.', resolve: (c) => c }),
  }),
});

/** Most writes one page carries. */
const MAX_PAGE = 500;

builder.queryFields((t) => ({
  write: t.field({
    type: WriteRef,
    nullable: true,
    description:
      'One write by its id (`ProviderOutcome.writeId`): waiting or ended (kept GATEWAY_WRITE_HISTORY_TTL_MS). Null when unknown or forgotten. Needs scope `contacts:read`.',
    authScopes: NEEDS_READ,
    args: { id: t.arg.id({ required: true, description: 'The write id.' }) },
    resolve: (_root, args, ctx) => ctx.service.write(String(args.id)),
  }),
  writes: t.field({
    type: WriteConnectionRef,
    description: `The write history, newest first (Relay connection). \`first\` 1–${MAX_PAGE}, default 50. Needs scope \`contacts:read\`.`,
    authScopes: NEEDS_READ,
    args: {
      status: t.arg({ type: WriteStatusEnum, description: 'Only writes in this state.' }),
      provider: t.arg({ type: ProviderEnum, description: 'Only writes to this provider.' }),
      first: t.arg.int({ description: 'At most this many.' }),
      after: t.arg.string({ description: 'After this cursor (`pageInfo.endCursor`).' }),
    },
    resolve: (_root, args, ctx) => {
      const first = args.first ?? 50;
      if (first < 1 || first > MAX_PAGE) {
        throw new GraphQLError(`first must be between 1 and ${MAX_PAGE}.`, {
          extensions: { code: 'BAD_USER_INPUT', field: 'first' },
        });
      }
      return ctx.service.writes({
        status: args.status ?? null,
        provider: args.provider ?? null,
        after: args.after ?? null,
        first,
      });
    },
  }),
}));

builder.objectField(ProviderOutcomeRef, 'writeId', (t) =>
  t.id({
    nullable: true,
    description:
      'On QUEUED: the id of the write to follow (`write(id)`, `writes`, `writeUpdated`); null otherwise (or when the outbox is off).',
    resolve: (o: Outcome) => {
      const id = o.status === 'QUEUED' ? o.details?.['outboxId'] : null;
      return typeof id === 'string' ? id : null;
    },
  }),
);

builder.subscriptionType({
  description:
    'Live changes, over server-sent events (POST /graphql with `Accept: text/event-stream`).',
});

builder.subscriptionFields((t) => ({
  writeUpdated: t.field({
    type: WriteRef,
    description:
      'Each change of these writes (every write when `ids` is omitted): QUEUED → DELIVERING → DELIVERED or FAILED, from every replica (the write history is read every GATEWAY_WRITE_WATCH_MS). A listed write that already ended is sent at once. Needs scope `contacts:read`.',
    authScopes: NEEDS_READ,
    args: {
      ids: t.arg.idList({ description: 'The write ids to follow (`ProviderOutcome.writeId`).' }),
    },
    subscribe: (_root, args, ctx) => {
      if (!ctx.lifecycle.watcher) {
        throw new GraphQLError(
          'The outbox is off (GATEWAY_OUTBOX=off): there are no writes to follow.',
          {
            extensions: { code: 'BAD_REQUEST' },
          },
        );
      }
      return ctx.lifecycle.watcher.subscribe(args.ids?.map(String) ?? null, ctx.scope.signal);
    },
    resolve: (w: OutboxItem) => w,
  }),
}));
