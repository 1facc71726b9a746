import {
  CONTACT_FIELDS,
  type ConsentStatus,
  type ContactPatch,
  type EmailFormat,
  flattenPatch,
  type JsonObject,
  type OptInType,
  type ProviderOptions,
} from '../../model/contact.js';
import { skippedMissing, type WritePlan } from '../../model/outcome.js';
import type { DotdigitalMergeOption } from './options.js';

import type {
  ChannelPropertiesRequest,
  DataFieldValue,
  DotdigitalIdentifier,
  EmailChannelRequest,
  ImportContact,
  ImportMergeOption,
  QueryMergeOption,
  UpdateContactBody,
  WireContact,
} from './wire.js';

/**
 * Unified field → Dotdigital data field, before `config.dataFieldMap` is merged over it. These are
 * data fields every Dotdigital account has. FULLNAME is derived, see `FULLNAME`.
 */
export const DEFAULT_DATA_FIELD_MAP: Readonly<Record<string, string>> = {
  firstName: 'FIRSTNAME',
  lastName: 'LASTNAME',
  'address.postalCode': 'POSTCODE',
};

/**
 * FULLNAME is written only when the patch carries both names: "First Last" when both are strings,
 * null when both are null. With one name alone it stays untouched (the other half may be stale in
 * the identity map, so guessing would write a wrong full name). It is never read back.
 */
export const FULLNAME = 'FULLNAME';

/**
 * Sets FULLNAME from the first and last name data fields being written (see `FULLNAME`), unless
 * the map sends something else to FULLNAME.
 */
function deriveFullName(
  dataFields: Record<string, DataFieldValue>,
  map: Readonly<Record<string, string>>,
  cannotClear = false,
): void {
  const firstField = map['firstName'];
  const lastField = map['lastName'];
  if (
    firstField === undefined ||
    lastField === undefined ||
    Object.values(map).some((f) => f.toUpperCase() === FULLNAME)
  ) {
    return;
  }
  delete dataFields[FULLNAME];
  const first = dataFields[firstField];
  const last = dataFields[lastField];
  if (typeof first === 'string' && typeof last === 'string') {
    dataFields[FULLNAME] = `${first} ${last}`;
  } else if (first === null && last === null && !cannotClear) {
    dataFields[FULLNAME] = null;
  }
}

/** Dotdigital data field names: letters, digits and `_` (the rule config enforces on the map). */
const DATA_FIELD_NAME = /^[A-Za-z0-9_]{1,100}$/;

/** Unified leaves that live in `identifiers` and `channelProperties` rather than data fields. */
const IDENTIFIER_FIELDS = ['email', 'phone'] as const;
const CHANNEL_FIELDS = [
  'emailFormat',
  'emailConsent.status',
  'emailConsent.optInType',
  'smsConsent.status',
] as const;
const UNIFIED = new Set<string>(CONTACT_FIELDS);

/**
 * The effective data field map: defaults, then `config.dataFieldMap` over them. Keys that are neither
 * a unified leaf nor `customFields.<key>`, and identifiers (never data fields), are ignored.
 */
export function resolveDataFieldMap(
  configured: Readonly<Record<string, string>> = {},
): Readonly<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [path, name] of Object.entries({ ...DEFAULT_DATA_FIELD_MAP, ...configured })) {
    const known =
      (UNIFIED.has(path) && path !== 'customFields') || /^customFields\.[^.].*$/.test(path);
    if (known && !(IDENTIFIER_FIELDS as readonly string[]).includes(path)) {
      out[path] = name;
    }
  }
  return out;
}

export interface DotdigitalFields {
  acceptedFields: string[];
  clearableFields: string[];
}

