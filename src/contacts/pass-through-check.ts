import type { InputErrorInfo } from '../model/errors.js';
import { PASS_THROUGH_ERROR } from '../providers/pass-through.js';
import type { ProviderAdapter } from '../providers/types.js';
import type { ValidationResult } from './validation.js';

/**
 * `providerOptions.<provider>.passThrough` checked before any provider is called (#15 item 9):
 * each enabled adapter maps the input as a write of a contact it does not know yet (its pure
 * `planWrite`, no call) and merges the pass-through; a refusal (it would overwrite a mapped
 * field, or the merged body breaks the provider's OpenAPI document) becomes an InputError naming
 * the field (`input.providerOptions.<provider>.passThrough.<key>`). What only the
 * stored contact brings (its known email, its remote id) is checked again when the write is
 * planned, and refused there as an outcome with the same code.
 */
export function checkPassThrough(
  result: ValidationResult,
  path: string,
  adapters: readonly ProviderAdapter[],
): ValidationResult {
  if (!result.ok) {
    return result;
  }
  const { patch, options } = result.value;
  const any = Object.values(options).some(
    (o) => o !== null && typeof o === 'object' && 'passThrough' in o && o.passThrough,
  );
  if (!any) {
    return result;
  }
  const errors: InputErrorInfo[] = [];
  for (const adapter of adapters) {
    const plan = adapter.planWrite({
      ref: 'pass-through-check',
      gatewayId: 'pass-through-check',
      patch,
      known: {},
      remoteId: null,
      options,
    });
    if (!plan.ok && plan.error.code === PASS_THROUGH_ERROR) {
      const field = plan.error.details?.['field'];
      errors.push({
        field: typeof field === 'string' ? `${path}.${field}` : `${path}.providerOptions`,
        code: 'INVALID_VALUE',
        message: `${path}.${plan.error.message}`,
      });
    }
  }
  return errors.length > 0 ? { ok: false, errors } : result;
}
