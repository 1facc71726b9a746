import {
  type OpenApiDocument,
  openApiValidators,
  propertiesOf,
  readOpenApi,
} from '../../specs/index.js';

/**
 * Dotdigital's contacts document (DD-OAS 3.4.3, `src/specs/`), with two self-contradictions
 * patched in memory only:
 * 1. Import identifiers: `contactRequest.identifiers` is `allOf [contactIdObject, identifiers]`,
 *    i.e. `contactId` must be an integer AND (through `identifiers.additionalProperties`) a string,
 *    so even the spec's own import example fails. The integer wins.
 * 2. `resubscribeOptions`: PATCH and import bodies add it under `channelProperties.email` through
 *    `channelPropertiesWithResubscribe`, but the sibling `allOf` branch for the same object says
 *    `additionalProperties: false`, which rejects it; it is declared on that branch too.
 */
export function dotdigitalDocument(): OpenApiDocument {
  const doc = readOpenApi('dotdigital-contacts-v3.openapi.json');
  propertiesOf(doc, 'identifiers')['contactId'] = { type: 'integer', minimum: 0 };
  propertiesOf(doc, 'channelProperties_channelProperties_email')['resubscribeOptions'] = {
    $ref: '#/components/schemas/channelPropertiesWithResubscribe_channelProperties_email_resubscribeOptions',
  };
  return doc;
}

/** The sandbox validates requests with these, the adapter `passThrough` bodies. */
export const dotdigitalValidators = openApiValidators(dotdigitalDocument, {
  /** PATCH body. */
  updateContact: 'updateContactRequest',
  /** PUT /contacts/v3/import body. */
  importBody: 'v3_import_body',
});
