import countries from 'i18n-iso-countries';
import { isPossiblePhoneNumber } from 'libphonenumber-js';
import { z } from 'zod';
import {
  type Address,
  type Consent,
  type ContactPatch,
  type JsonObject,
  normaliseEmail,
  type ProviderOptions,
} from '../model/contact.js';
import type { GatewayErrorCode, InputErrorInfo } from '../model/errors.js';
import { isPlainObject, type OptionChecks } from '../providers/options.js';
import { PROVIDERS } from '../providers/registry.js';

export { normaliseEmail };

/** What the GraphQL layer hands over: a ContactInput as parsed by graphql-js (absent keys stay absent). */
export interface RawContactInput {
  [key: string]: unknown;
}

export interface ValidatedInput {
  patch: ContactPatch;
  options: ProviderOptions;
}

export type ValidationResult =
  | { ok: true; value: ValidatedInput }
  | { ok: false; errors: InputErrorInfo[] };

/** Longest string the gateway forwards (the common column size of the providers). */
export const MAX_STRING_LENGTH = 255;

/**
 * Bounds on every JSON value of a contact input (`customFields`), checked before any provider is
 * called (`GATEWAY_MAX_JSON_*`). Depth counts the value itself as 1 (`{"a": {"b": 1}}` is 2).
 */
export interface JsonLimits {
  /** @default 5 */
  maxDepth: number;
  /** UTF-8 bytes of the JSON text of all of one contact's JSON values. @default 16384 */
  maxBytes: number;
  /** Object keys, counted at every level. @default 100 */
  maxKeys: number;
  /** Characters of one string (value or key). @default 2048 */
  maxStringLength: number;
}

export const DEFAULT_JSON_LIMITS: JsonLimits = Object.freeze({
  maxDepth: 5,
  maxBytes: 16_384,
  maxKeys: 100,
  maxStringLength: 2048,
});

/**
 * The first way `value` breaks `limits`, as an error message about `path`, or null. Walks with an
 * explicit stack (never recursion), so a value nested thousands deep cannot overflow the call
 * stack, and stops at the first problem, so a huge value costs no more than the limits allow.
 */
export function jsonLimitProblem(path: string, value: unknown, limits: JsonLimits): string | null {
  const stack: Array<{ v: unknown; depth: number; at: string }> = [
    { v: value, depth: 1, at: path },
  ];
  let keys = 0;
  while (stack.length > 0) {
    const { v, depth, at } = stack.pop()!;
    if (typeof v === 'string') {
      if (v.length > limits.maxStringLength) {
        return `${at} is a string of ${v.length} characters; at most ${limits.maxStringLength} are accepted (GATEWAY_MAX_JSON_STRING_LENGTH)`;
      }
      continue;
    }
    if (typeof v !== 'object' || v === null) {
      continue;
    }
    if (depth > limits.maxDepth) {
      return `${path} nests deeper than ${limits.maxDepth} levels (GATEWAY_MAX_JSON_DEPTH) at ${at}`;
    }
    const entries: Array<[string, unknown]> = Array.isArray(v)
      ? v.map((item, i) => [String(i), item])
      : Object.entries(v);
    if (!Array.isArray(v)) {
      keys += entries.length;
      if (keys > limits.maxKeys) {
        return `${path} has more than ${limits.maxKeys} keys in all (GATEWAY_MAX_JSON_KEYS)`;
      }
      for (const [key] of entries) {
        if (key.length > limits.maxStringLength) {
          return `${at} has a key of ${key.length} characters; at most ${limits.maxStringLength} are accepted (GATEWAY_MAX_JSON_STRING_LENGTH)`;
        }
      }
    }
    for (const [key, item] of entries) {
      stack.push({ v: item, depth: depth + 1, at: `${at}.${key}` });
    }
  }
  // Depth, keys and string lengths are bounded now, so the JSON text is cheap to build.
  const bytes = Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
  if (bytes > limits.maxBytes) {
    return `${path} is ${bytes} bytes of JSON; at most ${limits.maxBytes} are accepted per contact (GATEWAY_MAX_JSON_BYTES)`;
  }
  return null;
}

const ALPHA2 = new Set(Object.keys(countries.getAlpha2Codes()));
/** What `z.email()` checks a string with (its whole check), tested directly: no parse result. */
const EMAIL = z.regexes.email;
const E164 = /^\+[1-9]\d{1,14}$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
/** A UTC offset (`+01:00`, `UTC-5`, `GMT −3`): plus sign, hyphen-minus or minus sign (U+2212). */
const OFFSET_ZONE = /^(?:(?:UTC|GMT|Z)\s*)?[-+\u2212]\s*\d/i;

