import type { InputErrorInfo, ProviderErrorInfo } from '../model/errors.js';
import { builder } from './builder.js';
import { orNull } from './fields.js';
import { providerNotes } from './notes.js';
import { visibleDetails } from './visibility.js';

export const ErrorInterface = builder.interfaceRef<{ message: string }>('Error').implement({
  description: 'Anything that went wrong, described for people.',
  fields: (t) => ({
    message: t.exposeString('message', { description: 'What went wrong, in words.' }),
  }),
});

export const ProviderErrorRef = builder.objectRef<ProviderErrorInfo>('ProviderError').implement({
  description:
    'A provider-side failure for one contact. Never contains credentials or the bodies the gateway sent.',
  interfaces: [ErrorInterface],
  isTypeOf: (v) => typeof v === 'object' && v !== null && 'retryable' in v,
  fields: (t) => ({
    code: t.exposeString('code', {
      description: `The provider's own error code when it has one${providerNotes('ProviderError.code', { open: ' (e.g. ', join: ', ' })}, else the gateway's: UNAUTHORIZED, FORBIDDEN, BAD_REQUEST, NOT_FOUND, CONFLICT, RATE_LIMITED, CIRCUIT_OPEN, UPSTREAM_TIMEOUT, UPSTREAM_UNAVAILABLE, UPSTREAM_BAD_RESPONSE, UPSTREAM_HTTP_ERROR, MISSING_REQUIRED_FIELD, PROVIDER_NOT_ENABLED, PROVIDER_NOT_LINKED, TOO_MANY_UPSTREAM_CALLS (the request's GATEWAY_MAX_UPSTREAM_CALLS budget was spent; not sent).`,
    }),
    message: t.exposeString('message', { description: 'What went wrong, in words.' }),
    httpStatus: t.int(
      orNull('httpStatus', 'The HTTP status the provider answered with; null when no answer came.'),
    ),
    retryable: t.exposeBoolean('retryable', {
      description: 'Whether sending the same write again could succeed.',
    }),
    details: t.field({
      type: 'JSONObject',
      nullable: true,
      description:
        "Extra facts (e.g. `retryAfterMs`, rate-limit headers, an import id). A write-only key (no `contacts:read`) sees only the operational keys (retry and rate-limit facts, ids, `requiredScope`, `errorcode`), not the provider's item-level error texts; null when none is left.",
      resolve: (e, _args, ctx) => visibleDetails(e.details ?? null, ctx),
    }),
  }),
});

export const InputErrorRef = builder.objectRef<InputErrorInfo>('InputError').implement({
  description: 'A bad input value, found before any provider was called.',
  interfaces: [ErrorInterface],
  isTypeOf: (v) => typeof v === 'object' && v !== null && 'field' in v,
  fields: (t) => ({
    field: t.exposeString('field', {
      description:
        'Dotted path of the bad value from the argument name, e.g. `input.address.country` or `inputs.3.email`.',
    }),
    code: t.exposeString('code', {
      description:
        'INVALID_EMAIL, INVALID_PHONE, INVALID_TIMEZONE, INVALID_DATE, INVALID_COUNTRY, INVALID_LANGUAGE, INVALID_VALUE, IDENTITY_REQUIRED or NOT_FOUND.',
    }),
    message: t.exposeString('message', { description: 'What is wrong and what is expected.' }),
  }),
});
