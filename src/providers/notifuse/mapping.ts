import { type ContactPatch, flattenPatch, type JsonObject } from '../../model/contact.js';
import { skippedMissing, type WritePlan } from '../../model/outcome.js';

import type { NotifuseWireContact, NotifuseWireValue } from './wire.js';

/** Unified leaf → Notifuse column. Everything not listed here is dropped (and reported). */
export const NOTIFUSE_FIELD_MAP: Readonly<Record<string, string>> = {
  email: 'email',
  externalId: 'external_id',
  phone: 'phone',
  firstName: 'first_name',
  lastName: 'last_name',
  jobTitle: 'job_title',
  'address.line1': 'address_line_1',
  'address.line2': 'address_line_2',
  'address.state': 'state',
  'address.postalCode': 'postcode',
  'address.country': 'country',
  timezone: 'timezone',
  language: 'language',
};

/** Column sizes in Notifuse's schema (VARCHAR(n)); longer values would fail a whole import chunk. */
export const NOTIFUSE_COLUMN_LIMITS: Readonly<Record<string, number>> = {
  email: 255,
  external_id: 255,
  timezone: 50,
  language: 50,
  first_name: 255,
  last_name: 255,
  phone: 50,
  address_line_1: 255,
  address_line_2: 255,
  country: 100,
  postcode: 20,
  state: 100,
  job_title: 255,
};

const CUSTOM_COLUMN = /^custom_(string|number|datetime|json)_([1-5])$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
export const NOTIFUSE_CUSTOM_COLUMNS: readonly string[] = [
  'string',
  'number',
  'datetime',
  'json',
].flatMap((kind) => [1, 2, 3, 4, 5].map((n) => `custom_${kind}_${n}`));

export const NOTIFUSE_ACCEPTED_FIELDS: readonly string[] = [
  ...Object.keys(NOTIFUSE_FIELD_MAP),
  'customFields',
];
/** Notifuse clears any column on `contacts.upsert` with null, but never the email (its key). */
export const NOTIFUSE_CLEARABLE_FIELDS: readonly string[] = NOTIFUSE_ACCEPTED_FIELDS.filter(
  (f) => f !== 'email',
);

export interface MappingInput {
  patch: ContactPatch;
  known: ContactPatch;
  remoteId: string | null;
}

/** A Notifuse write ready to send: the contact and whether it clears a field (the import cannot). */
export interface Plan {
  contact: NotifuseWireContact;
  droppedFields: string[];
  clears: boolean;
}

function reject(message: string, droppedFields: string[]): WritePlan<Plan> {
  return {
    ok: false,
    status: 'FAILED',
    error: { code: 'BAD_REQUEST', message, httpStatus: null, retryable: false, details: null },
    droppedFields,
  };
}

function customColumn(key: string, map: Readonly<Record<string, string>>): string | undefined {
  const mapped = map[key];
  if (mapped !== undefined) {
    return mapped;
  }
  return CUSTOM_COLUMN.test(key) ? key : undefined;
}

function checkCustomValue(column: string, value: unknown): string | null {
  if (value === null) {
    return null;
  }
  const kind = CUSTOM_COLUMN.exec(column)?.[1];
  switch (kind) {
    case 'string':
      if (typeof value !== 'string') {
        return 'must be a string';
      }
      return value.length > 255 ? 'must be at most 255 characters' : null;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? null : 'must be a number';
    case 'datetime':
      return typeof value === 'string' && RFC3339.test(value) && !Number.isNaN(Date.parse(value))
        ? null
        : 'must be an RFC 3339 date-time such as 2024-05-01T09:00:00Z';
    case 'json':
      return typeof value === 'object' ? null : 'must be a JSON object or array';
    default:
      return 'is not a Notifuse column';
  }
}

/**
 * Unified patch → Notifuse `ContactInput`. Only the keys the patch carries are sent (omitted stays
 * omitted), null clears. Notifuse identifies a contact by email: a linked contact keeps the email
 * it is stored under (`remoteId`); a new one needs an email from the patch or the identity map.
 */
