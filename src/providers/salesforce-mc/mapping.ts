import { Metadata, parsePhoneNumberFromString } from 'libphonenumber-js';
import { CONTACT_FIELDS, type ContactPatch, flattenPatch } from '../../model/contact.js';
import { missingRequired, type ProviderErrorInfo } from '../../model/errors.js';
import type { WritePlan } from '../../model/outcome.js';
import type { SalesforceMcAttributeTarget, SalesforceMcOptions } from './config.js';

import type {
  AttributeSet,
  AttributeValue,
  ContactWriteBody,
  ContactWriteResponse,
  EmailSearchResponse,
} from './wire.js';
import { resultMessageCode, resultMessageText } from './wire.js';

/** Attribute sets and attributes of the standard Contact Builder model (SF-1 and the seed). */
export const SFMC_SETS = {
  email: 'Email Addresses',
  emailDemographics: 'Email Demographics',
  mobile: 'MobileConnect Demographics',
} as const;
export const SFMC_ATTRIBUTES = {
  emailAddress: 'Email Address',
  htmlEnabled: 'HTML Enabled',
  mobileNumber: 'Mobile Number',
  locale: 'Locale',
  status: 'Status',
} as const;

/**
 * MobileConnect `Status` sent when a contact is created with a mobile number: the documented
 * example's `1`. Never sent on PATCH, so an existing status (opt-out) is not overwritten.
 */
export const MOBILE_STATUS_DEFAULT = 1;
/** `HTML Enabled` of a new contact whose input has no `emailFormat` (the documented example's value). */
export const HTML_ENABLED_DEFAULT = true;

/**
 * Unified field → attribute, before `SFMC_ATTRIBUTE_MAP` is merged over it. `email`, `phone` and
 * `emailFormat` are not here: they are the channel attributes `Email Addresses.Email Address`,
 * `Email Addresses.HTML Enabled` and `MobileConnect Demographics.Mobile Number`, fixed by the API.
 */
export const DEFAULT_ATTRIBUTE_MAP: Readonly<Record<string, SalesforceMcAttributeTarget>> = {
  firstName: { set: SFMC_SETS.emailDemographics, attribute: 'First Name' },
  lastName: { set: SFMC_SETS.emailDemographics, attribute: 'Last Name' },
};

const CHANNEL_FIELDS = ['email', 'phone', 'emailFormat'] as const;
/** Attributes the adapter writes itself; a mapping onto one of them is ignored. */
const RESERVED_TARGETS = new Set([
  `${SFMC_SETS.email}\u0000${SFMC_ATTRIBUTES.emailAddress}`,
  `${SFMC_SETS.email}\u0000${SFMC_ATTRIBUTES.htmlEnabled}`,
  `${SFMC_SETS.mobile}\u0000${SFMC_ATTRIBUTES.mobileNumber}`,
]);
const UNIFIED = new Set<string>(CONTACT_FIELDS);

/**
 * The effective attribute map: defaults, then the configured map over them (`null` removes an
 * entry). Keys that are not unified leaves or `customFields.<key>`, channel fields, and targets the
 * adapter writes itself are ignored (config validation already refuses the first two).
 */
export function resolveAttributeMap(
  configured: Readonly<Record<string, SalesforceMcAttributeTarget | null>> = {},
): Readonly<Record<string, SalesforceMcAttributeTarget>> {
  const out: Record<string, SalesforceMcAttributeTarget> = {};
  for (const [path, target] of Object.entries({ ...DEFAULT_ATTRIBUTE_MAP, ...configured })) {
    const known =
      (UNIFIED.has(path) && path !== 'customFields') || /^customFields\.[^.]+$/.test(path);
    if (
      target === null ||
      !known ||
      (CHANNEL_FIELDS as readonly string[]).includes(path) ||
      RESERVED_TARGETS.has(`${target.set}\u0000${target.attribute}`)
    ) {
      continue;
    }
    out[path] = { set: target.set, attribute: target.attribute };
  }
  return out;
}

