import type { CallStats } from '../http/client.js';
import type { ContactPatch, ProviderId, ProviderOptions } from '../model/contact.js';
import type { ProviderErrorInfo } from '../model/errors.js';
import type { Outcome, WireRequest, WritePlan } from '../model/outcome.js';

/** One contact to write to one provider: the validated patch plus what the identity map knows. */
export interface WriteItem {
  /** Correlation key, unique within a request. */
  ref: string;
  /** The gateway's stable id of this contact. */
  gatewayId: string;
  /** Validated, normalised patch: absent = untouched, null = clear. */
  patch: ContactPatch;
  /** The contact's last known unified view (identity map), e.g. its email when the patch has none. */
  known: ContactPatch;
  /** This provider's id for the contact when the identity map has one. */
  remoteId: string | null;
  options: ProviderOptions;
  /**
   * The caller's idempotency key for this write (option or `Idempotency-Key` header), so that a
   * provider with idempotency keys of its own can derive them deterministically. Null when none.
   */
  idempotencyKey?: string | null;
}

export interface ReadKey {
  by: 'email' | 'externalId' | 'remoteId';
  value: string;
}

export interface ReadResult {
  remoteId: string;
  contact: ContactPatch;
  createdAt: string | null;
  updatedAt: string | null;
}

export interface CallContext {
  stats: CallStats;
  signal?: AbortSignal;
}

export interface ProviderCapabilities {
  /** Most contacts one bulk request carries (DataLoader `maxBatchSize`). */
  maxBatchSize: number;
  /** Unified fields (dotted leaves, `customFields` for the whole map) this provider stores. */
  acceptedFields: readonly string[];
  /** Those of `acceptedFields` it can clear with `null`. */
  clearableFields: readonly string[];
  /** Keys `readMany` understands besides `remoteId`. */
  readKeys: ReadonlyArray<'email' | 'externalId'>;
  /**
   * Unified fields a read returns, when fewer than `acceptedFields` (e.g. a provider whose email
   * search answers only the email and the contact key). Fields outside it keep the gateway's last
   * known value on a read instead of being taken as cleared. @default acceptedFields
   */
  readableFields?: readonly string[];
  /** False when the provider cannot read a contact by its remote id (reads go by email). @default true */
  readsByRemoteId?: boolean;
  /**
   * Contacts one upstream write request carries, for the up-front call budget
   * (`GATEWAY_MAX_UPSTREAM_CALLS`): 1 for a provider without a bulk endpoint. @default maxBatchSize
   */
  writeBatchSize?: number;
  /** Read keys one upstream read request carries (call budget). @default 1 */
  readBatchSize?: number;
}

/**
 * What every provider implements. Batch methods take items in key order and must return one
 * result per item, in the same order (see `alignByKey`). Failures are results, not throws: an
 * adapter only throws on a bug, and the loader turns that into FAILED outcomes for the batch.
 */
export interface ProviderAdapter {
  readonly id: ProviderId;
  /** Its name in messages (`ProviderNames`). */
  readonly name: string;
  readonly capabilities: ProviderCapabilities;
  /** Where it sends requests (no credentials). */
  readonly baseUrl: string;
  /** Pure mapping of one write, for dry runs: the request it would send and what it would drop. */
  planWrite(item: WriteItem): WritePlan<{
    request: WireRequest;
    droppedFields: string[];
    /** What the outcome's details would carry (e.g. `droppedFieldReasons`). */
    details?: Record<string, unknown> | null;
  }>;
  /** Create-or-update, mapped onto the provider's bulk endpoint where it has one. */
  upsertMany(items: readonly WriteItem[], ctx: CallContext): Promise<Outcome[]>;
  /** Update contacts the provider already holds, addressed by `item.remoteId`. */
  updateMany(items: readonly WriteItem[], ctx: CallContext): Promise<Outcome[]>;
  /**
   * Re-checks writes the provider accepted but had not finished (QUEUED with an `importId`, e.g. a
   * provider import job still running): one result per item, QUEUED while the job still runs.
   */
  pollMany?(
    items: ReadonlyArray<{ item: WriteItem; importId: string }>,
    ctx: CallContext,
  ): Promise<Outcome[]>;
  /** Read by key; `null` when the provider has no such contact. */
  readMany(
    keys: readonly ReadKey[],
    ctx: CallContext,
  ): Promise<Array<ReadResult | null | ProviderErrorInfo>>;
  close(): Promise<void>;
}