export function toWireContact(
  input: MappingInput,
  customFieldMap: Readonly<Record<string, string>> = {},
): WritePlan<Plan> {
  const { patch, known, remoteId } = input;
  const dropped: string[] = [];
  const wire: Record<string, NotifuseWireValue> = {};

  if (patch.email === null) {
    dropped.push('email');
  }
  const patchEmail = typeof patch.email === 'string' ? patch.email : undefined;
  const knownEmail = typeof known.email === 'string' ? known.email : undefined;
  if (remoteId !== null && patchEmail !== undefined && patchEmail !== remoteId) {
    // Notifuse's upsert key is the email: a different one would create a second contact.
    dropped.push('email');
  }
  const email = remoteId ?? patchEmail ?? knownEmail;

  for (const [path, value] of flattenPatch(patch)) {
    if (path === 'email') {
      continue;
    }
    const column = NOTIFUSE_FIELD_MAP[path];
    if (column !== undefined) {
      const limit = NOTIFUSE_COLUMN_LIMITS[column];
      if (typeof value === 'string' && limit !== undefined && value.length > limit) {
        return reject(`${path} is longer than Notifuse's ${limit} characters (${column})`, dropped);
      }
      wire[column] = value as string | null;
      continue;
    }
    if (path === 'customFields') {
      // customFields: null clears the custom columns the gateway manages.
      const managed = Object.values(customFieldMap);
      for (const col of managed.length > 0 ? managed : NOTIFUSE_CUSTOM_COLUMNS) {
        wire[col] = null;
      }
      continue;
    }
    if (path.startsWith('customFields.')) {
      const key = path.slice('customFields.'.length);
      const col = customColumn(key, customFieldMap);
      if (col === undefined) {
        dropped.push(path);
        continue;
      }
      const problem = checkCustomValue(col, value);
      if (problem !== null) {
        return reject(`${path} ${problem} for Notifuse column ${col}`, dropped);
      }
      wire[col] = value as NotifuseWireValue;
      continue;
    }
    dropped.push(path);
  }

  if (email === undefined) {
    return skippedMissing(
      'Notifuse identifies contacts by email and this contact has none',
      dropped,
    );
  }
  const clears = Object.values(wire).some((v) => v === null);
  return { ok: true, contact: { email, ...wire }, droppedFields: dropped, clears };
}

export interface FromWireResult {
  remoteId: string;
  contact: ContactPatch;
  createdAt: string | null;
  updatedAt: string | null;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

/**
 * Notifuse `Contact` → unified view. Lenient: NULL columns are omitted by the server, unknown keys
 * (contact_lists, full_name, dropped columns of old versions) are ignored.
 */
export function fromWireContact(
  wire: Record<string, unknown>,
  customFieldMap: Readonly<Record<string, string>> = {},
): FromWireResult {
  const contact: Record<string, unknown> = {};
  const address: Record<string, string> = {};
  for (const [path, column] of Object.entries(NOTIFUSE_FIELD_MAP)) {
    const value = str(wire[column]);
    if (value === undefined) {
      continue;
    }
    if (path.startsWith('address.')) {
      address[path.slice('address.'.length)] = value;
    } else {
      contact[path] = path === 'email' ? value.toLowerCase() : value;
    }
  }
  if (Object.keys(address).length > 0) {
    contact['address'] = address;
  }
  const reverse = new Map(Object.entries(customFieldMap).map(([k, col]) => [col, k]));
  const custom: JsonObject = {};
  for (const column of NOTIFUSE_CUSTOM_COLUMNS) {
    const value = wire[column];
    if (value !== undefined && value !== null) {
      custom[reverse.get(column) ?? column] = value;
    }
  }
  if (Object.keys(custom).length > 0) {
    contact['customFields'] = custom;
  }
  return {
    remoteId: String(contact['email'] ?? ''),
    contact: contact as ContactPatch,
    createdAt: str(wire['created_at']) ?? null,
    updatedAt: str(wire['updated_at']) ?? null,
  };
}