export interface SfmcFields {
  acceptedFields: string[];
  clearableFields: string[];
}

/**
 * What the adapter stores for a map and key mode (capabilities). Identifiers and channel attributes
 * never clear: the contact key cannot change, and clearing `Email Address` or `Mobile Number` would
 * remove the channel address rather than a value. Mapped attributes clear with `""`.
 */
export function sfmcFields(
  map: Readonly<Record<string, SalesforceMcAttributeTarget>>,
  contactKey: SalesforceMcOptions['contactKey'],
): SfmcFields {
  const mapped = Object.keys(map).filter((p) => !p.startsWith('customFields.'));
  const hasCustom = Object.keys(map).some((p) => p.startsWith('customFields.'));
  const accepted = new Set<string>([...CHANNEL_FIELDS, ...mapped]);
  if (contactKey === 'externalId') {
    accepted.add('externalId');
  }
  const clearable = new Set<string>(mapped.filter((p) => p !== 'externalId'));
  if (hasCustom) {
    accepted.add('customFields');
    clearable.add('customFields');
  }
  const order = (s: Set<string>) => CONTACT_FIELDS.filter((f) => s.has(f));
  return { acceptedFields: order(accepted), clearableFields: order(clearable) };
}

/** MobileConnect numbers: country code and digits, no `+` or punctuation (`+1 317…` → `1317…`). */
export function toWireMobileNumber(phone: string): string {
  return phone.replace(/[^\d]/g, '');
}

/** libphonenumber's metadata: a calling code's countries, its main country first (untyped API). */
const PHONE_METADATA = new Metadata() as unknown as {
  getCountryCodesForCallingCode(callingCode: string): string[] | undefined;
};

/**
 * The ISO country of an E.164 number: its region when libphonenumber can tell (`+1 416…` → `CA`),
 * else the main country of its calling code (`+1 555…` → `US`, `+44…` → `GB`) — the number says
 * where it belongs before any fallback (address country, SFMC_DEFAULT_LOCALE) is considered.
 */
export function phoneCountry(phone: string): string | undefined {
  const parsed = parsePhoneNumberFromString(phone);
  if (parsed === undefined) {
    return undefined;
  }
  return (
    parsed.country ?? PHONE_METADATA.getCountryCodesForCallingCode(parsed.countryCallingCode)?.[0]
  );
}

export interface MappingInput {
  patch: ContactPatch;
  known: ContactPatch;
  remoteId: string | null;
  /**
   * What SFMC already holds for an unlinked key it knows (contact key search): its email address
   * (when found) and which channel rows it has. A PATCH then sends no create defaults for those
   * channels (HTML Enabled, Status stay as they are).
   */
  existing?: { email: string | null; hasEmail: boolean; hasMobile: boolean } | undefined;
}

export interface MappingOptions {
  map: Readonly<Record<string, SalesforceMcAttributeTarget>>;
  contactKey: SalesforceMcOptions['contactKey'];
  defaultLocale: string;
}

/** One request body and the unified fields it could not carry. */
export interface BodyPlan {
  body: ContactWriteBody;
  droppedFields: string[];
  /** Why each of `droppedFields` was dropped. */
  droppedFieldReasons: Record<string, string>;
}

/** A Salesforce MC write ready to send: its contact key and both bodies it may need. */
export interface Plan {
  contactKey: string;
  /** Where the key comes from: a linked contact's remote id, or the input. */
  keySource: 'remoteId' | 'externalId' | 'email';
  /** The POST body (required sets and defaults filled in); null when a create is impossible. */
  create: BodyPlan | null;
  /** The PATCH body: only what the patch touches; null when it touches nothing SFMC stores. */
  update: BodyPlan | null;
  /** Why `create` is null (for the result when a create is needed after all). */
  createError: ProviderErrorInfo | null;
  /** Unified fields dropped whichever request is sent (identities, unmapped fields). */
  droppedFields: string[];
  droppedFieldReasons: Record<string, string>;
}

