import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { ErrorDetail } from './errors.js';

// ajv-formats is CommonJS with `export default`; under NodeNext the default import is the module.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/**
 * Request validation against Dotdigital's own OpenAPI document (DD-OAS 3.4.3), an unmodified copy
 * kept beside this file (`dotdigital-contacts-v3.openapi.json`; the contract test reads it too).
 * Two self-contradictions are patched in memory only:
 *
 * 1. Import identifiers: `contactRequest.identifiers` is `allOf [contactIdObject, identifiers]`,
 *    i.e. `contactId` must be an integer AND (through `identifiers.additionalProperties`) a string,
 *    so even the spec's own import example fails. The integer wins (`contactIdObject`, the example,
 *    the "contactId can only match" description).
 * 2. `resubscribeOptions`: PATCH and import bodies add it under `channelProperties.email` through
 *    `channelPropertiesWithResubscribe`, but the sibling `allOf` branch for the same object says
 *    `additionalProperties: false`, which rejects it. DD-OAS documents the option for these calls,
 *    so it is declared on that branch too.
 */
interface SchemaObject {
  properties?: Record<string, unknown>;
  [keyword: string]: unknown;
}

interface OpenApiDocument {
  components: { schemas: Record<string, SchemaObject | undefined> };
}

function loadDocument(): OpenApiDocument {
  const text = readFileSync(
    new URL('./dotdigital-contacts-v3.openapi.json', import.meta.url),
    'utf8',
  );
  const doc = JSON.parse(text) as OpenApiDocument;
  propertiesOf(doc, 'identifiers')['contactId'] = { type: 'integer', minimum: 0 };
  propertiesOf(doc, 'channelProperties_channelProperties_email')['resubscribeOptions'] = {
    $ref: '#/components/schemas/channelPropertiesWithResubscribe_channelProperties_email_resubscribeOptions',
  };
  return doc;
}

function propertiesOf(doc: OpenApiDocument, name: string): Record<string, unknown> {
  const schema = doc.components.schemas[name];
  if (schema?.properties === undefined) {
    throw new Error(`dotdigital-contacts-v3.openapi.json: schema ${name} has no properties`);
  }
  return schema.properties;
}

export interface Validators {
  /** PATCH body: DD-OAS `updateContactRequest`. */
  updateContact: ValidateFunction;
  /** PUT /contacts/v3/import body: DD-OAS `v3_import_body`. */
  importBody: ValidateFunction;
}

let validators: Validators | undefined;

/** Compiled on first use, so importing the sandbox stays cheap. */
export function getValidators(): Validators {
  if (validators === undefined) {
    // strict: false because OAS 3.0 keywords (`example`, `nullable`) are not JSON Schema.
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema(loadDocument(), 'dotdigital');
    const compile = (name: string) =>
      ajv.compile({ $ref: `dotdigital#/components/schemas/${name}` });
    validators = {
      updateContact: compile('updateContactRequest'),
      importBody: compile('v3_import_body'),
    };
  }
  return validators;
}

/**
 * ajv errors as errorResponse details: `item` is the JSON pointer of the offending value (for a
 * missing or extra property, of that property), relative to `base`; the whole body is `body`.
 */
export function toDetails(errors: readonly ErrorObject[], base = ''): ErrorDetail[] {
  const seen = new Set<string>();
  const details: ErrorDetail[] = [];
  for (const error of errors) {
    const item = pointerOf(error).slice(base.length) || 'body';
    const description = describe(error);
    const key = `${item}\u0000${description}`;
    if (!seen.has(key)) {
      seen.add(key);
      details.push({ item, description });
    }
  }
  return details;
}

function pointerOf(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  const property =
    error.keyword === 'required'
      ? params['missingProperty']
      : error.keyword === 'additionalProperties'
        ? params['additionalProperty']
        : undefined;
  return typeof property === 'string'
    ? `${error.instancePath}/${property.replaceAll('~', '~0').replaceAll('/', '~1')}`
    : error.instancePath;
}

function describe(error: ErrorObject): string {
  const message = error.message ?? `fails ${error.keyword}`;
  const allowed = (error.params as Record<string, unknown>)['allowedValues'];
  return Array.isArray(allowed) ? `${message}: ${allowed.join(', ')}` : message;
}