/** What the adapter stores for a given map (capabilities). Identifiers and channels never clear. */
export function dotdigitalFields(map: Readonly<Record<string, string>>): DotdigitalFields {
  const dataPaths = Object.keys(map).filter((p) => !p.startsWith('customFields.'));
  const accepted = new Set<string>([
    ...IDENTIFIER_FIELDS,
    ...CHANNEL_FIELDS,
    ...dataPaths,
    'customFields',
  ]);
  const clearable = new Set<string>([...dataPaths, 'customFields']);
  const order = (s: Set<string>) => CONTACT_FIELDS.filter((f) => s.has(f));
  return { acceptedFields: order(accepted), clearableFields: order(clearable) };
}

const QUERY_MERGE: Record<DotdigitalMergeOption, QueryMergeOption> = {
  OVERWRITE: 'overwrite',
  OVERWRITE_IF_NOT_EMPTY: 'overwrite-if-not-empty',
  OVERWRITE_IF_EMPTY: 'overwrite-if-empty',
};
const IMPORT_MERGE: Record<DotdigitalMergeOption, ImportMergeOption> = {
  OVERWRITE: 'overwrite',
  OVERWRITE_IF_NOT_EMPTY: 'overwriteIfNotEmpty',
  OVERWRITE_IF_EMPTY: 'overwriteIfEmpty',
};

/** `?merge-option=` of a single PATCH: kebab-case. */
export function toQueryMergeOption(
  option: DotdigitalMergeOption | null | undefined,
): QueryMergeOption | undefined {
  return option ? QUERY_MERGE[option] : undefined;
}

/** `mergeOption` of an import body: camelCase (the same three behaviours). */
export function toImportMergeOption(
  option: DotdigitalMergeOption | null | undefined,
): ImportMergeOption | undefined {
  return option ? IMPORT_MERGE[option] : undefined;
}

/**
 * Phone numbers: the gateway keeps E.164 with `+` (`+447123123123`); Dotdigital documents
 * `mobileNumber` as E.164 and every example in its OpenAPI omits the `+` (`447123123123`), so the
 * adapter sends digits only. Reads accept both and give `+digits` back.
 */
export function toWireMobileNumber(phone: string): string {
  return phone.replace(/[^\d]/g, '');
}

export function fromWireMobileNumber(value: string): string | undefined {
  const digits = value.replace(/[^\d]/g, '');
  return digits === '' ? undefined : `+${digits}`;
}

function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** A value as it is compared when matching import results back: case, `+` and spaces ignored. */
export function matchKey(identifier: string, value: string | number): string {
  const v = String(value);
  switch (identifier) {
    case 'email':
      return `email:${normaliseEmail(v)}`;
    case 'mobileNumber':
      return `mobileNumber:${toWireMobileNumber(v)}`;
    default:
      return `${identifier}:${v.trim()}`;
  }
}

const EMAIL_STATUS: Partial<Record<ConsentStatus, EmailChannelRequest['status']>> = {
  SUBSCRIBED: 'subscribed',
  UNSUBSCRIBED: 'unsubscribed',
  SUPPRESSED: 'suppressed',
};
const SMS_STATUS: Partial<Record<ConsentStatus, 'subscribed' | 'unsubscribed' | 'suppressed'>> =
  EMAIL_STATUS as Partial<Record<ConsentStatus, 'subscribed' | 'unsubscribed' | 'suppressed'>>;
const OPT_IN: Record<OptInType, NonNullable<EmailChannelRequest['optInType']>> = {
  SINGLE: 'single',
  DOUBLE: 'double',
  VERIFIED_DOUBLE: 'verifiedDouble',
  UNKNOWN: 'unknown',
};
const EMAIL_TYPE: Record<EmailFormat, NonNullable<EmailChannelRequest['emailType']>> = {
  HTML: 'html',
  PLAIN_TEXT: 'plainText',
};

export interface MappingInput {
  patch: ContactPatch;
  known: ContactPatch;
  remoteId: string | null;
  options: ProviderOptions;
}

/** How a write addresses its contact: `PATCH /contacts/v3/{identifier}/{value}` or `matchIdentifier`. */
export interface Lookup {
  identifier: DotdigitalIdentifier;
  /** As Dotdigital expects it (digits for mobileNumber), not percent-encoded. */
  value: string;
}