/** Why a field is dropped, per rule (shown in `details.droppedFieldReasons`). */
const R = {
  identity: 'Salesforce MC cannot clear a channel address (it would remove the channel)',
  format:
    'HTML Enabled is a required boolean of the Email Addresses attribute set and cannot be cleared',
  key: 'the contact key cannot change, and this external id is not mapped to an attribute (SFMC_ATTRIBUTE_MAP)',
  unmapped: 'no Salesforce MC attribute is mapped to it (SFMC_ATTRIBUTE_MAP)',
  noCustom: 'no custom field is mapped to an attribute (SFMC_ATTRIBUTE_MAP)',
  notScalar: 'a Salesforce MC attribute takes a string, number or boolean',
  noEmail:
    "the attribute sets Email Addresses (which carries HTML Enabled) and Email Demographics need the contact's email address, and it has none",
  noMobile:
    'the MobileConnect Demographics attribute set needs a mobile number, and the contact has none',
} as const;

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

/** A leaf's current value: the patch's when it carries the key (a null there wins), else the known view's. */
function current(
  patch: ContactPatch,
  known: ContactPatch,
  field: 'email' | 'externalId' | 'phone',
) {
  return field in patch && patch[field] !== undefined ? str(patch[field]) : str(known[field]);
}

/**
 * The contact key of a write: a linked contact keeps its remote id (SFMC cannot re-key a contact);
 * a new one gets the external id (falling back to the email) or the email, per `contactKey`.
 */
export function chooseContactKey(
  input: MappingInput,
  mode: SalesforceMcOptions['contactKey'],
): { contactKey: string; keySource: Plan['keySource'] } | null {
  if (input.remoteId !== null) {
    return { contactKey: input.remoteId, keySource: 'remoteId' };
  }
  const externalId =
    mode === 'externalId' ? current(input.patch, input.known, 'externalId') : undefined;
  if (externalId !== undefined) {
    return { contactKey: externalId, keySource: 'externalId' };
  }
  const email = current(input.patch, input.known, 'email');
  return email === undefined ? null : { contactKey: email, keySource: 'email' };
}

/** Attribute values, grouped by set, in a stable order (standard sets first, then as mapped). */
class SetBuilder {
  readonly #sets = new Map<string, Map<string, AttributeValue | null>>();

  put(set: string, attribute: string, value: AttributeValue | null): void {
    let values = this.#sets.get(set);
    if (!values) {
      values = new Map();
      this.#sets.set(set, values);
    }
    values.set(attribute, value);
  }

  has(set: string, attribute?: string): boolean {
    const values = this.#sets.get(set);
    return values !== undefined && (attribute === undefined || values.has(attribute));
  }

  delete(set: string): void {
    this.#sets.delete(set);
  }

  clone(): SetBuilder {
    const copy = new SetBuilder();
    for (const [set, values] of this.#sets) {
      for (const [name, value] of values) {
        copy.put(set, name, value);
      }
    }
    return copy;
  }

  get size(): number {
    return this.#sets.size;
  }

  build(): AttributeSet[] {
    const standard: string[] = [SFMC_SETS.email, SFMC_SETS.emailDemographics, SFMC_SETS.mobile];
    const names = [
      ...standard.filter((s) => this.#sets.has(s)),
      ...[...this.#sets.keys()].filter((s) => !standard.includes(s)),
    ];
    return names.map((name) => ({
      name,
      items: [
        {
          values: [...this.#sets.get(name)!.entries()].map(([attribute, value]) => ({
            name: attribute,
            value,
          })),
        },
      ],
    }));
  }
}

