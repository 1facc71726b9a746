/**
 * The Contact resource of DO-1/DO-2 (seeds 000 and 001; the unnamed row between `name_suffix` and
 * `phone_home` is `email`) and the validation of a contact in a write body.
 */
import countries from 'i18n-iso-countries';
import { isPossiblePhoneNumber } from 'libphonenumber-js';
import {
  DO_CONSENT_FIELDS,
  DO_READ_ONLY_FIELDS,
  DO_STRING_FIELDS,
  DO_WRITABLE_FIELDS,
  type DoConsentField,
  type DoStringField,
} from '../../providers/digital-onboarding/wire.js';
import { OVERRIDE_FLAGS, type Validator } from './access.js';
import type { DoError } from './errors.js';
import { doError } from './errors.js';

/** The columns of the field table, as the gateway's adapter reads them (one list of the facts). */
export const STRING_FIELDS = DO_STRING_FIELDS;
export type StringField = DoStringField;
/** The consent flags; `*` (required) in the table, so always present, default `false`. */
export const BOOLEAN_FIELDS = DO_CONSENT_FIELDS;
export type BooleanField = DoConsentField;
export const WRITABLE_FIELDS: readonly string[] = DO_WRITABLE_FIELDS;

/**
 * Server-managed columns. DO-1/DO-2 reuse the resource schema for the request and mark most of
 * these required, which a client cannot honour (§1.2/§1.8 q4). Sandbox decision: they are accepted
 * and ignored, so a contact read from the API can be sent back as is. Two are checked because a
 * wrong value means a wrong request: `type` must be `contact` (enum(1)) → 422, and `team_id` must be
 * the token's team → 403 `resource_forbidden` (the "resource-level" kind of DO-1's 403).
 */
export const READ_ONLY_FIELDS: readonly string[] = DO_READ_ONLY_FIELDS;

export type JsonObject = { [key: string]: unknown };

/** A Contact as the API returns it (the 201/200 schema of DO-1/DO-2, in its field order). */
export type DigitalOnboardingContact = {
  id: string;
  type: 'contact';
  team_id: string;
} & { [K in StringField]: string | null } & { [K in BooleanField]: boolean } & {
  meta_public: JsonObject;
  inserted_at: string;
  updated_at: string;
  last_seen_at: string | null;
  active_journey_ids: string[];
  completed_objective_keys: string[];
};

/**
 * A validated write. Omitted keys leave the stored value alone; `null` clears a string column.
 * `meta_public` is a JSON merge patch (RFC 7396) over the stored object; `null` empties it.
 */
export type ContactPatch = { [K in StringField]?: string | null } & {
  [K in BooleanField]?: boolean;
} & { meta_public?: JsonObject | null };

/**
 * Length limits: the docs give none (sandbox decision). 255 for every string column (a common
 * varchar size, and the gateway's own limit); 254 for `email` (RFC 5321 path limit); 16 KiB for
 * `meta_public` serialised as JSON.
 */
export const MAX_STRING_LENGTH = 255;
export const MAX_EMAIL_LENGTH = 254;
export const MAX_META_PUBLIC_BYTES = 16 * 1024;

const ATOM = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+";
const EMAIL = new RegExp(
  `^${ATOM}(?:\\.${ATOM})*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z]{2,63}$`,
);
const E164 = /^\+[1-9]\d{1,14}$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
/** `+05:00`, `-0500`, `UTC+5`, `GMT-03:00`, `Z` … (newer ICU versions accept some of these). */
const OFFSET_ZONE = /^(?:(?:UTC|GMT)\s*)?[+\-−]\s*\d|^Z$/i;
const ALPHA2 = new Set(Object.keys(countries.getAlpha2Codes()));

export interface ValidateOptions {
  /** Prepended to field names in errors: `''` for a single body, `items[3].` in a bulk one. */
  prefix: string;
  /** Validators switched off by `X-Operator-Override: bypass_validation=…`. */
  bypass: ReadonlySet<Validator>;
  teamId: string;
}

export type ValidateResult =
  | { ok: true; patch: ContactPatch }
  | { ok: false; status: 403 | 422; errors: DoError[] };