const TEXT_FIELDS = [
  'externalId',
  'firstName',
  'lastName',
  'namePrefix',
  'nameSuffix',
  'jobTitle',
] as const;
const PHONE_FIELDS = ['phone', 'homePhone', 'workPhone'] as const;
const ADDRESS_TEXT = ['line1', 'line2', 'city', 'state', 'postalCode', 'county'] as const;

class Collector {
  readonly errors: InputErrorInfo[] = [];
  add(field: string, code: GatewayErrorCode, message: string): undefined {
    this.errors.push({ field, code, message });
    return undefined;
  }
}

function text(c: Collector, path: string, value: unknown): string | null | undefined {
  if (value === undefined || value === null) {
    return value;
  }
  if (typeof value !== 'string') {
    return c.add(path, 'INVALID_VALUE', `${path} must be a string`);
  }
  const trimmed = value.trim();
  if (trimmed === '') {
    return c.add(path, 'INVALID_VALUE', `${path} must not be empty; send null to clear it`);
  }
  if (trimmed.includes('\u0000')) {
    // No provider stores it, and PostgreSQL (our state) refuses it in text and JSON.
    return c.add(path, 'INVALID_VALUE', `${path} must not contain a NUL character (U+0000)`);
  }
  if (trimmed.length > MAX_STRING_LENGTH) {
    return c.add(
      path,
      'INVALID_VALUE',
      `${path} must be at most ${MAX_STRING_LENGTH} characters (got ${trimmed.length})`,
    );
  }
  return trimmed;
}

function email(c: Collector, path: string, value: unknown): string | null | undefined {
  const s = text(c, path, value);
  if (typeof s !== 'string') {
    return s;
  }
  const normalised = normaliseEmail(s);
  if (!EMAIL.test(normalised)) {
    return c.add(path, 'INVALID_EMAIL', `${path} is not a valid email address`);
  }
  return normalised;
}

function phone(c: Collector, path: string, value: unknown): string | null | undefined {
  const s = text(c, path, value);
  if (typeof s !== 'string') {
    return s;
  }
  if (!E164.test(s) || !isPossiblePhoneNumber(s)) {
    return c.add(
      path,
      'INVALID_PHONE',
      `${path} must be an E.164 phone number such as +14155550123 (a + then country code and number, no spaces)`,
    );
  }
  return s;
}

function timezone(c: Collector, path: string, value: unknown): string | null | undefined {
  const s = text(c, path, value);
  if (typeof s !== 'string') {
    return s;
  }
  if (OFFSET_ZONE.test(s)) {
    return c.add(
      path,
      'INVALID_TIMEZONE',
      `${path} must be an IANA time zone name such as Europe/Paris; UTC offsets are not accepted`,
    );
  }
  try {
    return ianaName(s);
  } catch {
    return c.add(
      path,
      'INVALID_TIMEZONE',
      `${path} is not a known IANA time zone (e.g. America/New_York)`,
    );
  }
}

/**
 * The IANA name the caller gave, once ICU knows it (throws when it does not). ICU answers its
 * canonical ids, which are the legacy links (`Asia/Kolkata` → `Asia/Calcutta`, `Europe/Kyiv` →
 * `Europe/Kiev`), so its answer is used only to fix the case of the same name
 * (`america/new_york` → `America/New_York`); a different name is kept as sent.
 */
function ianaName(s: string): string {
  const resolved = new Intl.DateTimeFormat('en-US', { timeZone: s }).resolvedOptions().timeZone;
  return resolved.toLowerCase() === s.toLowerCase() ? resolved : s;
}

function isoDate(c: Collector, path: string, value: unknown): string | null | undefined {
  const s = text(c, path, value);
  if (typeof s !== 'string') {
    return s;
  }
  const m = ISO_DATE.exec(s);
  const bad = () => c.add(path, 'INVALID_DATE', `${path} must be an ISO 8601 date YYYY-MM-DD`);
  if (!m) {
    return bad();
  }
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) {
    return bad();
  }
  if (y < 1900 || date.getTime() > Date.now()) {
    return c.add(path, 'INVALID_DATE', `${path} must be a date between 1900-01-01 and today`);
  }
  return s;
}

function country(c: Collector, path: string, value: unknown): string | null | undefined {
  const s = text(c, path, value);
  if (typeof s !== 'string') {
    return s;
  }
  const upper = s.toUpperCase();
  if (!ALPHA2.has(upper)) {
    return c.add(
      path,
      'INVALID_COUNTRY',
      `${path} must be an ISO 3166-1 alpha-2 country code such as US or GB`,
    );
  }
  return upper;
}

