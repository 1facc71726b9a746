import type { BatchPayload, WritePayload } from '../contacts/service.js';
import type { Outcome } from '../model/outcome.js';
import { builder } from './builder.js';
import { ContactRef } from './contact-type.js';
import { OutcomeStatusEnum } from './enums.js';
import { InputErrorRef, ProviderErrorRef } from './errors.js';
import { listOf, maybeOf, of, provider } from './fields.js';
import { providerNotes } from './notes.js';
import {
  NEEDS_READ,
  OPERATIONAL_DETAILS,
  visibleDetails,
  WRITE_ONLY_SEES_NULL,
} from './visibility.js';

export const ProviderOutcomeRef = builder.objectRef<Outcome>('ProviderOutcome').implement({
  description:
    'What one provider did with one contact. A write-only key (no `contacts:read`) sees what the write did (provider, status, droppedFields, error, attempts, durationMs, operational details) but not `remoteId` or `request`, which carry stored contact data.',
  fields: (t) => ({
    provider: t.expose('provider', provider()),
    status: t.expose('status', of(OutcomeStatusEnum, 'What happened.')),
    remoteId: t.exposeString('remoteId', {
      nullable: true,
      authScopes: NEEDS_READ,
      description: `The provider's own id of the contact${providerNotes('ProviderOutcome.remoteId')}. ${WRITE_ONLY_SEES_NULL}`,
    }),
    droppedFields: t.exposeStringList('droppedFields', {
      description: `Unified fields (dotted, e.g. \`address.city\`, \`customFields.plan\`) this provider could not take or could not clear. Never silent: the reason of each is in \`details.droppedFieldReasons\` (field → reason${providerNotes('ProviderOutcome.droppedFields', { open: '; ', close: '', join: ' and ' })}).`,
    }),
    error: t.expose(
      'error',
      maybeOf(ProviderErrorRef, 'Why the write failed or was skipped; null on success.'),
    ),
    attempts: t.exposeInt('attempts', {
      description: 'HTTP attempts made for this contact (0 when not sent).',
    }),
    durationMs: t.exposeFloat('durationMs', {
      description: 'Time spent on the provider call that carried this contact, in milliseconds.',
    }),
    request: t.field({
      type: 'JSONObject',
      nullable: true,
      authScopes: NEEDS_READ,
      description: `On dryRun: the exact wire request (method, url, headers with secrets redacted, body). ${WRITE_ONLY_SEES_NULL}`,
      resolve: (o) => (o.request ? { ...o.request } : null),
    }),
    details: t.field({
      type: 'JSONObject',
      nullable: true,
      description: `Provider-specific facts about the write (e.g. the import batch size). A write-only key sees only the operational keys (${[...OPERATIONAL_DETAILS].join(', ')}); null when none is left.`,
      resolve: (o, _args, ctx) => visibleDetails(o.details, ctx),
    }),
  }),
});

/** `ContactWritePayload.contact`. */
const WRITTEN_CONTACT =
  'The contact as the gateway now knows it (on dryRun: a preview). Null when validation failed before any provider was called. A write-only key sees its `id` only: every other Contact field needs `contacts:read` (null and a FORBIDDEN error).';

export const ContactWritePayloadRef = builder
  .objectRef<WritePayload>('ContactWritePayload')
  .implement({
    description: 'The result of one contact write.',
    fields: (t) => ({
      contact: t.expose('contact', maybeOf(ContactRef, WRITTEN_CONTACT)),
      outcomes: t.expose('outcomes', listOf(ProviderOutcomeRef, 'One per targeted provider.')),
      errors: t.expose(
        'errors',
        listOf(InputErrorRef, 'Bad input; when not empty no provider was called.'),
      ),
    }),
  });

const BatchSummaryRef = builder.objectRef<BatchPayload['summary']>('BatchSummary').implement({
  description: 'Counts over a batch write.',
  fields: (t) => ({
    total: t.exposeInt('total', { description: 'Inputs received.' }),
    succeeded: t.exposeInt('succeeded', {
      description:
        'Items with no input error whose every outcome is CREATED, UPDATED (or DRY_RUN).',
    }),
    failed: t.exposeInt('failed', {
      description: 'The other items: input errors, or at least one provider did not take them.',
    }),
    upstreamRequests: t.exposeInt('upstreamRequests', {
      description: 'Real HTTP requests made to providers for this batch.',
    }),
  }),
});

export const ContactBatchPayloadRef = builder
  .objectRef<BatchPayload>('ContactBatchPayload')
  .implement({
    description: 'The result of a batch write: one item per input, in input order.',
    fields: (t) => ({
      items: t.expose(
        'items',
        listOf(
          ContactWritePayloadRef,
          'One result per input, in input order; a bad item fails alone.',
        ),
      ),
      summary: t.expose('summary', of(BatchSummaryRef, 'Counts.')),
    }),
  });