/** A Dotdigital write ready to send: how it addresses the contact, and the body. */
export interface Plan {
  lookup: Lookup;
  body: UpdateContactBody;
  mergeOption: DotdigitalMergeOption | null;
  droppedFields: string[];
  /** Why each of `droppedFields` was dropped (shown as `details.droppedFieldReasons`). */
  droppedFieldReasons: Record<string, string>;
}

/** Why each dropped field was dropped (a refusal carries them too). */
export interface DropReasons {
  droppedFieldReasons: Record<string, string>;
}

/** Dropped unified fields, each with its reason, in the order they were met. */
class Drops {
  readonly fields: string[] = [];
  readonly reasons: Record<string, string> = {};
  add(path: string, reason: string): void {
    if (!(path in this.reasons)) {
      this.fields.push(path);
    }
    this.reasons[path] = reason;
  }
}

const CANNOT_CLEAR_IDENTIFIER =
  'Dotdigital cannot clear an identifier (null clears data fields only)';
const CANNOT_CLEAR_CHANNEL = 'Dotdigital cannot clear a channel property';

/** Unified fields that set a channel property through a table (null cannot clear one). */
const CHANNEL_PROPERTIES = new Map<
  string,
  {
    channel: 'email' | 'sms';
    key: 'emailType' | 'status' | 'optInType';
    from: Readonly<Record<string, string | undefined>>;
  }
>([
  ['emailFormat', { channel: 'email', key: 'emailType', from: EMAIL_TYPE }],
  ['emailConsent.status', { channel: 'email', key: 'status', from: EMAIL_STATUS }],
  ['emailConsent.optInType', { channel: 'email', key: 'optInType', from: OPT_IN }],
  ['smsConsent.status', { channel: 'sms', key: 'status', from: SMS_STATUS }],
]);
const NOT_MAPPED = 'no Dotdigital data field is mapped to it (DOTDIGITAL_DATA_FIELD_MAP)';
const NOT_SCALAR = 'a Dotdigital data field takes a string, number or boolean';

/** Merge options under which a null (or empty) value is skipped by Dotdigital and clears nothing. */
const NO_CLEAR_MERGE: ReadonlySet<DotdigitalMergeOption> = new Set([
  'OVERWRITE_IF_NOT_EMPTY',
  'OVERWRITE_IF_EMPTY',
]);

