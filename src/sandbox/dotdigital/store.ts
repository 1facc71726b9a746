/**
 * In-memory stand-in for one Dotdigital account's contacts, with the write rules of "Import a
 * single contact" (DD-1), shared by PATCH and the bulk import.
 */

import type {
  ContactWrite,
  DotdigitalContact,
  EmailStatus,
  MergeOption,
  StoredContact,
} from './contact.js';
import { EMAIL_TYPE, OPT_IN_TYPE, toWireContact } from './contact.js';
import { type DataField, DataFieldRegistry } from './data-fields.js';
import type { IdentifierName } from './identifiers.js';
import { identifierKey } from './identifiers.js';

export interface DotdigitalStoreOptions {
  /**
   * The first contactId handed out; later ones follow sequentially and are never reused.
   * @default 1001
   */
  firstContactId?: number;
  /** Wall clock in milliseconds, for `created` / `updated`. @default Date.now */
  now?: () => number;
}

export interface ContactMatch {
  identifier: IdentifierName;
  /** A contactId as a number; email and mobile number as strings. */
  value: string | number;
}

export type WriteOutcome =
  | { ok: true; action: 'created' | 'updated'; undeleted: boolean; contact: DotdigitalContact }
  /** Only when matching by contactId: the others create. */
  | { ok: false; reason: 'contactNotFound' }
  /** An identifier of the write already belongs to another contact (binned ones included). */
  | { ok: false; reason: 'idAlreadyExists'; identifier: 'email' | 'mobileNumber'; value: string };

export class DotdigitalStore {
  /** The account's contact data fields by upper-cased name (a plain Map: snapshots carry it). */
  private dataFieldMap = new Map<string, DataField>();

  /** The account's contact data fields (v2 API); a write naming another is refused. */
  get dataFields(): DataFieldRegistry {
    return new DataFieldRegistry(this.dataFieldMap);
  }
  private readonly byId = new Map<number, StoredContact>();
  private readonly byEmail = new Map<string, StoredContact>();
  private readonly byMobile = new Map<string, StoredContact>();
  private readonly now: () => number;
  private nextId: number;

  constructor(opts: DotdigitalStoreOptions = {}) {
    this.nextId = opts.firstContactId ?? 1001;
    this.now = opts.now ?? Date.now;
  }

  /** Contacts outside the recycle bin. */
  get size(): number {
    let n = 0;
    for (const c of this.byId.values()) {
      if (!c.binned) {
        n++;
      }
    }
    return n;
  }

  /** Contacts outside the recycle bin, by contactId, shaped as GET answers them. */
  all(): DotdigitalContact[] {
    return [...this.byId.values()].filter((c) => !c.binned).map(toWireContact);
  }

  /**
   * A contact by any identifier (email case-insensitively), also from the recycle bin, where its
   * top-level `status` reads `binned` (over HTTP a binned contact is a 404).
   */
  get(identifier: IdentifierName, value: string | number): DotdigitalContact | undefined {
    const c = this.resolve({ identifier, value });
    return c === undefined ? undefined : toWireContact(c);
  }

  getByEmail(email: string): DotdigitalContact | undefined {
    return this.get('email', email);
  }

  getByMobileNumber(mobileNumber: string): DotdigitalContact | undefined {
    return this.get('mobileNumber', mobileNumber);
  }

  getByContactId(contactId: number): DotdigitalContact | undefined {
    return this.get('contactId', contactId);
  }

  /** Like `get`, but a binned contact counts as absent (what GET and DELETE see). */
  findLive(match: ContactMatch): DotdigitalContact | undefined {
    const c = this.resolve(match);
    return c === undefined || c.binned ? undefined : toWireContact(c);
  }

  /**
   * Moves a contact to the recycle bin (DD-1, DD-OAS deleteContact). Returns its contactId, or
   * undefined when there is no such contact outside the bin.
   */
  delete(identifier: IdentifierName, value: string | number): number | undefined {
    const c = this.resolve({ identifier, value });
    if (c === undefined || c.binned) {
      return undefined;
    }
    c.binned = true;
    c.updated = this.timestamp();
    return c.contactId;
  }

  /** Forgets every contact, binned ones too. contactIds keep counting up. */
  clear(): void {
    this.byId.clear();
    this.byEmail.clear();
    this.byMobile.clear();
  }

  /**
   * One "Import a single contact" (DD-1): update the matched contact, undelete it first if it is
   * binned, or create it. When matching by email or mobileNumber the match value is that
   * identifier of a new contact unless the body names another (sandbox decision), so DD-1's
   * "a new contact needs email or mobileNumber" always holds; matching a missing contactId fails.
   */
  write(match: ContactMatch, input: ContactWrite, mergeOption: MergeOption): WriteOutcome {
    const found = this.resolve(match);
    if (found === undefined && match.identifier === 'contactId') {
      return { ok: false, reason: 'contactNotFound' };
    }
    const identifiers: { email?: string; mobileNumber?: string } = {};
    if (found === undefined && typeof match.value === 'string') {
      identifiers[match.identifier as 'email' | 'mobileNumber'] = match.value;
    }
    Object.assign(identifiers, input.identifiers);
    for (const name of ['email', 'mobileNumber'] as const) {
      const value = identifiers[name];
      if (value === undefined) {
        continue;
      }
      const owner = this.resolve({ identifier: name, value });
      if (owner !== undefined && owner !== found) {
        return { ok: false, reason: 'idAlreadyExists', identifier: name, value };
      }
    }

    const now = this.timestamp();
    const contact = found ?? this.create(now);
    const undeleted = contact.binned;
    contact.binned = false;
    if (identifiers.email !== undefined) {
      this.setEmail(contact, identifiers.email);
    }
    if (identifiers.mobileNumber !== undefined) {
      this.setMobileNumber(contact, identifiers.mobileNumber);
    }
    mergeDataFields(contact.dataFields, input.dataFields ?? {}, mergeOption);
    applyChannels(contact, input.channelProperties);
    for (const id of input.lists ?? []) {
      // Sandbox decision: every list exists, is named after its id, and a write subscribes.
      contact.lists.set(id, { id, name: `List ${id}`, status: 'subscribed' });
    }
    for (const p of input.preferences ?? []) {
      contact.preferences.set(p.id, p.isOptedIn);
    }
    for (const r of input.consentRecords ?? []) {
      // DD-OAS `consentRecords` answers each record with the time it was stored.
      contact.consentRecords.push({ ...r, dateTimeCreated: now });
    }
    contact.updated = now;
    return {
      ok: true,
      action: found === undefined ? 'created' : 'updated',
      undeleted,
      contact: toWireContact(contact),
    };
  }

