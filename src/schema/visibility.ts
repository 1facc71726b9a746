import type { GraphQLContext } from '../context.js';

/**
 * What a caller without `contacts:read` (a write-only key) may see of a write's answer.
 *
 * Stored contact data needs `contacts:read` wherever it appears: every `Contact` field but `id`
 * (type scope, `contact-type.ts`), an outcome's `remoteId` (which may be the stored email) and
 * its dry-run `request` (the wire body carries stored and merged values). Those fields resolve to
 * null with a FORBIDDEN error entry for a write-only key. What the write did stays visible: ids,
 * statuses, codes, `droppedFields`, attempts, timings, errors, and the operational part of
 * `details` (`OPERATIONAL_DETAILS`).
 */
export const NEEDS_READ = { 'contacts:read': true } as const;

/** Text the schema descriptions use for fields a write-only key sees as null. */
export const WRITE_ONLY_SEES_NULL =
  'Needs scope `contacts:read`: a write-only key gets null and a FORBIDDEN error for it.';

/**
 * Keys of `ProviderOutcome.details` and `ProviderError.details` that describe the call, not the
 * contact: a write-only key sees only these. Anything else a provider adds (a
 * `lastSeenAt`, error `items`/`errors`/`failures`/`meta` quoting what the provider holds, a
 * pass-through echo) is shown to `contacts:read` callers only.
 */
export const OPERATIONAL_DETAILS: ReadonlySet<string> = new Set([
  'batchSize',
  'mergedWith',
  'importId',
  'outboxId',
  'nextAttemptAt',
  'retryAfterMs',
  'rateLimitScope',
  'rateLimitLimit',
  'rateLimitRemaining',
  'rateLimitReset',
  'rateLimitResetAt',
  'requiredScope',
  'errorcode',
  // Unified field → why this provider dropped it: field names and rules, no contact data.
  'droppedFieldReasons',
]);

export function canReadContacts(ctx: GraphQLContext): boolean {
  return ctx.caller.scopes.has('contacts:read');
}

/** `details` as this caller may see them: whole with `contacts:read`, else the operational keys. */
export function visibleDetails(
  details: Record<string, unknown> | null,
  ctx: GraphQLContext,
): Record<string, unknown> | null {
  if (!details || canReadContacts(ctx)) {
    return details;
  }
  const kept = Object.entries(details).filter(([key]) => OPERATIONAL_DETAILS.has(key));
  return kept.length > 0 ? Object.fromEntries(kept) : null;
}