export function isPlainObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function fieldError(code: string, title: string, field: string, detail: string): DoError {
  return doError(code, title, `${field} ${detail}`, { field });
}

/**
 * Checks one contact of a write body. Every problem is reported (one error per field), all with
 * status 422 "schema validation failed" (the template's 422; 400 is kept for a request that is
 * not a contact at all: bad JSON, bad headers, bad query). Unknown members are refused (422
 * `unknown_field`) so a misspelt column (`first_name`) is not silently lost; the docs do not say
 * what the API does with them (sandbox decision).
 */
export function validateContact(raw: unknown, opts: ValidateOptions): ValidateResult {
  const { prefix } = opts;
  if (!isPlainObject(raw)) {
    const field = prefix === '' ? 'body' : prefix.slice(0, -1);
    return {
      ok: false,
      status: 422,
      errors: [fieldError('invalid_type', 'Invalid type', field, 'must be a contact object')],
    };
  }
  const teamId = raw['team_id'];
  if (teamId !== undefined && teamId !== opts.teamId) {
    return {
      ok: false,
      status: 403,
      errors: [
        doError(
          'resource_forbidden',
          'Forbidden',
          `${prefix}team_id ${JSON.stringify(teamId)} is not the team of this token`,
          { field: `${prefix}team_id` },
        ),
      ],
    };
  }

  const errors: DoError[] = [];
  const patch: ContactPatch = {};
  for (const key of Object.keys(raw)) {
    const value = raw[key];
    const field = `${prefix}${key}`;
    if ((STRING_FIELDS as readonly string[]).includes(key)) {
      const checked = checkString(key as StringField, field, value, opts.bypass);
      if (typeof checked === 'object' && checked !== null) {
        errors.push(checked);
      } else {
        patch[key as StringField] = checked;
      }
    } else if ((BOOLEAN_FIELDS as readonly string[]).includes(key)) {
      if (typeof value === 'boolean') {
        patch[key as BooleanField] = value;
      } else {
        errors.push(fieldError('invalid_type', 'Invalid type', field, 'must be true or false'));
      }
    } else if (key === 'meta_public') {
      if (value === null) {
        patch.meta_public = null;
      } else if (!isPlainObject(value)) {
        errors.push(fieldError('invalid_type', 'Invalid type', field, 'must be an object'));
      } else if (Buffer.byteLength(JSON.stringify(value)) > MAX_META_PUBLIC_BYTES) {
        errors.push(
          fieldError(
            'too_long',
            'Too long',
            field,
            `must be at most ${MAX_META_PUBLIC_BYTES} bytes of JSON`,
          ),
        );
      } else {
        patch.meta_public = value;
      }
    } else if (key === 'type') {
      if (value !== 'contact') {
        errors.push(fieldError('invalid_value', 'Invalid value', field, 'must be "contact"'));
      }
    } else if (!READ_ONLY_FIELDS.includes(key)) {
      const flag = (OVERRIDE_FLAGS as readonly string[]).includes(key);
      errors.push(
        fieldError(
          'unknown_field',
          'Unknown field',
          field,
          flag
            ? 'is not a field of a contact: override flags go in the X-Operator-Override header (DO-1)'
            : 'is not a field of a contact',
        ),
      );
    }
  }
  return errors.length > 0 ? { ok: false, status: 422, errors } : { ok: true, patch };
}

