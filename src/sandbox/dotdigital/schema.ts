import type { ErrorObject, ValidateFunction } from 'ajv';
import { dotdigitalValidators } from '../../providers/dotdigital/openapi.js';
import type { ErrorDetail } from './errors.js';

/**
 * Request validation against Dotdigital's own OpenAPI document (DD-OAS 3.4.3), kept once in
 * `src/specs/` (with its two in-memory patches, see `src/providers/dotdigital/openapi.ts`).
 */
export interface Validators {
  /** PATCH body: DD-OAS `updateContactRequest`. */
  updateContact: ValidateFunction;
  /** PUT /contacts/v3/import body: DD-OAS `v3_import_body`. */
  importBody: ValidateFunction;
}

/** Compiled on first use, so importing the sandbox stays cheap. */
export function getValidators(): Validators {
  return dotdigitalValidators();
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