/**
 * Unified patch → the two possible request bodies (POST for a new key, PATCH for a known one).
 *
 * - Omitted stays omitted. A mapped attribute sent as `null` is cleared by sending `value: null`
 *   (the docs do not say how to clear, open question 15; null fits every attribute type where `""`
 *   would not fit a number or date, and it is what the sandbox implements).
 * - Never cleared, listed in `droppedFields`: `email`, `phone` (channel addresses: clearing them
 *   would remove the channel, not a value), `emailFormat` (`HTML Enabled` is a required boolean),
 *   `externalId` (the contact key cannot change).
 * - The create body always has what SF-1 requires: `Email Addresses` with `Email Address` and
 *   `HTML Enabled` (from `emailFormat`, else `true`) when the contact has an email, and
 *   `MobileConnect Demographics` with `Mobile Number`, `Locale` and `Status` (`1`) when it has a
 *   phone. Known values (identity map) fill the channel addresses the patch does not carry.
 * - The update body carries what the patch touches. A changed mobile number always takes its
 *   `Locale` along; a channel the identity map did not know before (a first email or phone) also
 *   gets the create defaults (`HTML Enabled`, `Status`), since SFMC then creates that set's row.
 * - `Locale` = the number's country (libphonenumber), else the address country, else
 *   `defaultLocale`.
 * - Sets that need a channel address the contact does not have are not sent and their fields are
 *   dropped: `Email Demographics` and `HTML Enabled` without an email (SF-1), MobileConnect
 *   attributes without a mobile number.
 */
