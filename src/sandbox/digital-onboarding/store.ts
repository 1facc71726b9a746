/**
 * In-memory contacts of one Digital Onboarding team, with the sandbox's upsert rules and its
 * idempotency records.
 */

import { randomUUID } from 'node:crypto';
import { ContactTable } from '../shared/contact-table.js';
import type { SandboxResponse } from '../shared/types.js';

import type { ContactPatch, DigitalOnboardingContact } from './contact.js';
import { applyPatch, newContact } from './contact.js';
import type { DoError } from './errors.js';
import { doError } from './errors.js';

export type WriteOutcome =
  | { ok: true; created: boolean; contact: DigitalOnboardingContact }
  | { ok: false; status: 409 | 422; error: DoError };

/**
 * How long a stored idempotent response is replayed. The docs give no window (§1.0 "Not
 * documented": TTL); 24 h is the common choice (Stripe, the IETF Idempotency-Key draft's example).
 */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

interface IdempotencyRecord {
  fingerprint: string;
  response: SandboxResponse;
  expiresAt: number;
}

export type IdempotencyLookup =
  | { kind: 'miss' }
  | { kind: 'replay'; response: SandboxResponse }
  | { kind: 'conflict' };

interface Snapshot {
  contacts: Map<string, DigitalOnboardingContact>;
  byUniqueId: Map<string, string>;
  byEmail: Map<string, string>;
}

function emailKey(email: string): string {
  return email.toLowerCase();
}

/** Contacts by DO id (`get`, `all`: oldest first, by `inserted_at` then creation order). */
export class DigitalOnboardingStore extends ContactTable<DigitalOnboardingContact> {
  /** The one team of the sandbox (UUID v4); every contact's `team_id`. */
  readonly teamId: string = randomUUID();
  private byUniqueId = new Map<string, string>();
  /** lower-cased email → id; matching is case-insensitive, the stored value is as sent */
  private byEmail = new Map<string, string>();
  private readonly idempotency = new Map<string, IdempotencyRecord>();
  private lastMs = 0;

  findByUniqueId(uniqueId: string): DigitalOnboardingContact | undefined {
    const id = this.byUniqueId.get(uniqueId);
    return id === undefined ? undefined : this.get(id);
  }

  /** Case-insensitive. */
  findByEmail(email: string): DigitalOnboardingContact | undefined {
    const id = this.byEmail.get(emailKey(email));
    return id === undefined ? undefined : this.get(id);
  }

  /** Removes every contact and every idempotency record. */
  clear(): void {
    this.contacts.clear();
    this.byUniqueId.clear();
    this.byEmail.clear();
    this.idempotency.clear();
  }

  /**
   * A strictly increasing RFC 3339 timestamp (millisecond precision, `Z`). Strictly increasing so
   * that `inserted_at === updated_at` holds exactly for a contact that was just created and never
   * for one that a write updated — the only per-item created/updated signal in a bulk answer.
   */
  private stamp(): string {
    this.lastMs = Math.max(Date.now(), this.lastMs + 1);
    return new Date(this.lastMs).toISOString();
  }

  /**
   * `POST /v2/partner/contacts` for one contact. The match key is not documented (§1.2, §1.8 q2).
   * Sandbox decision, per the provider notes' reading (v1 keyed writes by `unique_id`): match by
   * `unique_id` first, then by email (case-insensitive). An email match is refused (409) when the
   * request names another `unique_id` than the matched contact's, since emails are unique per team
   * here; a matched contact without `unique_id` adopts the one sent. No match → create, which
   * needs `unique_id` or `email` (422 `required`), or the contact could never be matched again.
   */
  upsert(patch: ContactPatch, prefix = ''): WriteOutcome {
    const uniqueId = patch.unique_id;
    const email = patch.email;
    let target: DigitalOnboardingContact | undefined;
    if (typeof uniqueId === 'string') {
      target = this.rawByUniqueId(uniqueId);
    }
    if (target === undefined && typeof email === 'string') {
      const byEmail = this.rawByEmail(email);
      if (byEmail !== undefined) {
        if (typeof uniqueId === 'string' && byEmail.unique_id !== null) {
          return conflict(
            `${prefix}email`,
            `${prefix}email is already used by contact ${byEmail.id}, whose unique_id is not ${JSON.stringify(uniqueId)}`,
            byEmail.id,
          );
        }
        target = byEmail;
      }
    }
    if (target !== undefined) {
      return this.write(target, patch, prefix);
    }
    if (typeof uniqueId !== 'string' && typeof email !== 'string') {
      return {
        ok: false,
        status: 422,
        error: doError(
          'required',
          'Required',
          `${prefix}unique_id or ${prefix}email is required to create or match a contact`,
          { field: `${prefix}unique_id` },
        ),
      };
    }
    const at = this.stamp();
    const contact = newContact(randomUUID(), this.teamId, at, patch);
    this.put(contact);
    return { ok: true, created: true, contact: structuredClone(contact) };
  }

