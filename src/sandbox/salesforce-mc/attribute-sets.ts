/**
 * The sandbox's Contact Builder data model: the default attribute sets that SF-1 names, with the
 * attribute names its example sends and the required values its rules state.
 */
import type { RestErrorBody } from './wire.js';
import { ErrorCode, restErrorBody } from './wire.js';

export type AttributeValue = string | number | boolean;

/** Attribute set name → attribute name → value, with the canonical spelling of both names. */
export type AttributeSets = Record<string, Record<string, AttributeValue>>;

type AttributeKind =
  /** any scalar */
  | 'any'
  /** a string with one `@` between non-empty parts */
  | 'email'
  /** `true`/`false`, or their strings (SF-1 sends `true`, SF-2 `"true"`) */
  | 'boolean'
  /** a two-letter country code (SF-1: "You must include a country code for the Locale value") */
  | 'country'
  /** an integer or a string of digits */
  | 'integer';

interface AttributeSetDefinition {
  readonly name: string;
  readonly attributes: Readonly<Record<string, AttributeKind>>;
  /**
   * Whether attributes other than those listed are accepted. Only Email Demographics is open: SF-1's
   * example puts custom profile attributes there ("Text Profile Attribute"), and their names depend
   * on the account's data model (SF-13 attributeSetDefinitions).
   */
  readonly open: boolean;
  /** Each entry is a group of names of which at least one must hold a value. */
  readonly required: readonly (readonly string[])[];
  /** Sets the contact must also have when it has this one (SF-1). */
  readonly requiresSets: readonly string[];
}

export const EMAIL_ADDRESSES = 'Email Addresses';
export const EMAIL_ADDRESS = 'Email Address';
const LINE_ADDRESSES = 'GroupConnect LINE Addresses';
const LINE_SUBSCRIPTIONS = 'GroupConnect LINE Subscriptions';

/**
 * SF-1 names the LINE sets "LINE Addresses" etc. in its rules and "GroupConnect LINE …" in its
 * example; the sandbox uses the example's names (what a request really carries).
 * WhatsApp is not supported by the endpoint (SF-1), so it has no set here.
 */
const DEFINITIONS: readonly AttributeSetDefinition[] = [
  {
    name: EMAIL_ADDRESSES,
    attributes: { [EMAIL_ADDRESS]: 'email', 'HTML Enabled': 'boolean' },
    open: false,
    // SF-1: "You must also include values for contactKey and HTML Enabled".
    required: [[EMAIL_ADDRESS], ['HTML Enabled']],
    requiresSets: [],
  },
  {
    name: 'Email Demographics',
    attributes: { 'First Name': 'any', 'Last Name': 'any' },
    open: true,
    required: [],
    // SF-1: Email Addresses is mandatory too when Email Demographics is sent.
    requiresSets: [EMAIL_ADDRESSES],
  },
  {
    name: 'MobileConnect Demographics',
    attributes: { 'Mobile Number': 'any', Locale: 'country', Status: 'integer' },
    open: false,
    // SF-1 states only Locale; its example also sends Mobile Number (the channel address itself)
    // and Status, and the sandbox requires all three.
    required: [['Mobile Number'], ['Locale'], ['Status']],
    requiresSets: [],
  },
  {
    name: 'MobilePush Demographics',
    attributes: { 'Device ID': 'any', Application: 'any', ApplicationID: 'any' },
    open: false,
    // SF-1's rule says ApplicationID, its example sends Application (open question 14): either one
    // satisfies the rule.
    required: [['ApplicationID', 'Application']],
    requiresSets: [],
  },
  {
    name: LINE_ADDRESSES,
    attributes: { 'Address ID': 'any' },
    open: false,
    required: [['Address ID']],
    requiresSets: [],
  },
  {
    name: LINE_SUBSCRIPTIONS,
    attributes: { 'Address ID': 'any', 'Channel ID': 'any' },
    open: false,
    required: [['Address ID'], ['Channel ID']],
    requiresSets: [],
  },
  {
    name: 'GroupConnect LINE Demographics',
    attributes: {
      'Address ID': 'any',
      'Display Name': 'any',
      'Picture Url': 'any',
      'Status Message': 'any',
    },
    open: false,
    required: [['Address ID']],
    // SF-1: LINE Addresses and LINE Subscriptions are required with LINE Demographics.
    requiresSets: [LINE_ADDRESSES, LINE_SUBSCRIPTIONS],
  },
];

/** The names of the default attribute sets, in SF-1 order. */
export const ATTRIBUTE_SET_NAMES: readonly string[] = DEFINITIONS.map((d) => d.name);

/**
 * Names match case-insensitively (SFMC's data model lives in a case-insensitive SQL store;
 * [inferred], not documented) and are stored in the spelling above.
 */
function findDefinition(name: string): AttributeSetDefinition | undefined {
  const lower = name.toLowerCase();
  return DEFINITIONS.find((d) => d.name.toLowerCase() === lower);
}

/** The canonical spelling of a set name, or undefined when the set does not exist. */
export function canonicalSetName(name: string): string | undefined {
  return findDefinition(name)?.name;
}