export function toWireContact(
  input: MappingInput,
  options: MappingOptions,
): WritePlan<Plan, { droppedFieldReasons?: Record<string, string> }> {
  const { patch, known, remoteId } = input;
  const { map } = options;
  const dropped: string[] = [];
  const reasons: Record<string, string> = {};
  const drop = (path: string, reason: string) => {
    dropped.push(path);
    reasons[path] = reason;
  };
  const touched = new SetBuilder();
  /** Which unified fields each touched set came from, to report what must be dropped. */
  const sources = new Map<string, string[]>();
  const note = (set: string, field: string) => {
    sources.set(set, [...(sources.get(set) ?? []), field]);
  };

  const key = chooseContactKey(input, options.contactKey);
  if (key === null) {
    const fields = flattenPatch(patch).map(([p]) => p);
    return {
      ok: false,
      status: 'SKIPPED',
      error: missingRequired(
        options.contactKey === 'email'
          ? 'Salesforce MC contacts are keyed by email here (SFMC_CONTACT_KEY=email) and this contact has none'
          : 'Salesforce MC needs an external id or an email for the contact key and this contact has neither',
      ),
      droppedFields: fields.filter((f) => f === 'externalId' || f === 'email'),
    };
  }

  for (const [path, value] of flattenPatch(patch)) {
    switch (path) {
      case 'email':
        if (typeof value === 'string') {
          touched.put(SFMC_SETS.email, SFMC_ATTRIBUTES.emailAddress, value);
          note(SFMC_SETS.email, path);
        } else {
          drop(path, R.identity);
        }
        continue;
      case 'emailFormat':
        if (value === 'HTML' || value === 'PLAIN_TEXT') {
          touched.put(SFMC_SETS.email, SFMC_ATTRIBUTES.htmlEnabled, value === 'HTML');
          note(SFMC_SETS.email, path);
        } else {
          drop(path, R.format);
        }
        continue;
      case 'phone':
        if (typeof value === 'string' && toWireMobileNumber(value) !== '') {
          touched.put(SFMC_SETS.mobile, SFMC_ATTRIBUTES.mobileNumber, toWireMobileNumber(value));
          note(SFMC_SETS.mobile, path);
        } else {
          drop(path, R.identity);
        }
        continue;
      case 'externalId': {
        const isKey =
          options.contactKey === 'externalId' &&
          typeof value === 'string' &&
          value === key.contactKey;
        const target = map[path];
        if (typeof value === 'string' && target !== undefined) {
          touched.put(target.set, target.attribute, value);
          note(target.set, path);
        } else if (!isKey) {
          // Another id than the key of a linked contact, a null, or email-keyed and unmapped.
          drop(path, R.key);
        }
        continue;
      }
      case 'customFields': {
        // null: clear every mapped custom attribute.
        const custom = Object.entries(map).filter(([p]) => p.startsWith('customFields.'));
        if (custom.length === 0) {
          drop(path, R.noCustom);
        }
        for (const [p, target] of custom) {
          touched.put(target.set, target.attribute, null);
          note(target.set, p);
        }
        continue;
      }
      default: {
        const target = map[path];
        if (target === undefined) {
          drop(path, R.unmapped);
          continue;
        }
        if (
          value === null ||
          typeof value === 'string' ||
          typeof value === 'boolean' ||
          (typeof value === 'number' && Number.isFinite(value))
        ) {
          touched.put(target.set, target.attribute, value);
          note(target.set, path);
        } else {
          // Objects and arrays (customFields values) have no attribute type to go into.
          drop(path, R.notScalar);
        }
      }
    }
  }

  // The channels a create would have (a null in the patch wins) and those the stored contact keeps
  // on a PATCH (a null is not sent, so the address stays).
  const email = current(patch, known, 'email');
  const phone = current(patch, known, 'phone');
  const mobile = phone === undefined ? '' : toWireMobileNumber(phone);
  const existing = input.existing;
  const keptEmail = str(patch.email) ?? str(known.email) ?? existing?.email ?? undefined;
  const keptPhone = str(patch.phone) ?? str(known.phone);
  /** Whether SFMC already has the channel's row (then a PATCH sends no create defaults for it). */
  const hadEmail = existing?.hasEmail ?? str(known.email) !== undefined;
  const hadMobile = existing?.hasMobile ?? str(known.phone) !== undefined;
  const country = str(patch.address?.country) ?? str(known.address?.country);
  const locale = (number: string) =>
    phoneCountry(number) ?? country?.toUpperCase() ?? options.defaultLocale;
  const format = patch.emailFormat === undefined ? known.emailFormat : patch.emailFormat;
  const htmlEnabled =
    format === 'PLAIN_TEXT' ? false : format === 'HTML' ? true : HTML_ENABLED_DEFAULT;

  /** Sets that need a channel address the contact would not have are left out, their fields dropped. */
  const withoutOrphans = (hasEmail: boolean, hasMobile: boolean) => {
    const sets = touched.clone();
    const lost: string[] = [];
    const lostReasons: Record<string, string> = {};
    const orphaned = [
      ...(hasEmail ? [] : [SFMC_SETS.email, SFMC_SETS.emailDemographics]),
      ...(hasMobile ? [] : [SFMC_SETS.mobile]),
    ];
    for (const set of orphaned) {
      if (sets.has(set)) {
        sets.delete(set);
        for (const field of sources.get(set) ?? []) {
          lost.push(field);
          lostReasons[field] = set === SFMC_SETS.mobile ? R.noMobile : R.noEmail;
        }
      }
    }
    return {
      sets,
      droppedFields: dedupe([...dropped, ...lost]),
      droppedFieldReasons: { ...reasons, ...lostReasons },
    };
  };

  const body = (sets: SetBuilder): ContactWriteBody => ({
    contactKey: key.contactKey,
    attributeSets: sets.build(),
  });

  // PATCH: what the patch touches, plus the companions a changed or new channel needs.
  const forUpdate = withoutOrphans(
    keptEmail !== undefined || hadEmail,
    (keptPhone !== undefined && toWireMobileNumber(keptPhone) !== '') || hadMobile,
  );
  const updated = forUpdate.sets;
  // SF-1, per call: Email Demographics needs Email Addresses in the same request.
  if (
    updated.has(SFMC_SETS.emailDemographics) &&
    !updated.has(SFMC_SETS.email, SFMC_ATTRIBUTES.emailAddress) &&
    keptEmail !== undefined
  ) {
    updated.put(SFMC_SETS.email, SFMC_ATTRIBUTES.emailAddress, keptEmail);
  }
  if (updated.has(SFMC_SETS.emailDemographics) && !updated.has(SFMC_SETS.email)) {
    // An existing contact whose address the gateway does not know: Email Demographics cannot go.
    updated.delete(SFMC_SETS.emailDemographics);
    for (const field of sources.get(SFMC_SETS.emailDemographics) ?? []) {
      forUpdate.droppedFields.push(field);
      forUpdate.droppedFieldReasons[field] =
        'Email Demographics must be sent with Email Addresses, and the email address of this contact is not known';
    }
  }
  if (updated.has(SFMC_SETS.email, SFMC_ATTRIBUTES.emailAddress) && !hadEmail) {
    if (!updated.has(SFMC_SETS.email, SFMC_ATTRIBUTES.htmlEnabled)) {
      updated.put(SFMC_SETS.email, SFMC_ATTRIBUTES.htmlEnabled, htmlEnabled);
    }
  }
  if (updated.has(SFMC_SETS.mobile, SFMC_ATTRIBUTES.mobileNumber)) {
    if (!updated.has(SFMC_SETS.mobile, SFMC_ATTRIBUTES.locale)) {
      updated.put(SFMC_SETS.mobile, SFMC_ATTRIBUTES.locale, locale(keptPhone!));
    }
    if (!hadMobile && !updated.has(SFMC_SETS.mobile, SFMC_ATTRIBUTES.status)) {
      updated.put(SFMC_SETS.mobile, SFMC_ATTRIBUTES.status, MOBILE_STATUS_DEFAULT);
    }
  }
  const update: BodyPlan | null =
    updated.size > 0
      ? {
          body: body(updated),
          droppedFields: forUpdate.droppedFields,
          droppedFieldReasons: forUpdate.droppedFieldReasons,
        }
      : null;

  // POST: required sets and their required values on top of what the patch touches.
  let create: BodyPlan | null = null;
  let createError: ProviderErrorInfo | null = null;
  if (email === undefined && mobile === '') {
    createError = missingRequired(
      'Salesforce MC creates a contact only with an email address or a mobile number (SF-1), and this contact has neither',
    );
  } else {
    const forCreate = withoutOrphans(email !== undefined, mobile !== '');
    const created = forCreate.sets;
    if (email !== undefined) {
      created.put(SFMC_SETS.email, SFMC_ATTRIBUTES.emailAddress, email);
      if (!created.has(SFMC_SETS.email, SFMC_ATTRIBUTES.htmlEnabled)) {
        created.put(SFMC_SETS.email, SFMC_ATTRIBUTES.htmlEnabled, htmlEnabled);
      }
    }
    if (mobile !== '') {
      created.put(SFMC_SETS.mobile, SFMC_ATTRIBUTES.mobileNumber, mobile);
      if (!created.has(SFMC_SETS.mobile, SFMC_ATTRIBUTES.locale)) {
        created.put(SFMC_SETS.mobile, SFMC_ATTRIBUTES.locale, locale(phone!));
      }
      if (!created.has(SFMC_SETS.mobile, SFMC_ATTRIBUTES.status)) {
        created.put(SFMC_SETS.mobile, SFMC_ATTRIBUTES.status, MOBILE_STATUS_DEFAULT);
      }
    }
    create = {
      body: body(created),
      droppedFields: forCreate.droppedFields,
      droppedFieldReasons: forCreate.droppedFieldReasons,
    };
  }

  if (remoteId === null && create === null) {
    return {
      ok: false,
      status: 'SKIPPED',
      error: createError!,
      droppedFields: dedupe(dropped),
      droppedFieldReasons: reasons,
    };
  }
  return {
    ok: true,
    contactKey: key.contactKey,
    keySource: key.keySource,
    create,
    update,
    createError,
    droppedFields: dedupe(dropped),
    droppedFieldReasons: reasons,
  };
}

