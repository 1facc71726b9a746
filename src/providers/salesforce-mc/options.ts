import type { JsonObject } from '../../model/contact.js';
import type { ProviderOptionsPart } from '../options.js';
import { passThroughField } from '../options.js';

export interface SalesforceMcProviderOptions {
  /** Merged into the wire body after mapping (`src/providers/salesforce-mc/pass-through.ts`). */
  passThrough?: JsonObject | null;
}

declare module '../../model/contact.js' {
  interface ProviderOptions {
    salesforceMc?: SalesforceMcProviderOptions | null;
  }
}

/** `providerOptions.salesforceMc`: `passThrough` alone. */
export const salesforceMcProviderOptions: ProviderOptionsPart<SalesforceMcProviderOptions> = {
  description: 'Salesforce Marketing Cloud extras.',
  input: (builder) =>
    builder.inputType('SalesforceMcOptionsInput', {
      description: 'Salesforce Marketing Cloud-only extras.',
      fields: (t) => ({
        passThrough: t.field(PASS_THROUGH),
      }),
    }),
};

/** `passThrough`: where its keys are merged. */
const PASS_THROUGH = passThroughField(
  'Merged into the POST/PATCH body after mapping: `{attributeSets: {<Set name>: {<Attribute>: value}}}` (a compact form of the wire `attributeSets[].items[].values[]`) for sets of your data model beyond SFMC_ATTRIBUTE_MAP (a set the mapping also sends gets the extra values); no OpenAPI document exists, the shape is checked.',
);
