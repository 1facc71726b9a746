/**
 * In-memory stand-in for a Notifuse workspace database (`contacts` and `contact_lists`), with the
 * write semantics of Notifuse's repository: the single upsert merges (omitted keeps, null
 * clears, created_at kept), the bulk upsert ignores nulls and resets both timestamps, and one bad
 * value fails a whole bulk statement.
 */

import type {
  ColumnValue,
  ContactInput,
  ContactListEntry,
  ContactListStatus,
  NotifuseContact,
  StoredContact,
} from './contact.js';
import { columnError, toWireContact } from './contact.js';
import { normalizeEmail } from './email.js';
import type { Micros } from './go-time.js';
import { createClock, formatTimestamp, parseRfc3339 } from './go-time.js';

/** `domain.BulkImportChunkSize`: contacts per INSERT statement in `contacts.import`. */
export const BULK_IMPORT_CHUNK_SIZE = 500;

/** Memberships a bulk subscribe must not overwrite (`contact_list_postgres.go`). */
const PROTECTED_STATUSES: ReadonlySet<ContactListStatus> = new Set([
  'unsubscribed',
  'bounced',
  'complained',
]);

export type UpsertOutcome =
  | { ok: true; action: 'create' | 'update' }
  | { ok: false; error: string };

/** `domain.BulkUpsertResult` */
export interface BulkUpsertResult {
  email: string;
  isNew: boolean;
}

export type BulkUpsertOutcome =
  | { ok: true; results: BulkUpsertResult[] }
  | { ok: false; error: string };

/** Text filters of `contacts.list` (ILIKE `%value%`). */
export const LIST_TEXT_FILTERS = [
  'email',
  'external_id',
  'first_name',
  'last_name',
  'full_name',
  'phone',
  'country',
  'language',
] as const;

export type ListTextFilter = (typeof LIST_TEXT_FILTERS)[number];

export interface ListQuery {
  filters: Partial<Record<ListTextFilter, string>>;
  listId?: string;
  contactListStatus?: string;
  segments?: readonly string[];
  withContactLists: boolean;
  limit: number;
  cursor?: string;
}

export type ListOutcome =
  | { ok: true; contacts: NotifuseContact[]; nextCursor?: string }
  | { ok: false; error: string };

interface Membership {
  readonly listId: string;
  status: ContactListStatus;
  readonly createdAt: Micros;
  updatedAt: Micros;
}

export interface NotifuseStoreOptions {
  /** Wall clock in milliseconds. @default Date.now */
  now?: () => number;
}

export class NotifuseStore {
  private readonly contacts = new Map<string, StoredContact>();
  /** email → list id → membership */
  private readonly lists = new Map<string, Map<string, Membership>>();
  private readonly now: () => Micros;

  constructor(opts: NotifuseStoreOptions = {}) {
    this.now = createClock(opts.now);
  }

  /** Number of stored contacts. */
  get size(): number {
    return this.contacts.size;
  }

  /** A contact as `contacts.getByEmail` returns it (email normalised first), or undefined. */
  get(email: string): NotifuseContact | undefined {
    return this.findByEmail(normalizeEmail(email));
  }

  /** Every contact, in `contacts.list` order (created_at DESC, email ASC), as `get` shapes them. */
  all(): NotifuseContact[] {
    return this.sorted([...this.contacts.values()]).map((row) => this.toSingleRead(row));
  }

  /** Removes every contact and list membership. */
  clear(): void {
    this.contacts.clear();
    this.lists.clear();
  }

  /** `contactLists.updateStatus`: changes an existing membership only; false when there is none. */
  updateMembership(email: string, listId: string, status: ContactListStatus): boolean {
    const existing = this.lists.get(normalizeEmail(email))?.get(listId);
    if (existing === undefined) {
      return false;
    }
    existing.status = status;
    existing.updatedAt = this.now();
    return true;
  }

  /** Seeds or changes a list membership (e.g. an `unsubscribed` one a later import must keep). */
  setMembership(email: string, listId: string, status: ContactListStatus): void {
    const normalised = normalizeEmail(email);
    const now = this.now();
    const memberships = this.membershipsOf(normalised);
    const existing = memberships.get(listId);
    if (existing) {
      existing.status = status;
      existing.updatedAt = now;
    } else {
      memberships.set(listId, { listId, status, createdAt: now, updatedAt: now });
    }
  }

