import type { ContactPatch, ProviderId } from './contact.js';
import type { ProviderErrorInfo } from './errors.js';

/** What a write did at one provider, as an adapter reports it. */
export type WriteStatus = 'CREATED' | 'UPDATED' | 'FAILED' | 'SKIPPED' | 'QUEUED';

/** A write's status as the payload reports it: an adapter's, or a dry run's. */
export type OutcomeStatus = WriteStatus | 'DRY_RUN';

export interface WriteResult {
  status: WriteStatus;
  remoteId: string | null;
  /** The contact as the provider reported it after the write, mapped to the unified model. */
  contact: ContactPatch | null;
  /** Unified fields this provider could not take (never silent). */
  droppedFields: string[];
  error: ProviderErrorInfo | null;
  attempts: number;
  durationMs: number;
  details: Record<string, unknown> | null;
}

/** The exact request a write would send (dry run). Secrets are replaced by `[redacted]`. */
export interface WireRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

/** One provider's part of a write payload (`ProviderOutcome`). */
export interface Outcome {
  provider: ProviderId;
  status: OutcomeStatus;
  remoteId: string | null;
  droppedFields: string[];
  error: ProviderErrorInfo | null;
  attempts: number;
  durationMs: number;
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

/**
 * A planned write: what an adapter's pure mapping makes of one item, the provider's own plan `P`
 * ready to send, or a refusal (with the provider's extras `R`). The one name for this idea across
 * adapters, engine and dry run.
 */
export type WritePlan<P, R = unknown> = ({ ok: true } & P) | (Refusal & R);
