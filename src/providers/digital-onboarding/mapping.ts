import countries from 'i18n-iso-countries';
import {
  CONTACT_FIELDS,
  type Consent,
  type ConsentStatus,
  type ContactPatch,
  flattenPatch,
  type JsonObject,
  type ProviderOptions,
} from '../../model/contact.js';
import type { WritePlan } from '../../model/outcome.js';

import type { DoConsentField, DoContactBody, DoStringField, DoWireContact } from './wire.js';

// ---------------------------------------------------------------------------------------------
// Provider options and override flags
// ---------------------------------------------------------------------------------------------

export type { DigitalOnboardingProviderOptions } from './options.js';

/** Flags a caller may pass through `providerOptions.digitalOnboarding.overrides`. */
export const DO_USER_OVERRIDE_FLAGS = ['force', 'bypass_validation', 'bulk'] as const;

/**
 * `bypass_validation` names: the only two the docs show (DO-OVR). No full list is published; a name
 * outside it is refused here (a typo would otherwise reach Digital Onboarding and fail there).
 */
export const DO_KNOWN_VALIDATORS: readonly string[] = ['email_format', 'phone_format'];

/** Why a flag the docs know is refused from callers. */
const REFUSED_FLAGS: Readonly<Record<string, string>> = {
  dry_run:
    'override flag "dry_run" is set by the gateway; use WriteOptions.dryRun (a dry_run write would be reported as written)',
  destructive:
    'override flag "destructive" has its own option: set providerOptions.digitalOnboarding.destructive: true',
};

const FLAG_NAME = /^[a-z][a-z0-9_]*$/;

/** The flags of one request, parsed. Formatted by `formatOverrideHeader`. */
export interface OverrideFlags {
  bulk: boolean;
  /** From `providerOptions.digitalOnboarding.destructive`, never from `overrides`. */
  destructive: boolean;
  force: boolean;
  /** `bypass_validation=<a>|<b>`: validator names, de-duplicated, in first-seen order. */
  bypassValidation: string[];
  dryRun: boolean;
}

export const NO_OVERRIDES: Readonly<OverrideFlags> = Object.freeze({
  bulk: false,
  destructive: false,
  force: false,
  bypassValidation: [],
  dryRun: false,
});

export type ParsedOverrides = { ok: true; flags: OverrideFlags } | { ok: false; message: string };

/**
 * Parses caller-supplied flags (header grammar `<flag>[=<value>[|<value>]*]`, DO-OVR). Accepted:
 * `force`, `bulk` (the adapter adds it to every batch anyway), `bypass_validation=<validator>[|…]`.
 * Refused: `dry_run` (use `WriteOptions.dryRun`), `destructive` (its own boolean option), anything
 * unknown.
 */
export function parseOverrideFlags(flags: readonly string[] | null | undefined): ParsedOverrides {
  const out: OverrideFlags = {
    bulk: false,
    destructive: false,
    force: false,
    bypassValidation: [],
    dryRun: false,
  };
  for (const entry of flags ?? []) {
    if (typeof entry !== 'string') {
      return { ok: false, message: 'override flags must be strings' };
    }
    for (const raw of entry.split(',')) {
      const flag = raw.trim();
      if (flag === '') {
        return { ok: false, message: 'empty override flag' };
      }
      const eq = flag.indexOf('=');
      const name = eq === -1 ? flag : flag.slice(0, eq);
      const value = eq === -1 ? null : flag.slice(eq + 1);
      if (!FLAG_NAME.test(name)) {
        return { ok: false, message: `malformed override flag "${clip(flag)}"` };
      }
      const refused = REFUSED_FLAGS[name];
      if (refused !== undefined) {
        return { ok: false, message: refused };
      }
      switch (name) {
        case 'force':
        case 'bulk':
          if (value !== null) {
            return { ok: false, message: `override flag "${name}" takes no value` };
          }
          out[name] = true;
          break;
        case 'bypass_validation': {
          const validators = (value ?? '').split('|').map((v) => v.trim());
          if (value === null || value.trim() === '') {
            return {
              ok: false,
              message: `override flag "bypass_validation" needs validator names, e.g. bypass_validation=${DO_KNOWN_VALIDATORS.join('|')}`,
            };
          }
          const unknown = validators.find((v) => !DO_KNOWN_VALIDATORS.includes(v));
          if (unknown !== undefined) {
            return {
              ok: false,
              message: `unknown validator "${clip(unknown)}" in bypass_validation; known: ${DO_KNOWN_VALIDATORS.join(', ')}`,
            };
          }
          for (const v of validators) {
            if (!out.bypassValidation.includes(v)) {
              out.bypassValidation.push(v);
            }
          }
          break;
        }
        default:
          return {
            ok: false,
            message: `unknown override flag "${clip(name)}"; allowed: force, bulk, bypass_validation=<validator>`,
          };
      }
    }
  }
  return { ok: true, flags: out };
}

