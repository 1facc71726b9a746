import type { JsonObject } from '../../model/contact.js';
import { type OptionChecks, type ProviderOptionsPart, passThroughField } from '../options.js';
import { validateOverrideFlags } from './mapping.js';

export interface DigitalOnboardingProviderOptions {
  /** Extra `X-Operator-Override` flags (`force`, `bypass_validation=email_format` …). */
  overrides?: string[] | null;
  /** `X-Operator-Override: destructive` (DO-1's standard flag set) on the write. */
  destructive?: boolean | null;
  /** Merged into the wire body after mapping. */
  passThrough?: JsonObject | null;
}

declare module '../../model/contact.js' {
  interface ProviderOptions {
    digitalOnboarding?: DigitalOnboardingProviderOptions | null;
  }
}

/** `providerOptions.digitalOnboarding`. */
export const digitalOnboardingProviderOptions: ProviderOptionsPart<DigitalOnboardingProviderOptions> =
  {
    description: 'Digital Onboarding extras.',
    input: (builder) =>
      builder.inputType('DigitalOnboardingOptionsInput', {
        description: 'Digital Onboarding-only extras.',
        fields: (t) => ({
          overrides: t.stringList({
            description:
              'Extra `X-Operator-Override` flags: `force`, `bulk`, `bypass_validation=email_format|phone_format`. `dry_run` comes from WriteOptions.dryRun and `destructive` from `destructive`; those two and unknown flags are refused here as InputErrors.',
          }),
          destructive: t.boolean({
            description:
              'Sends `X-Operator-Override: destructive` with the write (DO-1 lists it in the standard flag set of `POST /v2/partner/contacts`; a header flag, so `passThrough` cannot carry it). Also sent on the PATCH of a linked contact, like the other flags. Shown in dry runs. Null or false: not sent.',
          }),
          passThrough: t.field(PASS_THROUGH),
        }),
      }),
    validate: validateOptions,
  };

/** `overrides` (known flags only) and `destructive`; undefined when neither is given. */
function validateOptions(
  value: Record<string, unknown>,
  path: string,
  c: OptionChecks,
): Omit<DigitalOnboardingProviderOptions, 'passThrough'> | undefined {
  let out: Omit<DigitalOnboardingProviderOptions, 'passThrough'> | undefined;
  const overrides = value['overrides'];
  if (Array.isArray(overrides)) {
    const flags = overrides.filter((f): f is string => typeof f === 'string');
    const problem = validateOverrideFlags(flags);
    if (problem !== null) {
      c.add(`${path}.overrides`, 'INVALID_VALUE', problem);
    }
    out = { overrides: flags };
  } else if (overrides === null) {
    out = { overrides: null };
  }
  const destructive = value['destructive'];
  if (typeof destructive === 'boolean') {
    out = { ...out, destructive };
  }
  return out;
}

/** `passThrough`: where its keys are merged. */
const PASS_THROUGH = passThroughField(
  'Merged into the contact body (POST /v2/partner/contacts, PATCH /v2/partner/contacts/{id}) after mapping; no OpenAPI document exists for this API, so only the shape is checked.',
);
