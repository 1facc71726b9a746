import type { ProviderId, UnifiedContact } from '../model/contact.js';
import type { InputErrorInfo, ProviderErrorInfo } from '../model/errors.js';
import type { Outcome, OutcomeStatus } from '../model/outcome.js';
import { outcome } from '../providers/engine.js';
import type { IdentityRecord } from '../store/identity.js';

/** What the mutations and queries answer: the unified contact view and the write payloads. */

export interface ContactView extends UnifiedContact {
  readErrors: Array<{ provider: ProviderId; error: ProviderErrorInfo }>;
}

export interface WritePayload {
  contact: ContactView | null;
  outcomes: Outcome[];
  errors: InputErrorInfo[];
}

export interface BatchPayload {
  items: WritePayload[];
  summary: { total: number; succeeded: number; failed: number; upstreamRequests: number };
}

export interface WriteOptions {
  providers?: readonly ProviderId[] | null | undefined;
  dryRun?: boolean | null | undefined;
  idempotencyKey?: string | null | undefined;
}

/** Builds a record's answer view (the service's `toContact`, which a test can make fail). */
export type ViewOf = (
  record: IdentityRecord,
  readErrors: ContactView['readErrors'],
  times?: { createdAt: string | null; updatedAt: string | null },
  owned?: boolean,
) => ContactView;

export const SUCCESS: ReadonlySet<OutcomeStatus> = new Set<OutcomeStatus>(['CREATED', 'UPDATED']);

/**
 * The answer's view of a record. `owned`: the record's view is the caller's own copy, which nothing
 * else holds or changes (a write's answer), so it is not copied again: one copy per item fewer for
 * the whole of a large batch.
 */
export function contactView(
  record: IdentityRecord,
  readErrors: ContactView['readErrors'],
  times?: { createdAt: string | null; updatedAt: string | null },
  owned = false,
): ContactView {
  return {
    ...(owned ? record.view : structuredClone(record.view)),
    id: record.id,
    createdAt: times?.createdAt ?? record.createdAt,
    updatedAt: times?.updatedAt ?? record.updatedAt,
    records: Object.values(record.records),
    readErrors,
  };
}

/** A provider the write could not go to, and why. */
export function skipped(provider: ProviderId, code: string, message: string): Outcome {
  return outcome(provider, 'SKIPPED', {
    error: { code, message, httpStatus: null, retryable: false, details: null },
  });
}

/** An item that failed validation: no contact, no outcomes, its input errors. */
export function rejected(errors: InputErrorInfo[]): WritePayload {
  return { contact: null, outcomes: [], errors };
}

/** `upsertContacts`' payload: an item succeeded when every provider wrote it (or dry-ran it). */
export function batchPayload(items: WritePayload[], upstreamRequests: number): BatchPayload {
  const succeeded = items.filter(
    (p) =>
      p.errors.length === 0 &&
      p.outcomes.length > 0 &&
      p.outcomes.every((o) => SUCCESS.has(o.status) || o.status === 'DRY_RUN'),
  ).length;
  return {
    items,
    summary: { total: items.length, succeeded, failed: items.length - succeeded, upstreamRequests },
  };
}
