/**
 * The account's contact data fields (Dotdigital v2 "Contact data fields" API, OpenAPI 2.0.1 in
 * the public catalog: `GET /v2/data-fields`, `POST /v2/data-fields`). A v3 write naming a data
 * field the account lacks is refused (400 `contacts:invalidContacts`, DD-10's example shape; in an
 * import, that contact fails alone).
 */
import type { SandboxResponse } from '../shared/types.js';

export type DataFieldType = 'String' | 'Numeric' | 'Date' | 'Boolean';
export type DataFieldVisibility = 'Public' | 'Private';

export interface DataField {
  name: string;
  type: DataFieldType;
  visibility: DataFieldVisibility;
  defaultValue: unknown;
}

const TYPES: ReadonlySet<string> = new Set(['String', 'Numeric', 'Date', 'Boolean']);
const VISIBILITIES: ReadonlySet<string> = new Set(['Public', 'Private']);
/** The v2 document: "a maximum of 20 characters … alphanumeric … hyphens and underscores". */
export const DATA_FIELD_NAME_PATTERN = /^[A-Za-z0-9_-]{1,20}$/;

/**
 * The data fields a new sandbox account has: those every Dotdigital account starts with in the
 * v2 document's example (FIRSTNAME, LASTNAME, FULLNAME) plus GENDER, POSTCODE and LASTSUBSCRIBED,
 * which accounts also ship with (sandbox decision).
 */
export const DEFAULT_DATA_FIELDS: readonly DataField[] = Object.freeze([
  { name: 'FIRSTNAME', type: 'String', visibility: 'Public', defaultValue: null },
  { name: 'LASTNAME', type: 'String', visibility: 'Public', defaultValue: null },
  { name: 'FULLNAME', type: 'String', visibility: 'Public', defaultValue: null },
  { name: 'GENDER', type: 'String', visibility: 'Public', defaultValue: null },
  { name: 'POSTCODE', type: 'String', visibility: 'Public', defaultValue: null },
  { name: 'LASTSUBSCRIBED', type: 'Date', visibility: 'Public', defaultValue: null },
]);

/** Names compare case-insensitively (Dotdigital shows and returns them upper-cased). */
export class DataFieldRegistry {
  /**
   * @param byName the fields by upper-cased name, kept by the caller (the store keeps it as a
   * plain Map so that a sandbox snapshot carries it); filled with `initial` when empty.
   */
  constructor(
    private readonly byName: Map<string, DataField> = new Map(),
    initial: readonly DataField[] = DEFAULT_DATA_FIELDS,
  ) {
    if (byName.size === 0) {
      this.reset(initial);
    }
  }

  list(): DataField[] {
    return [...this.byName.values()].map((f) => ({ ...f }));
  }

  has(name: string): boolean {
    return this.byName.has(name.toUpperCase());
  }

  /** Names among `dataFields`' keys that the account has no data field for. */
  unknown(dataFields: Record<string, unknown> | undefined): string[] {
    return Object.keys(dataFields ?? {}).filter((name) => !this.has(name));
  }

  /** Adds a field (tests and `POST /v2/data-fields`); false when the name exists. */
  add(field: DataField): boolean {
    const key = field.name.toUpperCase();
    if (this.byName.has(key)) {
      return false;
    }
    this.byName.set(key, { ...field, name: key });
    return true;
  }

  reset(fields: readonly DataField[] = DEFAULT_DATA_FIELDS): void {
    this.byName.clear();
    for (const f of fields) {
      this.add(f);
    }
  }
}

/** v2 errors are `{message}` with the code at the end (`Field already exists. ERROR_NON_UNIQUE_DATAFIELD`). */
function v2Error(status: number, message: string): SandboxResponse {
  return { status, body: { message } };
}

/** `GET /v2/data-fields` → 200 every data field of the account. */
export function listDataFields(registry: DataFieldRegistry): SandboxResponse {
  return { status: 200, body: registry.list() };
}

/**
 * `POST /v2/data-fields` `{name, type, visibility?, defaultValue?}` → 201 the field. A name that
 * exists: 400 `ERROR_NON_UNIQUE_DATAFIELD` (the wording Dotdigital's own connectors match on).
 * A bad name, type or visibility: 400 `ERROR_PARAMETER_INVALID` (sandbox decision).
 */
export function createDataField(registry: DataFieldRegistry, body: unknown): SandboxResponse {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return v2Error(400, 'The request body must be a JSON object. ERROR_PARAMETER_INVALID');
  }
  const b = body as Record<string, unknown>;
  const name = b['name'];
  const type = b['type'];
  const visibility = b['visibility'] ?? 'Private';
  if (typeof name !== 'string' || !DATA_FIELD_NAME_PATTERN.test(name)) {
    return v2Error(
      400,
      'name must be 1 to 20 letters, digits, hyphens or underscores. ERROR_PARAMETER_INVALID',
    );
  }
  if (typeof type !== 'string' || !TYPES.has(type)) {
    return v2Error(
      400,
      'type must be one of String, Numeric, Date, Boolean. ERROR_PARAMETER_INVALID',
    );
  }
  if (typeof visibility !== 'string' || !VISIBILITIES.has(visibility)) {
    return v2Error(400, 'visibility must be Public or Private. ERROR_PARAMETER_INVALID');
  }
  const field: DataField = {
    name: name.toUpperCase(),
    type: type as DataFieldType,
    visibility: visibility as DataFieldVisibility,
    defaultValue: b['defaultValue'] ?? null,
  };
  if (!registry.add(field)) {
    return v2Error(400, 'Field already exists. ERROR_NON_UNIQUE_DATAFIELD');
  }
  return { status: 201, body: field };
}