/**
 * Pure check for input validation: `null` when every flag is acceptable, else a message naming the
 * first bad one (for an `InputError` with code `INVALID_VALUE`).
 */
export function validateOverrideFlags(flags: readonly string[] | null | undefined): string | null {
  const parsed = parseOverrideFlags(flags);
  return parsed.ok ? null : parsed.message;
}

/** `bulk,destructive,force,bypass_validation=a|b,dry_run`, or null when no flag is set. */
export function formatOverrideHeader(flags: OverrideFlags): string | null {
  const parts: string[] = [];
  if (flags.bulk) {
    parts.push('bulk');
  }
  if (flags.destructive) {
    parts.push('destructive');
  }
  if (flags.force) {
    parts.push('force');
  }
  if (flags.bypassValidation.length > 0) {
    parts.push(`bypass_validation=${flags.bypassValidation.join('|')}`);
  }
  if (flags.dryRun) {
    parts.push('dry_run');
  }
  return parts.length > 0 ? parts.join(',') : null;
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

// ---------------------------------------------------------------------------------------------
// Fields
// ---------------------------------------------------------------------------------------------

/** Unified leaf → Digital Onboarding string column. */
export const DO_FIELD_MAP: Readonly<Record<string, DoStringField>> = {
  externalId: 'unique_id',
  email: 'email',
  phone: 'phone_mobile',
  homePhone: 'phone_home',
  workPhone: 'phone_work',
  firstName: 'name_first',
  lastName: 'name_last',
  namePrefix: 'name_title',
  nameSuffix: 'name_suffix',
  'address.line1': 'address',
  'address.line2': 'address2',
  'address.city': 'city',
  'address.state': 'state',
  'address.postalCode': 'post_code',
  'address.county': 'county',
  'address.country': 'country',
  birthdate: 'birthdate',
  timezone: 'timezone',
};

/** Unified consent leaf → boolean column. `status` maps onto `opted_in` + `unsubscribed`. */
const CONSENT_FLAG_MAP: Readonly<Record<string, DoConsentField>> = {
  'emailConsent.verified': 'email_verified',
  'emailConsent.authorized': 'email_authorized',
  'smsConsent.verified': 'sms_verified',
  'smsConsent.authorized': 'sms_authorized',
};

const CONSENT_STATUS_FIELDS = {
  'emailConsent.status': { optedIn: 'email_opted_in', unsubscribed: 'email_unsubscribed' },
  'smsConsent.status': { optedIn: 'sms_opted_in', unsubscribed: 'sms_unsubscribed' },
} as const satisfies Record<string, { optedIn: DoConsentField; unsubscribed: DoConsentField }>;

/**
 * The two statuses the booleans can say: SUBSCRIBED = opted in and not unsubscribed, UNSUBSCRIBED
 * = unsubscribed and not opted in. PENDING, BOUNCED, COMPLAINED, SUPPRESSED and UNKNOWN have no
 * column and are dropped (writing false/false would claim more than the caller said).
 */
const STATUS_TO_FLAGS: Partial<Record<ConsentStatus, { optedIn: boolean; unsubscribed: boolean }>> =
  {
    SUBSCRIBED: { optedIn: true, unsubscribed: false },
    UNSUBSCRIBED: { optedIn: false, unsubscribed: true },
  };

const ORDER = (fields: Iterable<string>) => {
  const set = new Set(fields);
  return CONTACT_FIELDS.filter((f) => set.has(f));
};

/** Unified leaves Digital Onboarding stores (capabilities). */
export const DO_ACCEPTED_FIELDS: readonly string[] = ORDER([
  ...Object.keys(DO_FIELD_MAP),
  ...Object.keys(CONSENT_FLAG_MAP),
  ...Object.keys(CONSENT_STATUS_FIELDS),
  'customFields',
]);

/**
 * What `null` clears: every string column (sent as null) and custom fields (merge-patch nulls).
 * The consent booleans are required columns and cannot be cleared.
 */
export const DO_CLEARABLE_FIELDS: readonly string[] = ORDER([
  ...Object.keys(DO_FIELD_MAP),
  'customFields',
]);

export interface MappingInput {
  patch: ContactPatch;
  known: ContactPatch;
  remoteId: string | null;
  options: ProviderOptions;
}

export interface MappedBody {
  body: DoContactBody;
  droppedFields: string[];
}

/**
 * Unified patch → Digital Onboarding contact body. Only what the patch carries is sent (omitted
 * stays omitted); string columns take null to clear; `customFields` becomes `meta_public` as a
 * JSON merge patch (RFC 7396: a key set to null is removed) and `customFields: null` is
 * `meta_public: null` (empties it). Consent booleans are required columns: null is dropped.
 * Server-managed columns are never produced.
 */
export function toWireBody(patch: ContactPatch): MappedBody {
  const body: DoContactBody = {};
  const dropped: string[] = [];
  const meta: Record<string, unknown> = {};

  for (const [path, value] of flattenPatch(patch)) {
    const column = DO_FIELD_MAP[path];
    if (column !== undefined) {
      if (value === null || typeof value === 'string') {
        body[column] = value;
      } else {
        dropped.push(path);
      }
      continue;
    }
    const flagColumn = CONSENT_FLAG_MAP[path];
    if (flagColumn !== undefined) {
      if (typeof value === 'boolean') {
        body[flagColumn] = value;
      } else {
        dropped.push(path);
      }
      continue;
    }
    if (path === 'emailConsent.status' || path === 'smsConsent.status') {
      const flags = typeof value === 'string' ? STATUS_TO_FLAGS[value as ConsentStatus] : undefined;
      if (flags) {
        const cols = CONSENT_STATUS_FIELDS[path];
        body[cols.optedIn] = flags.optedIn;
        body[cols.unsubscribed] = flags.unsubscribed;
      } else {
        dropped.push(path);
      }
      continue;
    }
    if (path === 'customFields') {
      body.meta_public = null;
      continue;
    }
    if (path.startsWith('customFields.')) {
      meta[path.slice('customFields.'.length)] = value;
      continue;
    }
    // jobTitle, language, emailFormat, *.optInType: Digital Onboarding has no column for them.
    dropped.push(path);
  }
  if (Object.keys(meta).length > 0) {
    body.meta_public = meta;
  }
  return { body, droppedFields: dropped };
}

/** How a POST upsert is matched (docs: undocumented; `unique_id` first, then email). */
export interface UpsertKey {
  field: 'unique_id' | 'email';
  value: string;
}

/** Comparable form of a match key: emails case-insensitive, both trimmed. */
export function matchKey(field: 'unique_id' | 'email', value: string): string {
  return field === 'email' ? `email:${value.trim().toLowerCase()}` : `unique_id:${value.trim()}`;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A Digital Onboarding write ready to send: a POST (upsert by key) or a PATCH of a linked contact. */
export type Plan =
  | {
      method: 'POST';
      body: DoContactBody;
      key: UpsertKey;
      overrides: OverrideFlags;
      droppedFields: string[];
    }
  | {
      method: 'PATCH';
      remoteId: string;
      body: DoContactBody;
      overrides: OverrideFlags;
      droppedFields: string[];
    };

function refuse(
  status: 'SKIPPED' | 'FAILED',
  code: string,
  message: string,
  droppedFields: string[],
): WritePlan<Plan> {
  return {
    ok: false,
    status,
    error: { code, message, httpStatus: null, retryable: false, details: null },
    droppedFields,
  };
}

function overridesOf(input: MappingInput): ParsedOverrides {
  const options = input.options.digitalOnboarding;
  const parsed = parseOverrideFlags(options?.overrides);
  return parsed.ok && options?.destructive === true
    ? { ok: true, flags: { ...parsed.flags, destructive: true } }
    : parsed;
}

function patchPlan(
  input: MappingInput,
  mapped: MappedBody,
  overrides: OverrideFlags,
): WritePlan<Plan> {
  const remoteId = input.remoteId ?? '';
  if (!UUID.test(remoteId)) {
    return refuse(
      'FAILED',
      'BAD_REQUEST',
      'The stored Digital Onboarding remote id is not a contact UUID',
      mapped.droppedFields,
    );
  }
  return {
    ok: true,
    method: 'PATCH',
    remoteId,
    body: mapped.body,
    overrides,
    droppedFields: mapped.droppedFields,
  };
}

/**
 * Create-or-update. An unlinked contact is `POST`ed to `/v2/partner/contacts`, keyed by
 * `unique_id` (the externalId, from the patch or the identity map), else by email. A linked one
 * (`remoteId`) is `PATCH`ed by its UUID, the most precise address; inside a batch it joins the
 * bulk POST instead when its key is one it is already stored under (so re-upserting N known
 * contacts still costs ⌈N/B⌉ calls), and is PATCHed when the patch changes or clears that key,
 * since a POST would then create a second contact.
 */
export function planUpsert(input: MappingInput, opts: { batch?: boolean } = {}): WritePlan<Plan> {
  const mapped = toWireBody(input.patch);
  const parsed = overridesOf(input);
  if (!parsed.ok) {
    return refuse('FAILED', 'BAD_REQUEST', parsed.message, mapped.droppedFields);
  }
  const { body } = mapped;
  const knownUid = str(input.known.externalId);
  const knownEmail = str(input.known.email);
  const uid = body.unique_id === undefined ? knownUid : str(body.unique_id);
  const email = body.email === undefined ? knownEmail : str(body.email);
  const key: UpsertKey | undefined =
    uid !== undefined
      ? { field: 'unique_id', value: uid }
      : email !== undefined
        ? { field: 'email', value: email }
        : undefined;

  if (input.remoteId !== null) {
    const storedUnder =
      opts.batch === true &&
      key !== undefined &&
      (key.field === 'unique_id'
        ? knownUid !== undefined && knownUid.trim() === key.value.trim()
        : knownUid === undefined &&
          knownEmail !== undefined &&
          matchKey('email', knownEmail) === matchKey('email', key.value));
    if (!storedUnder) {
      return patchPlan(input, mapped, parsed.flags);
    }
  }
  if (key === undefined) {
    return refuse(
      'SKIPPED',
      'MISSING_REQUIRED_FIELD',
      'Digital Onboarding needs an externalId (unique_id) or an email to create a contact',
      mapped.droppedFields,
    );
  }
  const withKey: DoContactBody = { ...body };
  if (key.field === 'unique_id' && withKey.unique_id === undefined) {
    withKey.unique_id = key.value;
  }
  if (key.field === 'email' && withKey.email === undefined) {
    withKey.email = key.value;
  }
  return {
    ok: true,
    method: 'POST',
    body: withKey,
    key,
    overrides: parsed.flags,
    droppedFields: mapped.droppedFields,
  };
}

/** Update of a linked contact: `PATCH /v2/partner/contacts/{remoteId}` with only the patch. */
export function planUpdate(input: MappingInput): WritePlan<Plan> {
  const mapped = toWireBody(input.patch);
  const parsed = overridesOf(input);
  if (!parsed.ok) {
    return refuse('FAILED', 'BAD_REQUEST', parsed.message, mapped.droppedFields);
  }
  if (input.remoteId === null) {
    return refuse(
      'SKIPPED',
      'PROVIDER_NOT_LINKED',
      'This contact has no Digital Onboarding id yet; use upsertContact to create it there',
      mapped.droppedFields,
    );
  }
  return patchPlan(input, mapped, parsed.flags);
}

/**
 * Two writes of one contact in one bulk request (matching the answer back would be ambiguous):
 * later wins column by column, `meta_public` merged key by key (a later `null` empties it; a
 * later object after an earlier `null` is sent alone, so keys the earlier write cleared and the
 * later one does not name are kept).
 */
export function mergeBodies(a: DoContactBody, b: DoContactBody): DoContactBody {
  const out: DoContactBody = { ...a, ...b };
  if (a.meta_public && b.meta_public) {
    out.meta_public = { ...a.meta_public, ...b.meta_public };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Wire → unified
// ---------------------------------------------------------------------------------------------

export interface FromWireResult {
  remoteId: string;
  contact: ContactPatch;
  createdAt: string | null;
  updatedAt: string | null;
  lastSeenAt: string | null;
}

const ALPHA2 = new Set(Object.keys(countries.getAlpha2Codes()));

/** `US`, `us` → US; a country name Digital Onboarding may hold (`United States`) → its code. */
export function fromWireCountry(value: string): string | undefined {
  const v = value.trim();
  if (/^[A-Za-z]{2}$/.test(v) && ALPHA2.has(v.toUpperCase())) {
    return v.toUpperCase();
  }
  return countries.getAlpha2Code(v, 'en') ?? undefined;
}

function readConsent(
  optedIn: boolean | null | undefined,
  unsubscribed: boolean | null | undefined,
  verified: boolean | null | undefined,
  authorized: boolean | null | undefined,
): Consent | undefined {
  const out: Consent = {};
  // Unsubscribed wins over a stale opt-in; false/false says nothing (a new contact), so no status
  // is claimed and other providers' answers are not overridden by an UNKNOWN.
  if (unsubscribed === true) {
    out.status = 'UNSUBSCRIBED';
  } else if (optedIn === true) {
    out.status = 'SUBSCRIBED';
  }
  if (typeof verified === 'boolean') {
    out.verified = verified;
  }
  if (typeof authorized === 'boolean') {
    out.authorized = authorized;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * Digital Onboarding Contact → unified view. Null and empty columns are omitted; emails are
 * lower-cased, countries turned into ISO alpha-2 where possible (dropped otherwise), birthdates cut
 * to their date. `meta_public` becomes `customFields`; timestamps come back beside the contact.
 */
export function fromWireContact(wire: DoWireContact): FromWireResult {
  const contact: ContactPatch = {};
  const address: Record<string, string> = {};
  for (const [path, column] of Object.entries(DO_FIELD_MAP)) {
    const raw = str(wire[column]);
    if (raw === undefined) {
      continue;
    }
    let value: string | undefined = raw;
    if (path === 'email') {
      value = raw.trim().toLowerCase();
    } else if (path === 'address.country') {
      value = fromWireCountry(raw);
    } else if (path === 'birthdate') {
      value = /^\d{4}-\d{2}-\d{2}/.test(raw) ? raw.slice(0, 10) : undefined;
    }
    if (value === undefined) {
      continue;
    }
    if (path.startsWith('address.')) {
      address[path.slice('address.'.length)] = value;
    } else {
      (contact as Record<string, unknown>)[path] = value;
    }
  }
  if (Object.keys(address).length > 0) {
    contact.address = address;
  }
  for (const channel of ['email', 'sms'] as const) {
    const consent = readConsent(
      wire[`${channel}_opted_in`],
      wire[`${channel}_unsubscribed`],
      wire[`${channel}_verified`],
      wire[`${channel}_authorized`],
    );
    if (consent) {
      contact[`${channel}Consent`] = consent;
    }
  }
  const meta = wire.meta_public;
  if (meta && Object.keys(meta).length > 0) {
    contact.customFields = { ...meta } as JsonObject;
  }
  return {
    remoteId: wire.id,
    contact,
    createdAt: str(wire.inserted_at) ?? null,
    updatedAt: str(wire.updated_at) ?? null,
    lastSeenAt: str(wire.last_seen_at) ?? null,
  };
}
