/**
 * In-memory stand-in for an SFMC business unit's Contact Builder: contacts by contact key, each
 * with a system-assigned numeric contact ID and one row per attribute set.
 */
import { ContactTable } from '../shared/contact-table.js';
import type { AttributeSets, AttributeValue } from './attribute-sets.js';
import { EMAIL_ADDRESS, EMAIL_ADDRESSES } from './attribute-sets.js';
import { timestamp } from './wire.js';

/** A stored contact, as tests inspect it (a copy: changing it changes nothing). */
export interface SalesforceMcContact {
  contactKey: string;
  /** System-assigned, ascending from 1000001 in the sandbox (SF-1 example: 12345678). */
  contactId: number;
  /** Always 0 (SF-1 example `contactTypeID: 0`; SF-4 `contactType` default 0). */
  contactTypeId: number;
  /** ISO 8601 UTC */
  createDate: string;
  /** ISO 8601 UTC */
  modifiedDate: string;
  attributeSets: AttributeSets;
}

/** Per set, the attributes a write sets (a value) or clears (`null`). */
export type AttributeChanges = ReadonlyMap<string, ReadonlyMap<string, AttributeValue | null>>;

const FIRST_CONTACT_ID = 1_000_001;

/** Contacts by contact key (`get`: exact match). */
export class SalesforceMcStore extends ContactTable<SalesforceMcContact> {
  private nextId = FIRST_CONTACT_ID;

  protected override copy(contact: SalesforceMcContact): SalesforceMcContact {
    return copy(contact);
  }

  /** The contact with this contact ID, or undefined. */
  getById(contactId: number): SalesforceMcContact | undefined {
    for (const contact of this.contacts.values()) {
      if (contact.contactId === contactId) {
        return copy(contact);
      }
    }
    return undefined;
  }

  /** Removes every contact. Contact IDs keep ascending. */
  clear(): void {
    this.contacts.clear();
  }

  /**
   * Stores `attributeSets` (already merged and validated) as the contact's whole data. Creates the
   * contact when the key is new.
   */
  save(
    contactKey: string,
    attributeSets: AttributeSets,
  ): { contact: SalesforceMcContact; isNew: boolean } {
    const now = timestamp();
    const existing = this.contacts.get(contactKey);
    if (existing !== undefined) {
      existing.attributeSets = copySets(attributeSets);
      existing.modifiedDate = now;
      return { contact: copy(existing), isNew: false };
    }
    const contact: SalesforceMcContact = {
      contactKey,
      contactId: this.nextId++,
      contactTypeId: 0,
      createDate: now,
      modifiedDate: now,
      attributeSets: copySets(attributeSets),
    };
    this.contacts.set(contactKey, contact);
    return { contact: copy(contact), isNew: true };
  }

  /**
   * Contacts whose Email Addresses row holds `email`, compared case-insensitively (the docs do not
   * say; email addresses are matched without regard to case in the sandbox), oldest first.
   */
  findByEmail(email: string): SalesforceMcContact[] {
    const wanted = email.toLowerCase();
    return [...this.contacts.values()]
      .filter((c) => {
        const address = c.attributeSets[EMAIL_ADDRESSES]?.[EMAIL_ADDRESS];
        return typeof address === 'string' && address.toLowerCase() === wanted;
      })
      .map(copy);
  }

  /** Deletes contacts by key; returns how many existed. */
  deleteKeys(contactKeys: readonly string[]): number {
    let deleted = 0;
    for (const key of contactKeys) {
      if (this.contacts.delete(key)) {
        deleted++;
      }
    }
    return deleted;
  }

  /** Deletes contacts by contact ID; returns how many existed. */
  deleteIds(contactIds: readonly number[]): number {
    const wanted = new Set(contactIds);
    let deleted = 0;
    for (const [key, contact] of this.contacts) {
      if (wanted.has(contact.contactId)) {
        this.contacts.delete(key);
        deleted++;
      }
    }
    return deleted;
  }
}

/**
 * Applies a write to stored sets. Attributes a write omits keep their value (SF-2: PATCH applies
 * to the sets in the body); `null` clears one (open question 15: the docs do not say how to clear;
 * the sandbox's choice). A set left with no attribute disappears.
 */
export function mergeAttributeSets(
  current: AttributeSets,
  changes: AttributeChanges,
): AttributeSets {
  const merged = copySets(current);
  for (const [setName, values] of changes) {
    const row = { ...merged[setName] };
    for (const [name, value] of values) {
      if (value === null) {
        delete row[name];
      } else {
        row[name] = value;
      }
    }
    if (Object.keys(row).length === 0) {
      delete merged[setName];
    } else {
      merged[setName] = row;
    }
  }
  return merged;
}

function copySets(sets: AttributeSets): AttributeSets {
  const out: AttributeSets = {};
  for (const [name, row] of Object.entries(sets)) {
    out[name] = { ...row };
  }
  return out;
}

function copy(contact: SalesforceMcContact): SalesforceMcContact {
  return { ...contact, attributeSets: copySets(contact.attributeSets) };
}
