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
 *
 * Built with `Object.assign`, not `{ ...view, id, … }`: V8 (Node 20) gives every object made by a
 * spread followed by further properties a hidden class of its own (a map and its descriptors,
 * ~0.4 KB per contact: 4 MB in the answer of a 10,000-contact batch); onto `{}` they share one.
 */
export function contactView(
  record: IdentityRecord,
  readErrors: ContactView['readErrors'],
  times?: { createdAt: string | null; updatedAt: string | null },
  owned = false,
): ContactView {
  return Object.assign({}, owned ? record.view : structuredClone(record.view), {
    id: record.id,
    createdAt: times?.createdAt ?? record.createdAt,
    updatedAt: times?.updatedAt ?? record.updatedAt,
    records: Object.values(record.records),
    readErrors,
  });
}

/** A frozen empty list that every answer without errors (or drops) shares. */
export const EMPTY_LIST: never[] = Object.freeze([]) as unknown as never[];

/**
 * The pieces of a batch's answers that many contacts have alike, shared instead of copied: what a
 * provider dropped (`droppedFields`, `details.droppedFieldReasons`: the same for every contact
 * lacking the same fields), details made of plain values only (a bulk call's `batchSize`, …),
 * empty lists, consents (a few flags), the creation time (one per batch for new contacts). Each
 * object is frozen, so code that changed one in place would throw rather than change other
 * contacts' answers. One per batch (or slice): what it keeps lives no longer than the answer.
 */
export class SharedPieces {
  // Each made on first use: a single write's answer needs one of them at most.
  #lists: Map<string, string[]> | null = null;
  #flat: Map<string, Record<string, unknown>> | null = null;
  #times: Map<string, string> | null = null;

  /**
   * A provider outcome as the answer keeps it: without the provider's view of the contact (that
   * goes into the identity map, not the payload), its common pieces shared.
   */
  outcome(r: Outcome): Outcome {
    return {
      ...r,
      contact: null,
      droppedFields: this.list(r.droppedFields),
      details: r.details && this.#details(r.details),
    };
  }

  /** The view's consents and creation time shared (`view` is the caller's own, see `contactView`). */
  view(view: ContactView): ContactView {
    if (view.emailConsent) {
      view.emailConsent = this.#flatObject(view.emailConsent) ?? view.emailConsent;
    }
    if (view.smsConsent) {
      view.smsConsent = this.#flatObject(view.smsConsent) ?? view.smsConsent;
    }
    if (view.createdAt) {
      this.#times ??= new Map();
      const time = this.#times.get(view.createdAt);
      if (time === undefined) {
        this.#times.set(view.createdAt, view.createdAt);
      } else {
        view.createdAt = time;
      }
    }
    return view;
  }

  /** A list of names shared with every equal one. */
  list(xs: string[]): string[] {
    if (xs.length === 0) {
      return EMPTY_LIST;
    }
    const key = xs.join('\u0000');
    this.#lists ??= new Map();
    let shared = this.#lists.get(key);
    if (!shared) {
      shared = Object.freeze([...xs]) as string[];
      this.#lists.set(key, shared);
    }
    return shared;
  }

  #details(details: Record<string, unknown>): Record<string, unknown> {
    const flat = this.#flatObject(details);
    if (flat) {
      return flat;
    }
    const reasons = details['droppedFieldReasons'];
    const shared = reasons && typeof reasons === 'object' ? this.#flatObject(reasons) : null;
    return shared ? { ...details, droppedFieldReasons: shared } : details;
  }

  /** A flat object (plain values only) shared with every equal one; null for any other. */
  #flatObject<T extends object>(o: T): T | null {
    let key = '';
    for (const [k, v] of Object.entries(o)) {
      if (v !== null && typeof v === 'object') {
        return null;
      }
      key += `${k}\u0000${typeof v}\u0000${String(v)}\u0000`;
    }
    this.#flat ??= new Map();
    let shared = this.#flat.get(key);
    if (!shared) {
      shared = Object.freeze({ ...o }) as Record<string, unknown>;
      this.#flat.set(key, shared);
    }
    return shared as T;
  }
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