function language(c: Collector, path: string, value: unknown): string | null | undefined {
  const s = text(c, path, value);
  if (typeof s !== 'string') {
    return s;
  }
  try {
    const [canonical] = Intl.getCanonicalLocales(s);
    return canonical ?? c.add(path, 'INVALID_LANGUAGE', `${path} is not a BCP 47 language tag`);
  } catch {
    return c.add(path, 'INVALID_LANGUAGE', `${path} must be a BCP 47 language tag such as en-US`);
  }
}

function set<K extends string, V>(target: Partial<Record<K, V>>, key: K, value: V | undefined) {
  if (value !== undefined) {
    target[key] = value;
  }
}

/** A nested input object (absent and null kept as they are), its members read by `read`. */
function nested<T>(
  c: Collector,
  path: string,
  value: unknown,
  read: (value: Record<string, unknown>) => T,
): T | null | undefined {
  if (value === undefined || value === null) {
    return value;
  }
  if (!isPlainObject(value)) {
    return c.add(path, 'INVALID_VALUE', `${path} must be an object`);
  }
  return read(value);
}

function address(c: Collector, path: string, value: unknown): Address | null | undefined {
  return nested(c, path, value, (v) => {
    const out: Address = {};
    for (const key of ADDRESS_TEXT) {
      if (v[key] !== undefined) {
        set(out, key, text(c, `${path}.${key}`, v[key]));
      }
    }
    set(out, 'country', country(c, `${path}.country`, v['country']));
    return out;
  });
}

function consent(c: Collector, path: string, value: unknown): Consent | null | undefined {
  return nested(c, path, value, (v) => {
    // Enum and boolean leaves are typed by GraphQL itself; copy what is present.
    const out: Consent = {};
    for (const key of ['status', 'optInType', 'verified', 'authorized'] as const) {
      if (v[key] !== undefined) {
        (out as Record<string, unknown>)[key] = v[key];
      }
    }
    return out;
  });
}

/**
 * A JSON object within GATEWAY_MAX_JSON_* (customFields and passThrough alike): true when `value`
 * is one; false when it is absent (null/undefined, nothing recorded) or refused (recorded in `c`).
 */
function boundedJsonObject(
  c: Collector,
  path: string,
  value: unknown,
  limits: JsonLimits,
): value is JsonObject {
  if (value === undefined || value === null) {
    return false;
  }
  if (!isPlainObject(value)) {
    c.add(path, 'INVALID_VALUE', `${path} must be a JSON object`);
    return false;
  }
  const problem = jsonLimitProblem(path, value, limits);
  if (problem !== null) {
    c.add(path, 'INVALID_VALUE', problem);
    return false;
  }
  return true;
}

/** A JSON object input within the JSON limits (null kept as it is), kept when `check` passes. */
function jsonObject(
  c: Collector,
  path: string,
  value: unknown,
  limits: JsonLimits,
  check: (value: JsonObject) => boolean,
): JsonObject | null | undefined {
  if (!boundedJsonObject(c, path, value, limits)) {
    return value === null ? null : undefined;
  }
  return check(value) ? value : undefined;
}

function customFields(
  c: Collector,
  path: string,
  value: unknown,
  limits: JsonLimits,
): JsonObject | null | undefined {
  return jsonObject(c, path, value, limits, (fields) => {
    for (const key of Object.keys(fields)) {
      if (!/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/.test(key)) {
        c.add(
          `${path}.${key}`,
          'INVALID_VALUE',
          `${path} keys must start with a letter and use letters, digits, _ . - (at most 64)`,
        );
      } else {
        refuseNul(c, `${path}.${key}`, fields[key]);
      }
    }
    return true;
  });
}

/**
 * `providerOptions.<provider>.passThrough`: a JSON object within the JSON limits of customFields
 * (GATEWAY_MAX_JSON_*), without NUL characters. What it may add is checked where it is merged
 * into the provider's wire body (`src/providers/pass-through.ts`).
 */
function passThrough(
  c: Collector,
  path: string,
  value: unknown,
  limits: JsonLimits,
): JsonObject | null | undefined {
  return jsonObject(c, path, value, limits, (extra) => refuseNul(c, path, extra));
}

/** Refuses a JSON value holding a NUL character anywhere (PostgreSQL's jsonb cannot store one). */
function refuseNul(c: Collector, path: string, value: unknown): boolean {
  if (JSON.stringify(value).includes('\\u0000')) {
    c.add(path, 'INVALID_VALUE', `${path} must not contain a NUL character (U+0000)`);
    return false;
  }
  return true;
}

