import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS with `export default`; under NodeNext the default import is the module.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/**
 * The providers' own OpenAPI documents, one copy each in this folder (see README.md). A provider's
 * folder says which of them it uses, how it patches it in memory and which of its schemas it
 * compiles (`src/providers/<name>/openapi.ts`): its sandbox validates requests with them, its
 * adapter validates `passThrough` bodies with them, the contract tests validate every body sent.
 */
interface SchemaObject {
  properties?: Record<string, unknown>;
  [keyword: string]: unknown;
}
export interface OpenApiDocument {
  components: { schemas: Record<string, SchemaObject | undefined> };
  paths: Record<string, Record<string, { parameters?: unknown[] }>>;
}

/** The document `name` of this folder, parsed (a fresh copy: a caller may patch it). */
export function readOpenApi(name: string): OpenApiDocument {
  return JSON.parse(readFileSync(new URL(`./${name}`, import.meta.url), 'utf8')) as OpenApiDocument;
}

/** The schema `name` of `doc`, which must exist. */
export function schemaOf(doc: OpenApiDocument, name: string): SchemaObject {
  const schema = doc.components.schemas[name];
  if (schema === undefined) {
    throw new Error(`OpenAPI document has no schema ${name}`);
  }
  return schema;
}

/** The properties of the schema `name` of `doc`, which must have some. */
export function propertiesOf(doc: OpenApiDocument, name: string): Record<string, unknown> {
  const { properties } = schemaOf(doc, name);
  if (properties === undefined) {
    throw new Error(`OpenAPI schema ${name} has no properties`);
  }
  return properties;
}

/**
 * Validators for the named schemas of `load()`'s document (`{key: schema name}`), compiled on
 * first call, so importing stays cheap; later calls answer the same functions.
 */
export function openApiValidators<K extends string>(
  load: () => OpenApiDocument,
  schemas: Record<K, string>,
): () => Record<K, ValidateFunction> {
  let compiled: Record<K, ValidateFunction> | undefined;
  return () => {
    if (compiled === undefined) {
      // strict: false because OAS 3.0 keywords (`example`, `nullable`) are not JSON Schema.
      const ajv = new Ajv({ strict: false, allErrors: true });
      addFormats(ajv);
      ajv.addFormat('float', true);
      ajv.addSchema(load(), 'doc');
      compiled = Object.fromEntries(
        Object.entries<string>(schemas).map(([key, name]) => [
          key,
          ajv.compile({ $ref: `doc#/components/schemas/${name}` }),
        ]),
      ) as Record<K, ValidateFunction>;
    }
    return compiled;
  };
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
