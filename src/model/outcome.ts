import type { ContactPatch, ProviderId } from './contact.js';
import { missingRequired, type ProviderErrorInfo } from './errors.js';

/** What a write did at one provider (`ProviderOutcome.status`). */
export type OutcomeStatus = 'CREATED' | 'UPDATED' | 'FAILED' | 'SKIPPED' | 'DRY_RUN' | 'QUEUED';

/** The exact request a write would send (dry run). Secrets are replaced by `[redacted]`. */
export interface WireRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

/**
 * What one write did at one provider: built by the adapter, carried unchanged through the engine,
 * the loaders and the outbox into the payload (`ProviderOutcome`).
 */
export interface Outcome {
  provider: ProviderId;
  status: OutcomeStatus;
  remoteId: string | null;
  /** The contact as the provider reported it after the write, mapped to the unified model. */
  contact: ContactPatch | null;
  /** Unified fields this provider could not take (never silent). */
  droppedFields: string[];
  error: ProviderErrorInfo | null;
  attempts: number;
  durationMs: number;
  /** The exact wire request, on a dry run. */
  request: WireRequest | null;
  details: Record<string, unknown> | null;
}

/** Why a mapped write is not sent: SKIPPED (nothing to send) or FAILED (it cannot be sent). */
export interface Refusal {
  ok: false;
  status: 'SKIPPED' | 'FAILED';
  error: ProviderErrorInfo;
  droppedFields: string[];
  /** What the outcome's details would carry (e.g. `droppedFieldReasons`). */
  details?: Record<string, unknown> | null;
}

/** The refusal of a write the provider cannot take: it needs a field this contact lacks. */
export function skippedMissing(message: string, droppedFields: string[]): Refusal {
  return { ok: false, status: 'SKIPPED', error: missingRequired(message), droppedFields };
}

/**
 * A planned write: what an adapter's pure mapping makes of one item, the provider's own plan `P`
 * ready to send, or a refusal (with the provider's extras `R`). The one name for this idea across
 * adapters, engine and dry run.
 */
export type WritePlan<P, R = unknown> = ({ ok: true } & P) | (Refusal & R);