/** `droppedFieldReasons` as outcome details, or null when nothing was dropped with a reason. */
export function dropDetails(reasons: Record<string, string>): Record<string, unknown> | null {
  return Object.keys(reasons).length > 0 ? { droppedFieldReasons: { ...reasons } } : null;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

function isScalar(value: unknown): value is DataFieldValue {
  return (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

/**
 * The data field an unmapped `customFields.<key>` goes to: `<KEY>` upper-cased (Dotdigital shows and
 * returns data field names in upper case). A key that is not a valid data field name, or that names
 * a data field the map gives to another field, has no target.
 */
function customDataField(key: string, map: Readonly<Record<string, string>>): string | undefined {
  const mapped = map[`customFields.${key}`];
  if (mapped !== undefined) {
    return mapped;
  }
  if (!DATA_FIELD_NAME.test(key)) {
    return undefined;
  }
  const name = key.toUpperCase();
  const reserved = Object.entries(map).some(
    ([path, field]) => field.toUpperCase() === name && path !== `customFields.${key}`,
  );
  return reserved || name === FULLNAME ? undefined : name;
}

/**
 * Whether the account can take a data field: null when it can, else why not. `value` is what
 * would be written (null = a clear).
 */
export type DataFieldCheck = (name: string, value: DataFieldValue) => string | null;

/**
 * Unified patch → `updateContactRequest` + how to address the contact. Only what the patch carries
 * is sent (omitted stays omitted); null clears data fields and nothing else (Dotdigital cannot clear
 * identifiers or channel statuses), so every other null lands in `droppedFields`.
 */
export function toWireContact(
  input: MappingInput,
  map: Readonly<Record<string, string>> = resolveDataFieldMap(),
  accepts: DataFieldCheck = () => null,
): WritePlan<Plan, DropReasons> {
  const { patch, known, remoteId } = input;
  const dd = input.options.dotdigital ?? {};
  const drops = new Drops();
  const dropped = drops.fields;
  const dataFields: Record<string, DataFieldValue> = {};
  /** Unified paths behind each data field sent, for merge-option drops. */
  const sources = new Map<string, string>();
  const email: EmailChannelRequest = {};
  const sms: ChannelPropertiesRequest['sms'] = {};

  for (const [path, value] of flattenPatch(patch)) {
    if (path === 'email' || path === 'phone') {
      if (value === null) {
        drops.add(path, CANNOT_CLEAR_IDENTIFIER);
      }
      continue;
    }
    const field = map[path];
    if (field !== undefined && !path.startsWith('customFields.')) {
      const refused = isScalar(value) ? accepts(field, value) : NOT_SCALAR;
      if (refused === null) {
        dataFields[field] = value as DataFieldValue;
        sources.set(field, path);
      } else {
        drops.add(path, refused);
      }
      continue;
    }
    const property = CHANNEL_PROPERTIES.get(path);
    if (property) {
      const v = value === null ? undefined : property.from[value as string];
      if (v) {
        ((property.channel === 'email' ? email : sms) as Record<string, string>)[property.key] = v;
      } else {
        drops.add(path, value === null ? CANNOT_CLEAR_CHANNEL : channelReason(path));
      }
      continue;
    }
    switch (path) {
      case 'customFields': {
        // null: clear the custom fields the map names; without any, Dotdigital's data fields cannot
        // be told apart from the account's own, so nothing is cleared and that is reported.
        const managed = Object.entries(map).filter(([p]) => p.startsWith('customFields.'));
        if (managed.length === 0) {
          drops.add(
            path,
            "no custom field is mapped to a data field (DOTDIGITAL_DATA_FIELD_MAP), so none can be told apart from the account's own",
          );
        }
        for (const [, name] of managed) {
          // A managed field the account lacks holds nothing to clear.
          if (accepts(name, null) === null) {
            dataFields[name] = null;
            sources.set(name, path);
          }
        }
        continue;
      }
      default:
        break;
    }
    if (path.startsWith('customFields.')) {
      const name = customDataField(path.slice('customFields.'.length), map);
      if (name === undefined) {
        drops.add(path, 'the key is not a Dotdigital data field name (letters, digits, _)');
      } else if (!isScalar(value)) {
        drops.add(path, NOT_SCALAR);
      } else {
        const refused = accepts(name, value);
        if (refused === null) {
          dataFields[name] = value;
          sources.set(name, path);
        } else {
          drops.add(path, refused);
        }
      }
      continue;
    }
    drops.add(path, NOT_MAPPED);
  }

  // Under these merge options Dotdigital skips empty values: a null clears nothing (DD-11's
  // "only overwrite if not empty" / "only if contact data not populated"). Not sent, reported.
  const mergeOption = dd.mergeOption ?? null;
  if (mergeOption !== null && NO_CLEAR_MERGE.has(mergeOption)) {
    for (const [name, value] of Object.entries(dataFields)) {
      if (value === null || value === '') {
        delete dataFields[name];
        drops.add(
          sources.get(name) ?? name,
          `merge option ${mergeOption} cannot clear a field: Dotdigital skips null and empty values under it (use OVERWRITE to clear)`,
        );
      }
    }
  }

  deriveFullName(dataFields, map, mergeOption !== null && NO_CLEAR_MERGE.has(mergeOption));
  const fullName = dataFields[FULLNAME];
  if (fullName !== undefined && accepts(FULLNAME, fullName) !== null) {
    // Derived, not asked for: an account without FULLNAME simply does not get it.
    delete dataFields[FULLNAME];
  }

  // How to address the contact: its contactId once linked, else email, else mobile number.
  const patchEmail = str(patch.email);
  const patchPhone = str(patch.phone);
  let lookup: Lookup | undefined;
  if (remoteId !== null) {
    if (!/^\d+$/.test(remoteId)) {
      return {
        ok: false,
        status: 'FAILED',
        error: {
          code: 'BAD_REQUEST',
          message: 'The stored Dotdigital remote id is not a contactId',
          httpStatus: null,
          retryable: false,
          details: null,
        },
        droppedFields: dropped,
        droppedFieldReasons: drops.reasons,
      };
    }
    lookup = { identifier: 'contactId', value: remoteId };
  } else {
    const mail = patchEmail ?? str(known.email);
    const phone = patchPhone ?? str(known.phone);
    if (mail !== undefined) {
      lookup = { identifier: 'email', value: mail };
    } else if (phone !== undefined && toWireMobileNumber(phone) !== '') {
      lookup = { identifier: 'mobileNumber', value: toWireMobileNumber(phone) };
    }
  }
  if (lookup === undefined) {
    return {
      ...skippedMissing(
        'Dotdigital needs an email or a mobile number to create a contact',
        dropped,
      ),
      droppedFieldReasons: drops.reasons,
    };
  }

  // Identifiers: what the patch sets, plus the lookup value a new contact must be created with.
  const identifiers: NonNullable<UpdateContactBody['identifiers']> = {};
  const idEmail = patchEmail ?? (lookup.identifier === 'email' ? lookup.value : undefined);
  const idMobile =
    patchPhone !== undefined
      ? toWireMobileNumber(patchPhone)
      : lookup.identifier === 'mobileNumber'
        ? lookup.value
        : undefined;
  if (idEmail !== undefined) {
    identifiers.email = idEmail;
  }
  if (idMobile !== undefined && idMobile !== '') {
    identifiers.mobileNumber = idMobile;
  }

  const body: UpdateContactBody = {};
  if (Object.keys(identifiers).length > 0) {
    body.identifiers = identifiers;
  }
  if (Object.keys(dataFields).length > 0) {
    body.dataFields = dataFields;
  }
  const channelProperties: ChannelPropertiesRequest = {};
  if (Object.keys(email).length > 0) {
    channelProperties.email = email;
  }
  if (Object.keys(sms).length > 0) {
    channelProperties.sms = sms;
  }
  if (Object.keys(channelProperties).length > 0) {
    body.channelProperties = channelProperties;
  }
  if (dd.lists && dd.lists.length > 0) {
    body.lists = [...dd.lists];
  }
  if (dd.preferences && dd.preferences.length > 0) {
    body.preferences = dd.preferences.map((p) => ({ id: p.id, isOptedIn: p.isOptedIn }));
  }
  if (dd.consentRecords && dd.consentRecords.length > 0) {
    body.consentRecords = dd.consentRecords.map((r) => ({
      text: r.text,
      dateTimeConsented: r.dateTimeConsented,
      url: r.url,
      ipAddress: r.ipAddress,
      userAgent: r.userAgent,
    }));
  }
  return {
    ok: true,
    lookup,
    body,
    mergeOption,
    droppedFields: dropped,
    droppedFieldReasons: drops.reasons,
  };
}

function channelReason(path: string): string {
  switch (path) {
    case 'emailConsent.status':
      return 'Dotdigital sets an email status of subscribed, unsubscribed or suppressed only';
    case 'smsConsent.status':
      return 'Dotdigital sets an SMS status of subscribed, unsubscribed or suppressed only';
    default:
      return 'Dotdigital has no such value for this channel property';
  }
}

/** One contact of `PUT /contacts/v3/import`: `matchIdentifier` names the lookup. */
export function toImportContact(plan: Plan): ImportContact {
  const { identifiers, ...rest } = plan.body;
  const ids: ImportContact['identifiers'] = { ...identifiers };
  if (plan.lookup.identifier === 'contactId') {
    ids.contactId = Number(plan.lookup.value);
  }
  return { matchIdentifier: plan.lookup.identifier, identifiers: ids, ...rest };
}

/**
 * Two writes of one contact in one import (Dotdigital fails both as duplicates): later wins field
 * by field (FULLNAME derived again from the merged names), lists are united, preferences merged
 * by id, consent records kept (the last 5).
 */
export function mergeImportContacts(
  a: ImportContact,
  b: ImportContact,
  map: Readonly<Record<string, string>> = resolveDataFieldMap(),
): ImportContact {
  const out: ImportContact = {
    ...a,
    ...b,
    identifiers: { ...a.identifiers, ...b.identifiers },
  };
  if (a.dataFields || b.dataFields) {
    out.dataFields = { ...a.dataFields, ...b.dataFields };
    deriveFullName(out.dataFields, map);
  }
  if (a.channelProperties || b.channelProperties) {
    const email = { ...a.channelProperties?.email, ...b.channelProperties?.email };
    const sms = { ...a.channelProperties?.sms, ...b.channelProperties?.sms };
    out.channelProperties = {
      ...(Object.keys(email).length > 0 ? { email } : {}),
      ...(Object.keys(sms).length > 0 ? { sms } : {}),
    };
  }
  if (a.lists || b.lists) {
    out.lists = [...new Set([...(a.lists ?? []), ...(b.lists ?? [])])];
  }
  if (a.preferences || b.preferences) {
    const byId = new Map<number, { id: number; isOptedIn: boolean }>();
    for (const p of [...(a.preferences ?? []), ...(b.preferences ?? [])]) {
      byId.set(p.id, p);
    }
    out.preferences = [...byId.values()];
  }
  if (a.consentRecords || b.consentRecords) {
    out.consentRecords = [...(a.consentRecords ?? []), ...(b.consentRecords ?? [])].slice(-5);
  }
  return out;
}

/** Lower-cased letters only: `VerifiedDouble`, `verifiedDouble`, `VERIFIED_DOUBLE` compare equal. */
function word(value: unknown): string {
  return typeof value === 'string' ? value.replace(/[^A-Za-z]/g, '').toLowerCase() : '';
}

/** `Html` / `html` → HTML, `PlainText` / `plainText` → PLAIN_TEXT. */
export function fromWireEmailType(value: unknown): EmailFormat | undefined {
  switch (word(value)) {
    case 'html':
      return 'HTML';
    case 'plaintext':
    case 'text':
      return 'PLAIN_TEXT';
    default:
      return undefined;
  }
}

/** `Single` / `single` → SINGLE, `VerifiedDouble` → VERIFIED_DOUBLE, anything else → UNKNOWN. */
export function fromWireOptInType(value: unknown): OptInType | undefined {
  switch (word(value)) {
    case '':
      return undefined;
    case 'single':
      return 'SINGLE';
    case 'double':
      return 'DOUBLE';
    case 'verifieddouble':
      return 'VERIFIED_DOUBLE';
    default:
      return 'UNKNOWN';
  }
}

const EMAIL_STATUS_READ: Readonly<Record<string, ConsentStatus>> = {
  subscribed: 'SUBSCRIBED',
  unsubscribed: 'UNSUBSCRIBED',
  pendingoptin: 'PENDING',
  softbounced: 'BOUNCED',
  hardbounced: 'BOUNCED',
  bounced: 'BOUNCED',
  ispcomplained: 'COMPLAINED',
  directcomplaint: 'COMPLAINED',
  knowncomplainer: 'COMPLAINED',
  suppressed: 'SUPPRESSED',
  spamtrap: 'SUPPRESSED',
  blockedlocalpart: 'SUPPRESSED',
  sharedsuppression: 'SUPPRESSED',
  shareddomainsuppression: 'SUPPRESSED',
  domainsuppressed: 'SUPPRESSED',
  purchased: 'SUPPRESSED',
  knownlitigator: 'SUPPRESSED',
  deleted: 'SUPPRESSED',
  binned: 'SUPPRESSED',
  nosubscription: 'UNKNOWN',
};

/**
 * Email (and SMS) channel status → unified consent: bounces and complaints keep their meaning,
 * every suppression-like state (including deleted/binned contacts, which cannot be sent to) is
 * SUPPRESSED, `noSubscription` and unknown words are UNKNOWN.
 */
export function fromWireChannelStatus(value: unknown): ConsentStatus | undefined {
  const w = word(value);
  return w === '' ? undefined : (EMAIL_STATUS_READ[w] ?? 'UNKNOWN');
}

export interface FromWireResult {
  remoteId: string;
  contact: ContactPatch;
  createdAt: string | null;
  updatedAt: string | null;
}

/** A data field value as a unified string leaf (dates keep their date part for `birthdate`). */
function asText(path: string, value: unknown): string | undefined {
  const s = typeof value === 'string' ? value : isScalar(value) ? String(value) : undefined;
  if (s === undefined || s.trim() === '') {
    return undefined;
  }
  return path === 'birthdate' && /^\d{4}-\d{2}-\d{2}T/.test(s) ? s.slice(0, 10) : s;
}

/**
 * Dotdigital `contact` → unified view. Lenient: enum casing of either form, data field names compared
 * case-insensitively with the map; data fields nothing maps to come back as `customFields.<NAME>`
 * (their name as Dotdigital returns it). Null and empty data fields are omitted.
 */
export function fromWireContact(
  wire: WireContact,
  map: Readonly<Record<string, string>> = resolveDataFieldMap(),
): FromWireResult {
  const contact: Record<string, unknown> = {};
  const nested: Record<string, Record<string, unknown>> = {};
  const put = (path: string, value: unknown) => {
    const dot = path.indexOf('.');
    if (dot === -1) {
      contact[path] = value;
    } else {
      const head = path.slice(0, dot);
      nested[head] = { ...nested[head], [path.slice(dot + 1)]: value };
    }
  };

  const ids = wire.identifiers ?? {};
  const email = str(ids['email']);
  if (email !== undefined) {
    contact['email'] = normaliseEmail(email);
  }
  const mobile = typeof ids['mobileNumber'] === 'string' ? ids['mobileNumber'] : undefined;
  const phone = mobile === undefined ? undefined : fromWireMobileNumber(mobile);
  if (phone !== undefined) {
    contact['phone'] = phone;
  }

  const reverse = new Map<string, string>();
  for (const [path, name] of Object.entries(map)) {
    reverse.set(name.toUpperCase(), path);
  }
  const derivesFullName = !reverse.has(FULLNAME);
  const custom: JsonObject = {};
  for (const [name, value] of Object.entries(wire.dataFields ?? {})) {
    if (value === null || value === undefined || value === '') {
      continue;
    }
    const upper = name.toUpperCase();
    const path = reverse.get(upper);
    if (path === undefined) {
      if (!(derivesFullName && upper === FULLNAME)) {
        custom[name] = value;
      }
    } else if (path.startsWith('customFields.')) {
      custom[path.slice('customFields.'.length)] = value;
    } else {
      const text = asText(path, value);
      if (text !== undefined) {
        put(path, text);
      }
    }
  }
  if (Object.keys(custom).length > 0) {
    contact['customFields'] = custom;
  }

  const channels = wire.channelProperties;
  const emailFormat = fromWireEmailType(channels?.email?.emailType);
  if (emailFormat !== undefined) {
    contact['emailFormat'] = emailFormat;
  }
  const emailStatus = fromWireChannelStatus(channels?.email?.status);
  if (emailStatus !== undefined) {
    put('emailConsent.status', emailStatus);
  }
  const optInType = fromWireOptInType(channels?.email?.optInType);
  if (optInType !== undefined) {
    put('emailConsent.optInType', optInType);
  }
  const smsStatus = fromWireChannelStatus(channels?.sms?.status);
  if (smsStatus !== undefined) {
    put('smsConsent.status', smsStatus);
  }
  Object.assign(contact, nested);

  return {
    remoteId: String(wire.contactId),
    contact: contact as ContactPatch,
    createdAt: str(wire.created) ?? null,
    updatedAt: str(wire.updated) ?? null,
  };
}
