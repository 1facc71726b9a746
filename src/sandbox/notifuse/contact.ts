/**
 * Notifuse's contact model without HTTP: the columns, `domain.FromJSON` (how a ContactInput is
 * read), what PostgreSQL refuses on write, and how a stored row is encoded on read.
 * Source: Notifuse `internal/domain/contact.go`, `internal/database/init.go` (HEAD d8f31f81).
 */
import { isEmail, normalizeEmail, trimUnicodeSpace } from './email.js';
import { sortKeysDeep } from './go-json.js';
import type { Micros } from './go-time.js';
import { formatTimestamp, parseRfc3339 } from './go-time.js';

export type FieldKind = 'string' | 'number' | 'datetime' | 'json';

export interface FieldSpec {
  readonly name: string;
  readonly kind: FieldKind;
  /** VARCHAR(n) limit of the column, for string columns. */
  readonly maxLength?: number;
}

const str = (name: string, maxLength: number): FieldSpec => ({ name, kind: 'string', maxLength });
const numbered = (prefix: string, kind: FieldKind, maxLength?: number): FieldSpec[] =>
  [1, 2, 3, 4, 5].map((i) =>
    maxLength === undefined
      ? { name: `${prefix}_${i}`, kind }
      : { name: `${prefix}_${i}`, kind, maxLength },
  );

export const EMAIL_MAX_LENGTH = 255;

/** Every column after `email`, in table (and JSON struct) order. */
export const CONTACT_FIELDS: readonly FieldSpec[] = [
  str('external_id', 255),
  str('timezone', 50),
  str('language', 50),
  str('first_name', 255),
  str('last_name', 255),
  str('full_name', 255),
  str('phone', 50),
  str('address_line_1', 255),
  str('address_line_2', 255),
  str('country', 100),
  str('postcode', 20),
  str('state', 100),
  str('job_title', 255),
  ...numbered('custom_string', 'string', 255),
  ...numbered('custom_number', 'number'),
  ...numbered('custom_datetime', 'datetime'),
  ...numbered('custom_json', 'json'),
];

/** string → text; number → DECIMAL; bigint → TIMESTAMPTZ (µs); object/array → JSONB. */
export type ColumnValue = string | number | Micros | object;

export interface ContactInput {
  /** Normalised (trimmed, lower-cased) and format-checked. */
  readonly email: string;
  /** Keys that were present: a value, or `null` when sent as explicit null. Absent = omitted. */
  readonly values: ReadonlyMap<string, ColumnValue | null>;
}

export type ParseResult = { ok: true; contact: ContactInput } | { ok: false; error: string };

/** gjson's `Type.String()`, used in Notifuse's type errors ("expected string, got Number"). */
function gjsonType(value: unknown): string {
  if (value === null) {
    return 'Null';
  }
  if (value === true) {
    return 'True';
  }
  if (value === false) {
    return 'False';
  }
  if (typeof value === 'number') {
    return 'Number';
  }
  if (typeof value === 'string') {
    return 'String';
  }
  return 'JSON';
}

