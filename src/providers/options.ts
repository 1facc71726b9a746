import type { InputObjectRef, SchemaTypes } from '@pothos/core';
import type { GatewayErrorCode } from '../model/errors.js';
import type { builder } from '../schema/builder.js';

/** The schema's builder, handed to each provider's option input. */
export type SchemaBuilder = typeof builder;

type BuilderTypes =
  SchemaBuilder extends PothosSchemaTypes.SchemaBuilder<infer T extends SchemaTypes> ? T : never;

/** What a provider's option check needs of the input validation (`src/contacts/validation.ts`). */
export interface OptionChecks {
  /** Records an InputError on `path` (returns undefined, for `return checks.add(…)`). */
  add(path: string, code: GatewayErrorCode, message: string): undefined;
  /** A text value as every write input takes it: trimmed, not empty, no NUL, bounded length. */
  text(path: string, value: unknown): string | null | undefined;
}

/**
 * A provider's `providerOptions.<key>` (`<key>` is the descriptor's): its GraphQL input and its
 * checks. Every part also takes `passThrough`, which the validation checks for all of them alike
 * (bounded JSON, see `src/providers/pass-through.ts` for how adapters apply it).
 */
export interface ProviderOptionsPart<Value = unknown> {
  /** Description of the `ProviderOptionsInput.<key>` field. */
  description: string;
  /** Its input type (`<Name>OptionsInput`), built once on the schema's builder. */
  input(builder: SchemaBuilder): InputObjectRef<BuilderTypes, unknown>;
  /**
   * Its fields other than `passThrough`, checked and normalised from the GraphQL-coerced object;
   * undefined when none of them is given.
   */
  validate?(
    group: Record<string, unknown>,
    path: string,
    checks: OptionChecks,
  ): Omit<Value, 'passThrough'> | undefined;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The options of a part's `passThrough` input field: where its keys are merged (`merged`, a
 * sentence), then the rules every part shares.
 */
export function passThroughField(merged: string) {
  return {
    type: 'JSONObject' as const,
    description: `${merged} A key the gateway maps for this write is refused (InputError naming it). Bounded like customFields (GATEWAY_MAX_JSON_*).`,
  };
}

/** The options of a required input field (`t.string(required('…'))`, or spread beside a `type`). */
export function required(description: string) {
  return { required: true as const, description };
}
