import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS with `export default`; under NodeNext the default import is the module.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/**
 * The providers' own OpenAPI documents, one copy each in this folder (see README.md), compiled
 * with Ajv on first use: the Dotdigital sandbox validates requests with them, the adapters
 * validate `passThrough` bodies with them, the contract tests validate every body sent.
 *
 * Dotdigital (DD-OAS 3.4.3): two self-contradictions are patched in memory only:
 * 1. Import identifiers: `contactRequest.identifiers` is `allOf [contactIdObject, identifiers]`,
 *    i.e. `contactId` must be an integer AND (through `identifiers.additionalProperties`) a string,
 *    so even the spec's own import example fails. The integer wins.
 * 2. `resubscribeOptions`: PATCH and import bodies add it under `channelProperties.email` through
 *    `channelPropertiesWithResubscribe`, but the sibling `allOf` branch for the same object says
 *    `additionalProperties: false`, which rejects it; it is declared on that branch too.
 * Notifuse: `ContactInput` is tightened (`additionalProperties: false`), so that a key the
 * document does not define fails.
 */
interface SchemaObject {
  properties?: Record<string, unknown>;
  [keyword: string]: unknown;
}
interface OpenApiDocument {
  components: { schemas: Record<string, SchemaObject | undefined> };
  paths: Record<string, Record<string, { parameters?: unknown[] }>>;
}

function read(name: string): OpenApiDocument {
  return JSON.parse(readFileSync(new URL(`./${name}`, import.meta.url), 'utf8')) as OpenApiDocument;
}

function propertiesOf(doc: OpenApiDocument, name: string): Record<string, unknown> {
  const schema = doc.components.schemas[name];
  if (schema?.properties === undefined) {
    throw new Error(`OpenAPI schema ${name} has no properties`);
  }
  return schema.properties;
}

/** The Dotdigital v3 contacts document, with the two patches above. */
export function dotdigitalDocument(): OpenApiDocument {
  const doc = read('dotdigital-contacts-v3.openapi.json');
  propertiesOf(doc, 'identifiers')['contactId'] = { type: 'integer', minimum: 0 };
  propertiesOf(doc, 'channelProperties_channelProperties_email')['resubscribeOptions'] = {
    $ref: '#/components/schemas/channelPropertiesWithResubscribe_channelProperties_email_resubscribeOptions',
  };
  return doc;
}

/** The Notifuse document, `ContactInput` tightened. */
export function notifuseDocument(): OpenApiDocument {
  const doc = read('notifuse.openapi.json');
  const contact = doc.components.schemas['ContactInput'];
  if (contact === undefined) {
    throw new Error('notifuse.openapi.json has no ContactInput');
  }
  contact['additionalProperties'] = false;
  return doc;
}

export interface SpecValidators {
  dotdigital: {
    /** PATCH body: `updateContactRequest`. */
    updateContact: ValidateFunction;
    /** PUT /contacts/v3/import body: `v3_import_body`. */
    importBody: ValidateFunction;
  };
  notifuse: {
    upsert: ValidateFunction;
    import: ValidateFunction;
    /** One contact: `ContactInput` (tightened). */
    contact: ValidateFunction;
  };
}

let compiled: SpecValidators | undefined;

/** Compiled on first use, so importing stays cheap. */
export function specValidators(): SpecValidators {
  if (compiled === undefined) {
    // strict: false because OAS 3.0 keywords (`example`, `nullable`) are not JSON Schema.
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addFormat('float', true);
    ajv.addSchema(dotdigitalDocument(), 'dotdigital');
    ajv.addSchema(notifuseDocument(), 'notifuse');
    const compile = (doc: string, name: string) =>
      ajv.compile({ $ref: `${doc}#/components/schemas/${name}` });
    compiled = {
      dotdigital: {
        updateContact: compile('dotdigital', 'updateContactRequest'),
        importBody: compile('dotdigital', 'v3_import_body'),
      },
      notifuse: {
        upsert: compile('notifuse', 'UpsertContactRequest'),
        import: compile('notifuse', 'BatchImportContactsRequest'),
        contact: compile('notifuse', 'ContactInput'),
      },
    };
  }
  return compiled;
}

/** The first Ajv error as `<pointer> <message>`, for a refusal message. */
export function firstProblem(errors: readonly ErrorObject[] | null | undefined): string {
  const e = errors?.[0];
  if (e === undefined) {
    return 'does not match the provider document';
  }
  const params = e.params as Record<string, unknown>;
  const extra =
    typeof params['additionalProperty'] === 'string'
      ? ` (${params['additionalProperty']})`
      : Array.isArray(params['allowedValues'])
        ? `: ${(params['allowedValues'] as unknown[]).join(', ')}`
        : '';
  return `${e.instancePath || '/'} ${e.message ?? e.keyword}${extra}`;
}