  private resolve(match: ContactMatch): StoredContact | undefined {
    const { identifier, value } = match;
    if (identifier === 'contactId') {
      return this.byId.get(Number(value));
    }
    const index = identifier === 'email' ? this.byEmail : this.byMobile;
    return index.get(identifierKey(identifier, String(value)));
  }

  private create(now: string): StoredContact {
    const contact: StoredContact = {
      contactId: this.nextId++,
      email: undefined,
      mobileNumber: undefined,
      dataFields: new Map(),
      emailChannel: undefined,
      smsStatus: undefined,
      whatsAppStatus: undefined,
      lists: new Map(),
      preferences: new Map(),
      consentRecords: [],
      created: now,
      updated: now,
      binned: false,
    };
    this.byId.set(contact.contactId, contact);
    return contact;
  }

  private setEmail(contact: StoredContact, email: string): void {
    if (contact.email !== undefined) {
      this.byEmail.delete(identifierKey('email', contact.email));
    }
    contact.email = email;
    this.byEmail.set(identifierKey('email', email), contact);
  }

  private setMobileNumber(contact: StoredContact, mobileNumber: string): void {
    if (contact.mobileNumber !== undefined) {
      this.byMobile.delete(contact.mobileNumber);
    }
    contact.mobileNumber = mobileNumber;
    this.byMobile.set(mobileNumber, contact);
  }

  private timestamp(): string {
    return new Date(this.now()).toISOString();
  }
}

function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

/**
 * DD-1: `null` clears a data field. Merge options are not described for v3; their meaning is
 * inferred from the v2 integers (DD-11: 0 overwrite, 1 "only overwrite if not empty", 2 "only
 * overwrite if contact data not populated") and they apply to data fields only (sandbox decision:
 * identifiers, channels, lists, preferences and consent are always written).
 * Open question 4 (does null still clear under overwrite-if-not-empty?): the sandbox treats null
 * as the emptiest value, so under overwriteIfNotEmpty it is skipped and clears nothing.
 * "Empty" is absent, null or "".
 */
function mergeDataFields(
  fields: Map<string, unknown>,
  input: Record<string, unknown>,
  mergeOption: MergeOption,
): void {
  for (const [name, value] of Object.entries(input)) {
    switch (mergeOption) {
      case 'overwrite':
        if (value === null) {
          fields.delete(name);
        } else {
          fields.set(name, value);
        }
        break;
      case 'overwriteIfNotEmpty':
        if (!isEmpty(value)) {
          fields.set(name, value);
        }
        break;
      case 'overwriteIfEmpty':
        if (isEmpty(fields.get(name)) && !isEmpty(value)) {
          fields.set(name, value);
        }
        break;
    }
  }
}

/**
 * Channel rules (DD-OAS descriptions): an omitted status leaves an existing channel alone; a new
 * email channel starts `subscribed`; optInType double/verifiedDouble makes a subscription
 * `pendingOptIn` until the contact confirms (the sandbox never confirms). Sandbox decisions: a
 * contact has an email channel only once it has an email, and sms/whatsApp only with a mobile
 * number (channel properties for a missing identifier are ignored); a subscribe keeps an already
 * `subscribed` channel subscribed; a new sms channel starts `noSubscription` (DD-OAS: "the
 * account's Mobile subscription setting", which the sandbox account leaves unset); a new email
 * channel is Html / Unknown; resubscribeOptions are accepted and ignored (no challenge emails).
 */
function applyChannels(contact: StoredContact, input: ContactWrite['channelProperties']): void {
  if (contact.email !== undefined) {
    const before = contact.emailChannel;
    const channel = before ?? { emailType: 'Html', optInType: 'Unknown', status: 'subscribed' };
    const email = input?.email;
    if (email?.emailType !== undefined) {
      channel.emailType = EMAIL_TYPE[email.emailType];
    }
    if (email?.optInType !== undefined) {
      channel.optInType = OPT_IN_TYPE[email.optInType];
    }
    const requested = email?.status ?? (before === undefined ? 'subscribed' : undefined);
    if (requested !== undefined) {
      const double = channel.optInType === 'Double' || channel.optInType === 'VerifiedDouble';
      const status: EmailStatus =
        requested === 'subscribed' && double && before?.status !== 'subscribed'
          ? 'pendingOptIn'
          : requested;
      channel.status = status;
    }
    contact.emailChannel = channel;
  }
  if (contact.mobileNumber !== undefined) {
    contact.smsStatus = input?.sms?.status ?? contact.smsStatus ?? 'noSubscription';
    if (input?.whatsApp?.status !== undefined) {
      contact.whatsAppStatus = input.whatsApp.status;
    }
  }
}