/** A checked string column: the value to store, or an error. */
function checkString(
  key: StringField,
  field: string,
  value: unknown,
  bypass: ReadonlySet<Validator>,
): string | null | DoError {
  if (value === null) {
    return null;
  }
  if (typeof value !== 'string') {
    return fieldError('invalid_type', 'Invalid type', field, 'must be a string or null');
  }
  const max = key === 'email' ? MAX_EMAIL_LENGTH : MAX_STRING_LENGTH;
  if (value.length > max) {
    return fieldError('too_long', 'Too long', field, `must be at most ${max} characters`);
  }
  const invalid = (detail: string) => fieldError('invalid_format', 'Invalid format', field, detail);
  switch (key) {
    // Identity columns: an empty string could never be matched again; null clears instead.
    case 'unique_id':
      return value.trim() === '' ? invalid('must not be empty; send null to clear it') : value;
    case 'email':
      if (value.trim() === '') {
        return invalid('must not be empty; send null to clear it');
      }
      return bypass.has('email_format') || EMAIL.test(value)
        ? value
        : invalid('must be a valid email address (bypass with bypass_validation=email_format)');
    // Phone format: not stated (§1.1). Sandbox decision: E.164 (`+` country code number, no
    // spaces) that libphonenumber says is a possible number, as the gateway itself sends them.
    case 'phone_home':
    case 'phone_mobile':
    case 'phone_work':
      return bypass.has('phone_format') || (E164.test(value) && isPossiblePhoneNumber(value))
        ? value
        : invalid(
            'must be an E.164 phone number such as +13125550123 (bypass with bypass_validation=phone_format)',
          );
    // Country: "code vs name unknown" (§1.1). Sandbox decision: ISO 3166-1 alpha-2, any case,
    // stored upper-case.
    case 'country': {
      const upper = value.toUpperCase();
      return /^[A-Z]{2}$/.test(upper) && ALPHA2.has(upper)
        ? upper
        : invalid('must be an ISO 3166-1 alpha-2 country code such as US');
    }
    case 'birthdate':
      return isCalendarDate(value) ? value : invalid("must be an ISO 8601 date 'YYYY-MM-DD'");
    case 'timezone':
      return isIanaZone(value)
        ? value
        : invalid(
            'must be an IANA timezone identifier (e.g. America/Chicago); UTC offsets are rejected',
          );
    default:
      return value;
  }
}

/** `YYYY-MM-DD` naming a real day (DO-1: "ISO 8601 date"; no range is documented, none checked). */
function isCalendarDate(value: string): boolean {
  const m = ISO_DATE.exec(value);
  if (!m) {
    return false;
  }
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

/**
 * DO-1: "IANA timezone identifier (e.g. America/Chicago). UTC offsets rejected." Any name ICU
 * knows (links such as `US/Eastern` and `Etc/GMT+5` included: they are IANA identifiers) is
 * accepted and stored as sent; offset notations are refused whatever ICU thinks of them.
 */
function isIanaZone(value: string): boolean {
  if (value === '' || OFFSET_ZONE.test(value.trim())) {
    return false;
  }
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

function setOwn(target: JsonObject, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/** RFC 7396 JSON merge patch (own-property safe, so `__proto__` keys stay plain data). */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) {
    return patch;
  }
  const out: JsonObject = {};
  if (isPlainObject(target)) {
    for (const [k, v] of Object.entries(target)) {
      setOwn(out, k, v);
    }
  }
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) {
      delete out[k];
    } else {
      setOwn(out, k, mergePatch(out[k], v));
    }
  }
  return out;
}

/** A new contact: unset strings are null, consent flags false, `meta_public` `{}` (decision). */
export function newContact(
  id: string,
  teamId: string,
  at: string,
  patch: ContactPatch,
): DigitalOnboardingContact {
  const contact = { id, type: 'contact', team_id: teamId } as DigitalOnboardingContact;
  for (const key of STRING_FIELDS) {
    contact[key] = null;
  }
  for (const key of BOOLEAN_FIELDS) {
    contact[key] = false;
  }
  contact.meta_public = {};
  contact.inserted_at = at;
  contact.updated_at = at;
  contact.last_seen_at = null;
  contact.active_journey_ids = [];
  contact.completed_objective_keys = [];
  return applyPatch(contact, patch, at);
}

/** The contact with `patch` applied and `updated_at` set; the input is not modified. */
export function applyPatch(
  contact: DigitalOnboardingContact,
  patch: ContactPatch,
  at: string,
): DigitalOnboardingContact {
  const next: DigitalOnboardingContact = structuredClone(contact);
  for (const key of STRING_FIELDS) {
    const value = patch[key];
    if (value !== undefined) {
      next[key] = value;
    }
  }
  for (const key of BOOLEAN_FIELDS) {
    const value = patch[key];
    if (value !== undefined) {
      next[key] = value;
    }
  }
  if (patch.meta_public === null) {
    next.meta_public = {};
  } else if (patch.meta_public !== undefined) {
    next.meta_public = mergePatch(next.meta_public, patch.meta_public) as JsonObject;
  }
  next.updated_at = at;
  return next;
}