function dedupe(list: string[]): string[] {
  return [...new Set(list)];
}

export interface WriteAnswer {
  /** CREATED / UPDATED, or FAILED when SFMC answered 200 but did not apply the contact. */
  status: 'CREATED' | 'UPDATED' | 'FAILED';
  contactKey: string | null;
  contactId: string | null;
  rowsAffected: number | null;
  messages: string[];
  firstCode: string | null;
}

/**
 * Reads a create/update answer. `isNewContactKey` tells created from updated (absent: the verb's
 * meaning, POST created and PATCH updated); `hasErrors: true` or an `operationStatus` other than
 * `OK` is a failure even with HTTP 200. Both spellings of `rowsAffected` and `contactId` are read.
 */
export function readWriteAnswer(res: ContactWriteResponse, method: 'POST' | 'PATCH'): WriteAnswer {
  const messages = (res.resultMessages ?? []).map(resultMessageText);
  const failed =
    res.hasErrors === true ||
    (typeof res.operationStatus === 'string' && res.operationStatus.toUpperCase() !== 'OK');
  const id = res.contactId ?? res.contactID;
  let status: WriteAnswer['status'];
  if (failed) {
    status = 'FAILED';
  } else if (typeof res.isNewContactKey === 'boolean') {
    status = res.isNewContactKey ? 'CREATED' : 'UPDATED';
  } else {
    status = method === 'POST' ? 'CREATED' : 'UPDATED';
  }
  return {
    status,
    contactKey:
      res.contactKey === null || res.contactKey === undefined ? null : String(res.contactKey),
    contactId: id === null || id === undefined ? null : String(id),
    rowsAffected: res.rowsAffected ?? res.rowsAffetcted ?? null,
    messages,
    firstCode: resultMessageCode(res.resultMessages?.[0]),
  };
}