  /** A new contact: its non-null values, created and updated `now`. */
  private insert(input: ContactInput, now: bigint): void {
    this.contacts.set(input.email, {
      email: input.email,
      values: nonNullValues(input),
      createdAt: now,
      updatedAt: now,
    });
  }

  /**
   * Single upsert (`contacts.upsert`): omitted keys keep the stored value, explicit nulls clear
   * it; created_at is kept and updated_at bumped on update.
   */
  upsert(input: ContactInput): UpsertOutcome {
    const dbError = columnError(input);
    if (dbError !== undefined) {
      return { ok: false, error: `failed to upsert contact: ${dbError}` };
    }
    const now = this.now();
    const existing = this.contacts.get(input.email);
    if (existing === undefined) {
      this.insert(input, now);
      return { ok: true, action: 'create' };
    }
    for (const [name, value] of input.values) {
      if (value === null) {
        existing.values.delete(name);
      } else {
        existing.values.set(name, value);
      }
    }
    existing.updatedAt = now;
    return { ok: true, action: 'update' };
  }

  /**
   * One `BulkUpsertContacts` statement. All or nothing: the first value PostgreSQL refuses fails
   * the statement. On conflict each column takes the new value only when it is not NULL (so an
   * explicit null cannot clear), and created_at and updated_at are both reset to now.
   *
   * Results come back in the order the database returns them, which is not the input order; the
   * sandbox sorts them by email so that clients cannot rely on position.
   */
  bulkUpsert(chunk: readonly ContactInput[]): BulkUpsertOutcome {
    for (const input of chunk) {
      const dbError = columnError(input);
      if (dbError !== undefined) {
        return { ok: false, error: `failed to execute bulk upsert: ${dbError}` };
      }
    }
    const now = this.now();
    const results: BulkUpsertResult[] = [];
    for (const input of chunk) {
      const existing = this.contacts.get(input.email);
      if (existing === undefined) {
        this.insert(input, now);
        results.push({ email: input.email, isNew: true });
        continue;
      }
      for (const [name, value] of nonNullValues(input)) {
        existing.values.set(name, value);
      }
      existing.createdAt = now;
      existing.updatedAt = now;
      results.push({ email: input.email, isNew: false });
    }
    return { ok: true, results: results.sort((a, b) => compareText(a.email, b.email)) };
  }

  /**
   * `BulkAddContactsToLists(emails, listIDs, active)`: adds memberships as `active`, reactivates
   * `pending`/`active` ones, and leaves `unsubscribed`, `bounced` and `complained` untouched.
   */
  subscribe(emails: readonly string[], listIds: readonly string[]): void {
    const now = this.now();
    for (const email of emails) {
      const memberships = this.membershipsOf(email);
      for (const listId of listIds) {
        const existing = memberships.get(listId);
        if (existing === undefined) {
          memberships.set(listId, { listId, status: 'active', createdAt: now, updatedAt: now });
        } else if (!PROTECTED_STATUSES.has(existing.status)) {
          existing.status = 'active';
          existing.updatedAt = now;
        }
      }
    }
  }

  /** Exact (already normalised) email lookup, shaped as `contacts.getByEmail` returns it. */
  findByEmail(email: string): NotifuseContact | undefined {
    const row = this.contacts.get(email);
    return row === undefined ? undefined : this.toSingleRead(row);
  }

  /** external_id is not unique; like the unordered SQL query this returns the first one found. */
  findByExternalId(externalId: string): NotifuseContact | undefined {
    for (const row of this.contacts.values()) {
      if (row.values.get('external_id') === externalId) {
        return this.toSingleRead(row);
      }
    }
    return undefined;
  }

  delete(email: string): boolean {
    this.lists.delete(email);
    return this.contacts.delete(email);
  }

  count(): number {
    return this.contacts.size;
  }

  /**
   * `contacts.list`: filters, then `ORDER BY created_at DESC, email ASC`, keyset pagination with
   * the cursor `base64("<created_at RFC3339Nano>~<email>")`; `nextCursor` only when more rows exist.
   */
  list(query: ListQuery): ListOutcome {
    let rows = [...this.contacts.values()].filter((row) => this.matches(row, query));
    rows = this.sorted(rows);
    if (query.cursor !== undefined && query.cursor !== '') {
      const cursor = decodeCursor(query.cursor);
      if (cursor === undefined) {
        return { ok: false, error: 'invalid cursor' };
      }
      rows = rows.filter(
        (row) =>
          row.createdAt < cursor.createdAt ||
          (row.createdAt === cursor.createdAt && compareText(row.email, cursor.email) > 0),
      );
    }
    const page = rows.slice(0, query.limit);
    const contacts = page.map((row) =>
      toWireContact(row, query.withContactLists ? this.entriesOf(row.email) : null, null),
    );
    const last = page.at(-1);
    if (rows.length > query.limit && last !== undefined) {
      return { ok: true, contacts, nextCursor: encodeCursor(last) };
    }
    return { ok: true, contacts };
  }

