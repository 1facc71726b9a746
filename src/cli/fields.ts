/**
 * Column → ContactInput mapping for the import CLI. Pure: no I/O.
 *
 * A target is a dotted path into ContactInput: `email`, `address.city`, `emailConsent.status`,
 * `customFields.plan`. Column names map by default when they name a field in any common spelling
 * (`first_name`, `First Name`, `firstName` → `firstName`); `--map column=field` adds or overrides,
 * and `--map column=-` ignores a column.
 */

type Kind = 'string' | 'boolean' | { enum: readonly string[] };

const CONSENT_STATUS = ['BOUNCED', 'COMPLAINED', 'PENDING', 'SUBSCRIBED', 'SUPPRESSED', 'UNKNOWN'];
const OPT_IN_TYPE = ['DOUBLE', 'SINGLE', 'UNKNOWN', 'VERIFIED_DOUBLE'];
const EMAIL_FORMAT = ['HTML', 'PLAIN_TEXT'];

/** Every scalar ContactInput field a column can fill (customFields.<key> aside). */
export const CONTACT_FIELDS: Readonly<Record<string, Kind>> = {
  externalId: 'string',
  email: 'string',
  phone: 'string',
  homePhone: 'string',
  workPhone: 'string',
  firstName: 'string',
  lastName: 'string',
  namePrefix: 'string',
  nameSuffix: 'string',
  jobTitle: 'string',
  birthdate: 'string',
  timezone: 'string',
  language: 'string',
  emailFormat: { enum: EMAIL_FORMAT },
  'address.line1': 'string',
  'address.line2': 'string',
  'address.city': 'string',
  'address.state': 'string',
  'address.county': 'string',
  'address.postalCode': 'string',
  'address.country': 'string',
  'emailConsent.status': { enum: CONSENT_STATUS },
  'emailConsent.optInType': { enum: OPT_IN_TYPE },
  'emailConsent.verified': 'boolean',
  'emailConsent.authorized': 'boolean',
  'smsConsent.status': { enum: CONSENT_STATUS },
  'smsConsent.optInType': { enum: OPT_IN_TYPE },
  'smsConsent.verified': 'boolean',
  'smsConsent.authorized': 'boolean',
};

/** Object-valued fields an NDJSON line may give whole. */
const OBJECT_FIELDS = new Set(['address', 'emailConsent', 'smsConsent', 'customFields']);

/** Extra spellings (normalised: lower case, letters and digits only) beyond the field names. */
const ALIASES: Readonly<Record<string, string>> = {
  id: 'externalId',
  externalid: 'externalId',
  emailaddress: 'email',
  mail: 'email',
  mobile: 'phone',
  mobilephone: 'phone',
  phonenumber: 'phone',
  cellphone: 'phone',
  firstname: 'firstName',
  givenname: 'firstName',
  forename: 'firstName',
  lastname: 'lastName',
  surname: 'lastName',
  familyname: 'lastName',
  title: 'namePrefix',
  prefix: 'namePrefix',
  suffix: 'nameSuffix',
  dateofbirth: 'birthdate',
  dob: 'birthdate',
  birthday: 'birthdate',
  timezone: 'timezone',
  tz: 'timezone',
  locale: 'language',
  address1: 'address.line1',
  addressline1: 'address.line1',
  street: 'address.line1',
  address2: 'address.line2',
  addressline2: 'address.line2',
  city: 'address.city',
  town: 'address.city',
  state: 'address.state',
  region: 'address.state',
  province: 'address.state',
  county: 'address.county',
  postalcode: 'address.postalCode',
  postcode: 'address.postalCode',
  zip: 'address.postalCode',
  zipcode: 'address.postalCode',
  country: 'address.country',
  countrycode: 'address.country',
};

const normalise = (name: string) => name.toLowerCase().replace(/[^a-z0-9]/g, '');

const BY_NORMALISED: ReadonlyMap<string, string> = new Map([
  ...Object.keys(CONTACT_FIELDS).map((f) => [normalise(f), f] as const),
  ...Object.entries(ALIASES),
]);

/** `null`: ignore the column. */
export type Target = string | null;

export class MapError extends Error {
  override name = 'MapError';
}

/** Checks a `--map` target: a known field, `customFields.<key>`, or `-` (ignore). */
export function parseTarget(target: string): Target {
  const t = target.trim();
  if (t === '-') {
    return null;
  }
  if (t in CONTACT_FIELDS) {
    return t;
  }
  if (/^customFields\.[^.\s]+$/.test(t)) {
    return t;
  }
  const guess = BY_NORMALISED.get(normalise(t));
  throw new MapError(
    `unknown field "${t}"${guess ? ` (did you mean ${guess}?)` : ''}: use a ContactInput field (${Object.keys(CONTACT_FIELDS).join(', ')}), customFields.<key>, or - to ignore the column`,
  );
}

