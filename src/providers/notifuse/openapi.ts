import {
  type OpenApiDocument,
  openApiValidators,
  readOpenApi,
  schemaOf,
} from '../../specs/index.js';

/**
 * The Notifuse document (`src/specs/`), `ContactInput` tightened in memory
 * (`additionalProperties: false`), so that a key the document does not define fails.
 */
export function notifuseDocument(): OpenApiDocument {
  const doc = readOpenApi('notifuse.openapi.json');
  schemaOf(doc, 'ContactInput')['additionalProperties'] = false;
  return doc;
}

/** The adapter validates `passThrough` contacts with `contact` (`ContactInput`, tightened). */
export const notifuseValidators = openApiValidators(notifuseDocument, { contact: 'ContactInput' });