/** The canonical spelling of an attribute of a set, or undefined when the set has no such one. */
export function canonicalAttributeName(setName: string, name: string): string | undefined {
  const definition = findDefinition(setName);
  if (definition === undefined) {
    return undefined;
  }
  const lower = name.toLowerCase();
  const known = Object.keys(definition.attributes).find((a) => a.toLowerCase() === lower);
  if (known !== undefined) {
    return known;
  }
  return definition.open ? name : undefined;
}

export type ValueCheck = { ok: true; value: AttributeValue } | { ok: false; error: RestErrorBody };

/** Checks one value against its attribute's type; normalises booleans and integers. */
export function checkValue(setName: string, attribute: string, value: unknown): ValueCheck {
  const where = `'${attribute}' in attribute set '${setName}'`;
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
    return {
      ok: false,
      error: restErrorBody(
        ErrorCode.invalidDataType,
        `The value of ${where} must be a string, number or boolean.`,
      ),
    };
  }
  const kind = findDefinition(setName)?.attributes[attribute] ?? 'any';
  switch (kind) {
    case 'email':
      return typeof value === 'string' && /^[^\s@]+@[^\s@]+$/.test(value)
        ? { ok: true, value }
        : {
            ok: false,
            error: restErrorBody(
              ErrorCode.incorrectFormat,
              `The value of ${where} is not a valid email address.`,
            ),
          };
    case 'boolean': {
      if (typeof value === 'boolean') {
        return { ok: true, value };
      }
      const text = String(value).toLowerCase();
      return text === 'true' || text === 'false'
        ? { ok: true, value: text === 'true' }
        : {
            ok: false,
            error: restErrorBody(
              ErrorCode.invalidDataType,
              `The value of ${where} must be true or false.`,
            ),
          };
    }
    case 'country':
      return typeof value === 'string' && /^[A-Za-z]{2}$/.test(value)
        ? { ok: true, value }
        : {
            ok: false,
            error: restErrorBody(
              ErrorCode.incorrectFormat,
              `The value of ${where} must be a two-letter country code, e.g. "US".`,
            ),
          };
    case 'integer': {
      const number = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
      return typeof number === 'number' && Number.isSafeInteger(number)
        ? { ok: true, value: number }
        : {
            ok: false,
            error: restErrorBody(
              ErrorCode.invalidDataType,
              `The value of ${where} must be an integer.`,
            ),
          };
    }
    default:
      return { ok: true, value };
  }
}

/**
 * The rule SF-1 states per call ("You must also include this attribute set if you include Email
 * Demographics", likewise LINE): checked on the request as sent, not on the stored contact, so a
 * PATCH of Email Demographics alone is refused although the contact has Email Addresses.
 */
export function checkRequestSets(setNames: Iterable<string>): RestErrorBody[] {
  const sent = new Set([...setNames].map((n) => canonicalSetName(n) ?? n));
  const errors: RestErrorBody[] = [];
  for (const definition of DEFINITIONS) {
    if (!sent.has(definition.name)) {
      continue;
    }
    for (const needed of definition.requiresSets) {
      if (!sent.has(needed)) {
        errors.push(
          restErrorBody(
            ErrorCode.missingRequiredField,
            `Attribute set '${definition.name}' must be sent with attribute set '${needed}' in the same call.`,
          ),
        );
      }
    }
  }
  return errors;
}

/**
 * The rules SF-1 states for the contact as it would be stored (stored values merged with the
 * request's), so an update may send only what changes but may not leave a required value empty:
 * at least one channel set (Email Addresses, MobileConnect Demographics, MobilePush Demographics,
 * or LINE Addresses with LINE Subscriptions) and each set's required values. An empty string counts as no value.
 */
export function checkContact(sets: AttributeSets): RestErrorBody[] {
  const errors: RestErrorBody[] = [];
  const has = (name: string) => sets[name] !== undefined;
  const hasChannel =
    has(EMAIL_ADDRESSES) ||
    has('MobileConnect Demographics') ||
    has('MobilePush Demographics') ||
    (has(LINE_ADDRESSES) && has(LINE_SUBSCRIPTIONS));
  if (!hasChannel) {
    errors.push(
      restErrorBody(
        ErrorCode.missingRequiredField,
        'A contact must include at least one of the attribute sets Email Addresses, ' +
          'MobileConnect Demographics, MobilePush Demographics, or GroupConnect LINE Addresses ' +
          'with GroupConnect LINE Subscriptions.',
      ),
    );
  }
  for (const definition of DEFINITIONS) {
    const values = sets[definition.name];
    if (values === undefined) {
      continue;
    }
    // Set dependencies are per call (`checkRequestSets`): a stored contact met them when written.
    for (const group of definition.required) {
      if (!group.some((name) => values[name] !== undefined && values[name] !== '')) {
        errors.push(
          restErrorBody(
            ErrorCode.missingRequiredField,
            `Attribute set '${definition.name}' requires a value for ` +
              `${group.map((n) => `'${n}'`).join(' or ')}.`,
          ),
        );
      }
    }
  }
  return errors;
}