/** Parses `--map a=email,b=customFields.plan` (repeatable; later entries win). */
export function parseMap(specs: readonly string[]): Map<string, Target> {
  const map = new Map<string, Target>();
  for (const spec of specs) {
    for (const part of spec.split(',')) {
      if (part.trim() === '') {
        continue;
      }
      const eq = part.lastIndexOf('=');
      if (eq <= 0) {
        throw new MapError(`bad --map entry "${part}": expected column=field`);
      }
      map.set(part.slice(0, eq).trim(), parseTarget(part.slice(eq + 1)));
    }
  }
  return map;
}

/** The default target of a column name, or undefined when it names no field. */
export function defaultTarget(column: string): string | undefined {
  if (column in CONTACT_FIELDS || OBJECT_FIELDS.has(column)) {
    return column;
  }
  const custom = /^(?:customFields|custom)[._](.+)$/.exec(column);
  if (custom) {
    return `customFields.${custom[1]}`;
  }
  return BY_NORMALISED.get(normalise(column));
}

export interface RowMapper {
  /** Builds the ContactInput of one record, or the reasons it cannot be sent. */
  map(record: Record<string, unknown>): { input: Record<string, unknown> } | { errors: string[] };
  /** Columns seen that map to nothing (reported once). */
  readonly unmapped: ReadonlySet<string>;
}

function coerce(
  column: string,
  kind: Kind,
  value: unknown,
): { value: unknown } | { error: string } {
  if (kind === 'string') {
    return typeof value === 'string'
      ? { value }
      : typeof value === 'number' || typeof value === 'boolean'
        ? { value: String(value) }
        : { error: `${column}: expected a string` };
  }
  if (kind === 'boolean') {
    if (typeof value === 'boolean') {
      return { value };
    }
    const s = String(value).trim().toLowerCase();
    if (['true', 'yes', 'y', '1'].includes(s)) {
      return { value: true };
    }
    if (['false', 'no', 'n', '0'].includes(s)) {
      return { value: false };
    }
    return { error: `${column}: expected true or false, got "${String(value)}"` };
  }
  const s = String(value)
    .trim()
    .toUpperCase()
    .replace(/[\s-]+/g, '_');
  return kind.enum.includes(s)
    ? { value: s }
    : { error: `${column}: expected one of ${kind.enum.join(', ')}, got "${String(value)}"` };
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const dot = path.indexOf('.');
  if (dot < 0) {
    target[path] = value;
    return;
  }
  const head = path.slice(0, dot);
  const inner = (target[head] ?? {}) as Record<string, unknown>;
  inner[path.slice(dot + 1)] = value;
  target[head] = inner;
}

/**
 * A mapper for records keyed by column (CSV) or by top-level key (NDJSON). Empty cells are
 * omitted (never sent as null: a CSV import does not clear fields).
 */
export function createRowMapper(overrides: ReadonlyMap<string, Target>): RowMapper {
  const unmapped = new Set<string>();
  const targets = new Map<string, Target>();
  const targetOf = (column: string): Target => {
    let t = targets.get(column);
    if (t === undefined) {
      t = overrides.has(column) ? overrides.get(column)! : (defaultTarget(column) ?? null);
      if (t === null && !overrides.has(column)) {
        unmapped.add(column);
      }
      targets.set(column, t);
    }
    return t;
  };
  return {
    unmapped,
    map(record) {
      const input: Record<string, unknown> = {};
      const errors: string[] = [];
      const put = (column: string, target: string, raw: unknown) => {
        if (raw === undefined || raw === null || raw === '') {
          return;
        }
        if (target === 'customFields' || OBJECT_FIELDS.has(target)) {
          if (typeof raw !== 'object' || Array.isArray(raw)) {
            errors.push(`${column}: expected an object`);
          } else if (target === 'customFields') {
            input[target] = { ...(input[target] as object), ...raw };
          } else {
            for (const [k, v] of Object.entries(raw)) {
              put(`${column}.${k}`, `${target}.${k}`, v);
            }
          }
          return;
        }
        if (target.startsWith('customFields.')) {
          setPath(input, target, raw);
          return;
        }
        const kind = CONTACT_FIELDS[target];
        if (!kind) {
          errors.push(`${column}: no such field ${target}`);
          return;
        }
        const c = coerce(column, kind, raw);
        if ('error' in c) {
          errors.push(c.error);
        } else {
          setPath(input, target, typeof c.value === 'string' ? c.value.trim() : c.value);
        }
      };
      for (const [column, raw] of Object.entries(record)) {
        const target = targetOf(column);
        if (target !== null) {
          put(column, target, raw);
        }
      }
      return errors.length > 0 ? { errors } : { input };
    },
  };
}