export interface SearchHit {
  contactKey: string;
  createDate: string | null;
}

/**
 * Email search answer → contact keys per address (lower-cased). An address can map to several
 * contact keys; they are kept in the order given.
 */
export function indexEmailSearch(res: EmailSearchResponse): Map<string, SearchHit[]> {
  const out = new Map<string, SearchHit[]>();
  for (const entity of res.channelAddressResponseEntities ?? []) {
    const address = str(entity.channelAddress);
    if (address === undefined) {
      continue;
    }
    const hits = (entity.contactKeyDetails ?? []).flatMap((d): SearchHit[] =>
      d.contactKey === null || d.contactKey === undefined || d.contactKey === ''
        ? []
        : [
            {
              contactKey: String(d.contactKey),
              createDate: typeof d.createDate === 'string' ? d.createDate : null,
            },
          ],
    );
    const key = address.trim().toLowerCase();
    out.set(key, [...(out.get(key) ?? []), ...hits]);
  }
  return out;
}

/**
 * Which of an address's contact keys is "the" contact: the one keyed by that very email, else the
 * oldest (createDate), else the first given.
 */
export function pickHit(email: string, hits: readonly SearchHit[]): SearchHit | null {
  if (hits.length === 0) {
    return null;
  }
  const lower = email.trim().toLowerCase();
  const own = hits.find((h) => h.contactKey.toLowerCase() === lower);
  if (own) {
    return own;
  }
  const dated = hits.filter(
    (h) => h.createDate !== null && !Number.isNaN(Date.parse(h.createDate)),
  );
  if (dated.length > 0) {
    return [...dated].sort((a, b) => Date.parse(a.createDate!) - Date.parse(b.createDate!))[0]!;
  }
  return hits[0]!;
}

export interface SfmcReadView {
  remoteId: string;
  contact: ContactPatch;
  createdAt: string | null;
  updatedAt: string | null;
}

/**
 * A search hit → unified view. The search returns only the address, the contact key and its
 * creation date; attribute values are not readable through a documented Contacts route, so the
 * view holds the email alone (and the external id when contacts are keyed by it and the key is
 * not the email itself).
 */
export function fromSearchHit(
  email: string,
  hit: SearchHit,
  mode: SalesforceMcOptions['contactKey'],
): SfmcReadView {
  const contact: ContactPatch = { email: email.trim().toLowerCase() };
  if (mode === 'externalId' && hit.contactKey.toLowerCase() !== email.trim().toLowerCase()) {
    contact.externalId = hit.contactKey;
  }
  const created = hit.createDate !== null ? Date.parse(hit.createDate) : Number.NaN;
  return {
    remoteId: hit.contactKey,
    contact,
    createdAt: Number.isNaN(created) ? null : new Date(created).toISOString(),
    updatedAt: null,
  };
}