  private matches(row: StoredContact, query: ListQuery): boolean {
    for (const name of LIST_TEXT_FILTERS) {
      const filter = query.filters[name];
      if (filter === undefined || filter === '') {
        continue;
      }
      const value = name === 'email' ? row.email : row.values.get(name);
      if (typeof value !== 'string' || !ilike(value, `%${filter}%`)) {
        return false;
      }
    }
    const { listId, contactListStatus } = query;
    if ((listId ?? '') !== '' || (contactListStatus ?? '') !== '') {
      const memberships = [...(this.lists.get(row.email)?.values() ?? [])];
      const found = memberships.some(
        (m) =>
          ((listId ?? '') === '' || m.listId === listId) &&
          ((contactListStatus ?? '') === '' || m.status === contactListStatus),
      );
      if (!found) {
        return false;
      }
    }
    // The sandbox has no segments, so no contact belongs to any.
    return !(query.segments !== undefined && query.segments.length > 0);
  }

  private sorted(rows: StoredContact[]): StoredContact[] {
    return rows.sort((a, b) =>
      a.createdAt === b.createdAt
        ? compareText(a.email, b.email)
        : a.createdAt > b.createdAt
          ? -1
          : 1,
    );
  }

  /** Single reads always join lists (`[]` when none) and segments (always `[]` here). */
  private toSingleRead(row: StoredContact): NotifuseContact {
    return toWireContact(row, this.entriesOf(row.email), []);
  }

  private entriesOf(email: string): ContactListEntry[] {
    const memberships = [...(this.lists.get(email)?.values() ?? [])];
    return memberships
      .sort((a, b) =>
        a.createdAt === b.createdAt
          ? compareText(a.listId, b.listId)
          : a.createdAt < b.createdAt
            ? -1
            : 1,
      )
      .map((m) => ({
        email,
        list_id: m.listId,
        // The sandbox has no lists resource; a list is named after its id.
        list_name: m.listId,
        status: m.status,
        created_at: formatTimestamp(m.createdAt),
        updated_at: formatTimestamp(m.updatedAt),
      }));
  }

  private membershipsOf(email: string): Map<string, Membership> {
    let memberships = this.lists.get(email);
    if (memberships === undefined) {
      memberships = new Map();
      this.lists.set(email, memberships);
    }
    return memberships;
  }
}

function nonNullValues(input: ContactInput): Map<string, ColumnValue> {
  const values = new Map<string, ColumnValue>();
  for (const [name, value] of input.values) {
    if (value !== null) {
      values.set(name, value);
    }
  }
  return values;
}

/** Byte-wise order, like a `C`-collated `ORDER BY email`. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** PostgreSQL `value ILIKE pattern` with the default escape character `\`. */
function ilike(value: string, pattern: string): boolean {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] ?? '';
    if (ch === '\\' && i + 1 < pattern.length) {
      i++;
      source += escapeRegExp(pattern[i] ?? '');
    } else if (ch === '%') {
      source += '.*';
    } else if (ch === '_') {
      source += '.';
    } else {
      source += escapeRegExp(ch);
    }
  }
  return new RegExp(`^${source}$`, 'isu').test(value);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

function encodeCursor(row: StoredContact): string {
  return Buffer.from(`${formatTimestamp(row.createdAt)}~${row.email}`, 'utf8').toString('base64');
}

/** Go's `base64.StdEncoding` (padding required; CR/LF ignored), then `<RFC3339Nano>~<email>`. */
function decodeCursor(cursor: string): { createdAt: Micros; email: string } | undefined {
  const compact = cursor.replace(/[\r\n]/g, '');
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) {
    return undefined;
  }
  const decoded = Buffer.from(compact, 'base64').toString('utf8');
  const separator = decoded.indexOf('~');
  if (separator < 0) {
    return undefined;
  }
  const time = parseRfc3339(decoded.slice(0, separator));
  return time.ok ? { createdAt: time.micros, email: decoded.slice(separator + 1) } : undefined;
}
