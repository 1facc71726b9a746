/**
 * The three built-in identifiers of a Dotdigital contact and what their values must look like.
 * The sandbox account defines no custom identifiers, so every other name is unknown.
 */

export type IdentifierName = 'contactId' | 'email' | 'mobileNumber';

export const IDENTIFIER_NAMES: readonly IdentifierName[] = ['contactId', 'email', 'mobileNumber'];

/** DD-OAS path parameter `identifier`: 1–50 characters of this class. */
export const IDENTIFIER_PATTERN = /^[-A-Za-z0-9_]{1,50}$/;

/** DD-OAS path parameter `value`: 1–256 characters. */
export const MAX_VALUE_LENGTH = 256;

export function isIdentifierName(name: string): name is IdentifierName {
  return (IDENTIFIER_NAMES as readonly string[]).includes(name);
}

/**
 * Dotdigital does not publish its address grammar. The sandbox takes a common subset of RFC 5322
 * (dot-atom local part, dotted host names ending in a letters-only TLD) so that obviously broken
 * values such as the OAS example `bob@emailsim@io.com` fail and ordinary ones with `+` pass.
 */
const EMAIL =
  /^(?!\.)(?!.*\.\.)[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}(?<!\.)@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;

export function isEmailAddress(value: string): boolean {
  return value.length <= 254 && EMAIL.test(value);
}

/**
 * DD-OAS / DD-3: mobile numbers are E.164, and every example is digits only (`447123123123`).
 * Decision: the sandbox refuses a leading `+` (and spaces, dashes) so that an adapter that forgets
 * to strip it is caught here rather than by the real API; E.164 allows at most 15 digits and no
 * country code starts with 0. Seven digits is the shortest the sandbox accepts.
 */
const MOBILE = /^[1-9][0-9]{6,14}$/;

export function isMobileNumber(value: string): boolean {
  return MOBILE.test(value);
}

/** DD-OAS `contactId`: an integer >= 0. In a path it arrives as decimal digits. */
export function parseContactId(value: string): number | undefined {
  if (!/^[0-9]{1,15}$/.test(value)) {
    return undefined;
  }
  return Number(value);
}

/** Why `value` cannot be a value of `identifier`, or undefined when it can. */
export function identifierValueProblem(
  identifier: IdentifierName,
  value: string,
): string | undefined {
  if (value.length < 1 || value.length > MAX_VALUE_LENGTH) {
    return `The value must be 1 to ${MAX_VALUE_LENGTH} characters long`;
  }
  switch (identifier) {
    case 'email':
      return isEmailAddress(value) ? undefined : 'Not a valid email address';
    case 'mobileNumber':
      return isMobileNumber(value)
        ? undefined
        : 'Not a valid mobile number: E.164 digits without a leading +, e.g. 447123123123';
    default:
      return parseContactId(value) === undefined
        ? 'Not a valid contactId: an integer >= 0'
        : undefined;
  }
}

/** Emails are compared case-insensitively; mobile numbers are digits already. */
export function identifierKey(identifier: 'email' | 'mobileNumber', value: string): string {
  return identifier === 'email' ? value.toLowerCase() : value;
}

/**
 * DD-OAS `contact_channelProperties_sms.countryCode` is the ISO 3166-1 alpha-2 code of the mobile
 * number. The sandbox only needs a plausible value: it reads the calling code from a short table
 * (longest prefix first) and falls back to GB, the country of the default r1 (Europe) region.
 * Shared calling codes (1 = US/CA/Caribbean, 7 = RU/KZ) take their largest member.
 */
const CALLING_CODES: ReadonlyArray<readonly [string, string]> = [
  ['353', 'IE'],
  ['351', 'PT'],
  ['44', 'GB'],
  ['49', 'DE'],
  ['33', 'FR'],
  ['31', 'NL'],
  ['32', 'BE'],
  ['34', 'ES'],
  ['39', 'IT'],
  ['41', 'CH'],
  ['45', 'DK'],
  ['46', 'SE'],
  ['47', 'NO'],
  ['48', 'PL'],
  ['61', 'AU'],
  ['64', 'NZ'],
  ['65', 'SG'],
  ['81', 'JP'],
  ['91', 'IN'],
  ['1', 'US'],
  ['7', 'RU'],
];

export function countryCodeOf(mobileNumber: string): string {
  for (const [prefix, country] of CALLING_CODES) {
    if (mobileNumber.startsWith(prefix)) {
      return country;
    }
  }
  return 'GB';
}