  /** `PATCH /v2/partner/contacts/{id}`; undefined when the id is unknown. */
  update(id: string, patch: ContactPatch): WriteOutcome | undefined {
    const target = this.contacts.get(id);
    return target === undefined ? undefined : this.write(target, patch, '');
  }

  /** `DELETE /v2/partner/contacts/{id}`; false when the id is unknown. */
  delete(id: string): boolean {
    const contact = this.contacts.get(id);
    if (contact === undefined) {
      return false;
    }
    this.unindex(contact);
    this.contacts.delete(id);
    return true;
  }

  /**
   * Runs `fn` and then puts every contact back as it was (`dry_run`): the answer is computed by the
   * real code path, including matches among the items of one bulk request.
   */
  dryRun<T>(fn: () => T): T {
    const saved: Snapshot = {
      contacts: new Map(this.contacts),
      byUniqueId: new Map(this.byUniqueId),
      byEmail: new Map(this.byEmail),
    };
    try {
      return fn();
    } finally {
      this.contacts = saved.contacts;
      this.byUniqueId = saved.byUniqueId;
      this.byEmail = saved.byEmail;
    }
  }

  lookupIdempotency(scopedKey: string, fingerprint: string): IdempotencyLookup {
    const record = this.idempotency.get(scopedKey);
    if (record === undefined || record.expiresAt <= Date.now()) {
      this.idempotency.delete(scopedKey);
      return { kind: 'miss' };
    }
    return record.fingerprint === fingerprint
      ? { kind: 'replay', response: structuredClone(record.response) }
      : { kind: 'conflict' };
  }

  saveIdempotency(scopedKey: string, fingerprint: string, response: SandboxResponse): void {
    this.idempotency.set(scopedKey, {
      fingerprint,
      response: structuredClone(response),
      expiresAt: Date.now() + IDEMPOTENCY_TTL_MS,
    });
  }

  private rawByUniqueId(uniqueId: string): DigitalOnboardingContact | undefined {
    const id = this.byUniqueId.get(uniqueId);
    return id === undefined ? undefined : this.contacts.get(id);
  }

  private rawByEmail(email: string): DigitalOnboardingContact | undefined {
    const id = this.byEmail.get(emailKey(email));
    return id === undefined ? undefined : this.contacts.get(id);
  }

  /**
   * Updates `target`. `unique_id` and email are unique per team (sandbox decision, needed for
   * them to be match keys): taking one another contact holds is a 409 `conflict`. Every update
   * sets a new `updated_at`, even when no value changes.
   */
  private write(
    target: DigitalOnboardingContact,
    patch: ContactPatch,
    prefix: string,
  ): WriteOutcome {
    if (typeof patch.unique_id === 'string') {
      const holder = this.byUniqueId.get(patch.unique_id);
      if (holder !== undefined && holder !== target.id) {
        return conflict(
          `${prefix}unique_id`,
          `${prefix}unique_id is already used by contact ${holder}`,
          holder,
        );
      }
    }
    if (typeof patch.email === 'string') {
      const holder = this.byEmail.get(emailKey(patch.email));
      if (holder !== undefined && holder !== target.id) {
        return conflict(
          `${prefix}email`,
          `${prefix}email is already used by contact ${holder}`,
          holder,
        );
      }
    }
    const next = applyPatch(target, patch, this.stamp());
    this.unindex(target);
    this.put(next);
    return { ok: true, created: false, contact: structuredClone(next) };
  }

  private put(contact: DigitalOnboardingContact): void {
    this.contacts.set(contact.id, contact);
    if (contact.unique_id !== null) {
      this.byUniqueId.set(contact.unique_id, contact.id);
    }
    if (contact.email !== null) {
      this.byEmail.set(emailKey(contact.email), contact.id);
    }
  }

  private unindex(contact: DigitalOnboardingContact): void {
    if (contact.unique_id !== null) {
      this.byUniqueId.delete(contact.unique_id);
    }
    if (contact.email !== null) {
      this.byEmail.delete(emailKey(contact.email));
    }
  }
}

function conflict(field: string, detail: string, contactId: string): WriteOutcome {
  return {
    ok: false,
    status: 409,
    error: doError('conflict', 'Conflict', detail, { field, contact_id: contactId }),
  };
}