/** gjson's `Result.String()`: strings as is, null/missing → "", anything else its JSON text. */
function gjsonString(value: unknown): string {
  if (value === undefined || value === null) {
    return '';
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** gjson `Get(key)` on the contact: only an object has keys. */
function getKey(input: unknown, key: string): unknown {
  return isPlainObject(input) && Object.hasOwn(input, key) ? input[key] : undefined;
}

/**
 * `domain.FromJSON`: email first (normalised, then `govalidator.IsEmail`), then each field in
 * column order; the first problem is the error. Unknown keys (created_at, updated_at,
 * lifetime_value, contact_lists, …) are ignored. Strings are trimmed of Unicode spaces;
 * datetimes are not trimmed.
 */
export function parseContact(input: unknown): ParseResult {
  const email = normalizeEmail(gjsonString(getKey(input, 'email')));
  if (email === '') {
    return { ok: false, error: 'email is required' };
  }
  if (!isEmail(email)) {
    return { ok: false, error: 'invalid email format' };
  }
  const values = new Map<string, ColumnValue | null>();
  for (const field of CONTACT_FIELDS) {
    const raw = getKey(input, field.name);
    if (raw === undefined) {
      continue;
    }
    if (raw === null) {
      values.set(field.name, null);
      continue;
    }
    const parsed = parseField(field, raw);
    if ('error' in parsed) {
      return { ok: false, error: parsed.error };
    }
    values.set(field.name, parsed.value);
  }
  return { ok: true, contact: { email, values } };
}

function parseField(field: FieldSpec, raw: unknown): { value: ColumnValue } | { error: string } {
  const wrongType = (expected: string) => ({
    error: `invalid type for ${field.name}: expected ${expected}, got ${gjsonType(raw)}`,
  });
  switch (field.kind) {
    case 'string':
      return typeof raw === 'string' ? { value: trimUnicodeSpace(raw) } : wrongType('string');
    case 'number':
      return typeof raw === 'number' ? { value: raw } : wrongType('number');
    case 'datetime': {
      if (typeof raw !== 'string') {
        return wrongType('string');
      }
      const parsed = parseRfc3339(raw);
      return parsed.ok
        ? { value: parsed.micros }
        : { error: `invalid time format for ${field.name}: ${parsed.error}` };
    }
    default:
      return typeof raw === 'object' && raw !== null
        ? { value: structuredClone(raw) }
        : { error: `invalid JSON value for ${field.name}, got ${gjsonType(raw)}` };
  }
}

/**
 * What PostgreSQL (through lib/pq, whose errors read `pq: <message>`) refuses when the row is
 * written, checked in column order like the server does: over-long VARCHARs, NUL characters in
 * text, `\u0000` in JSONB, and non-finite numbers (JSON `1e400`) for DECIMAL.
 * Returns the driver error text, or undefined.
 */
export function columnError(contact: ContactInput): string | undefined {
  const emailError = textError(contact.email, EMAIL_MAX_LENGTH);
  if (emailError !== undefined) {
    return emailError;
  }
  for (const field of CONTACT_FIELDS) {
    const value = contact.values.get(field.name);
    if (value === undefined || value === null) {
      continue;
    }
    const error = valueError(field, value);
    if (error !== undefined) {
      return error;
    }
  }
  return undefined;
}

function valueError(field: FieldSpec, value: ColumnValue): string | undefined {
  switch (field.kind) {
    case 'string':
      return typeof value === 'string' ? textError(value, field.maxLength) : undefined;
    case 'number':
      return typeof value === 'number' && !Number.isFinite(value)
        ? `pq: invalid input syntax for type numeric: "${value > 0 ? '+Inf' : '-Inf'}"`
        : undefined;
    case 'json':
      return JSON.stringify(value).includes('\\u0000')
        ? 'pq: unsupported Unicode escape sequence'
        : undefined;
    default:
      return undefined;
  }
}

function textError(value: string, maxLength: number | undefined): string | undefined {
  if (value.includes('\u0000')) {
    return 'pq: invalid byte sequence for encoding "UTF8": 0x00';
  }
  // VARCHAR(n) counts characters (code points), not bytes or UTF-16 units.
  if (maxLength !== undefined && [...value].length > maxLength) {
    return `pq: value too long for type character varying(${maxLength})`;
  }
  return undefined;
}

export type ContactListStatus = 'active' | 'pending' | 'unsubscribed' | 'bounced' | 'complained';

/** A row of `contact_lists` joined with its list, as the API returns it (spec `ContactList`). */
export interface ContactListEntry {
  email: string;
  list_id: string;
  list_name: string;
  status: ContactListStatus;
  created_at: string;
  updated_at: string;
}

/** A stored row. NULL columns are absent from `values`. */
export interface StoredContact {
  readonly email: string;
  readonly values: Map<string, ColumnValue>;
  createdAt: Micros;
  updatedAt: Micros;
}

/** The JSON shape of `domain.Contact` (spec `Contact`). */
export type NotifuseContact = { email: string } & Record<string, unknown>;

/**
 * `domain.Contact` as Go encodes it: NULL columns omitted (pointer + omitempty), datetimes in
 * RFC 3339 (UTC), JSON columns re-encoded from Go maps (keys sorted), `contact_lists` and
 * `contact_segments` always present (`null` when the query did not join them).
 */
export function toWireContact(
  row: StoredContact,
  contactLists: ContactListEntry[] | null,
  contactSegments: unknown[] | null,
): NotifuseContact {
  const out: NotifuseContact = { email: row.email };
  for (const field of CONTACT_FIELDS) {
    const value = row.values.get(field.name);
    if (value === undefined) {
      continue;
    }
    if (field.kind === 'datetime' && typeof value === 'bigint') {
      out[field.name] = formatTimestamp(value);
    } else if (field.kind === 'json') {
      out[field.name] = sortKeysDeep(value);
    } else {
      out[field.name] = value;
    }
  }
  return {
    ...out,
    created_at: formatTimestamp(row.createdAt),
    updated_at: formatTimestamp(row.updatedAt),
    contact_lists: contactLists,
    contact_segments: contactSegments,
  };
}