/**
 * `providerOptions`: each provider's part checks its own fields (`src/providers/<name>/options.ts`,
 * through its descriptor), then every part's `passThrough` is checked alike.
 */
function providerOptions(
  c: Collector,
  path: string,
  value: unknown,
  limits: JsonLimits,
): ProviderOptions {
  if (!isPlainObject(value)) {
    return {};
  }
  const out: Record<string, object> = {};
  const checks: OptionChecks = {
    add: (at, code, message) => c.add(at, code, message),
    text: (at, v) => text(c, at, v),
  };
  for (const { key, providerOptions: part } of PROVIDERS) {
    const group = value[key];
    const own = isPlainObject(group) ? part.validate?.(group, `${path}.${key}`, checks) : undefined;
    if (own !== undefined) {
      out[key] = own;
    }
  }
  for (const { key } of PROVIDERS) {
    const group = value[key];
    const extra = isPlainObject(group)
      ? passThrough(c, `${path}.${key}.passThrough`, group['passThrough'], limits)
      : undefined;
    if (extra !== undefined) {
      out[key] = { ...out[key], passThrough: extra };
    }
  }
  return out as ProviderOptions;
}

/**
 * Validates and normalises one ContactInput before any provider is called. `path` is the argument
 * name as the client sees it (`input`, `inputs.3`, `patch`), so each error names its field exactly.
 * Normalisation: strings trimmed, emails lower-cased, countries upper-cased, languages and time
 * zones canonicalised.
 */
export function validateContactInput(
  raw: RawContactInput,
  path: string,
  opts: { requireIdentity: boolean; jsonLimits?: JsonLimits },
): ValidationResult {
  const c = new Collector();
  const patch: ContactPatch = {};
  // An absent field is left out before its path is even named (most inputs carry a few fields).
  for (const key of TEXT_FIELDS) {
    if (raw[key] !== undefined) {
      set(patch, key, text(c, `${path}.${key}`, raw[key]));
    }
  }
  set(patch, 'email', email(c, `${path}.email`, raw['email']));
  for (const key of PHONE_FIELDS) {
    if (raw[key] !== undefined) {
      set(patch, key, phone(c, `${path}.${key}`, raw[key]));
    }
  }
  set(patch, 'address', address(c, `${path}.address`, raw['address']));
  set(patch, 'birthdate', isoDate(c, `${path}.birthdate`, raw['birthdate']));
  set(patch, 'timezone', timezone(c, `${path}.timezone`, raw['timezone']));
  set(patch, 'language', language(c, `${path}.language`, raw['language']));
  if (raw['emailFormat'] !== undefined) {
    patch.emailFormat = raw['emailFormat'] as NonNullable<ContactPatch['emailFormat']> | null;
  }
  set(patch, 'emailConsent', consent(c, `${path}.emailConsent`, raw['emailConsent']));
  set(patch, 'smsConsent', consent(c, `${path}.smsConsent`, raw['smsConsent']));
  set(
    patch,
    'customFields',
    customFields(
      c,
      `${path}.customFields`,
      raw['customFields'],
      opts.jsonLimits ?? DEFAULT_JSON_LIMITS,
    ),
  );
  const options = providerOptions(
    c,
    `${path}.providerOptions`,
    raw['providerOptions'],
    opts.jsonLimits ?? DEFAULT_JSON_LIMITS,
  );

  if (
    opts.requireIdentity &&
    c.errors.length === 0 &&
    !patch.externalId &&
    !patch.email &&
    !patch.phone
  ) {
    c.add(
      path,
      'IDENTITY_REQUIRED',
      `${path} needs at least one of externalId, email or phone to identify the contact`,
    );
  }
  if (c.errors.length > 0) {
    return { ok: false, errors: c.errors };
  }
  return { ok: true, value: { patch, options } };
}

/**
 * Checks one read argument (`contact(email:)`, `contacts(ids:)`, `updateContact(id:)` …) by the
 * rules of write inputs: a string, not empty, no NUL, at most MAX_STRING_LENGTH characters; an
 * email must be a valid address. Returns the error naming `path`, or null. Without it a NUL
 * reached the store, which refused it: a 500-class error with a stack in the log.
 */
export function readArgumentError(
  path: string,
  value: unknown,
  kind: 'email' | 'text',
): InputErrorInfo | null {
  const c = new Collector();
  if (kind === 'email') {
    email(c, path, value);
  } else {
    text(c, path, value);
  }
  return c.errors[0] ?? null;
}
