import type { ValidateFunction } from 'ajv';
import type { JsonObject } from '../model/contact.js';
import type { ProviderErrorInfo } from '../model/errors.js';
import { firstProblem } from '../specs/index.js';

/**
 * `providerOptions.<provider>.passThrough` (#15 item 9): what a provider's document offers but the
 * unified model cannot say (channel properties, attribute sets beyond the map, list statuses, …), merged into the wire body after
 * mapping. It never overwrites what the gateway mapped: a key the mapped body already has with a
 * value that is not an object to merge into is refused, naming the field. Where the provider
 * publishes an OpenAPI document the merged body is validated against it.
 */
export const PASS_THROUGH_ERROR = 'INVALID_PASS_THROUGH';

/** Keys that would reach an object's prototype: never merged. */
export const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export type MergeResult<T> = { ok: true; body: T } | { ok: false; field: string; message: string };

/**
 * Deep merge of `extra` into a copy of `body`: objects merge key by key; any other value may only
 * fill a key the body does not have. `field` names the option (`providerOptions.x.passThrough`).
 */
export function mergePassThrough<T extends object>(
  body: T,
  extra: JsonObject,
  field: string,
): MergeResult<T> {
  const out = structuredClone(body) as Record<string, unknown>;
  const stack: Array<{ target: Record<string, unknown>; source: JsonObject; at: string }> = [
    { target: out, source: extra, at: field },
  ];
  while (stack.length > 0) {
    const { target, source, at } = stack.pop()!;
    for (const [key, value] of Object.entries(source)) {
      const here = `${at}.${key}`;
      if (FORBIDDEN.has(key)) {
        return { ok: false, field: here, message: `${here}: the key ${key} is not allowed` };
      }
      if (!Object.hasOwn(target, key)) {
        target[key] = structuredClone(value);
      } else if (isPlainObject(target[key]) && isPlainObject(value)) {
        stack.push({ target: target[key] as Record<string, unknown>, source: value, at: here });
      } else {
        return {
          ok: false,
          field: here,
          message: `${here} would overwrite a field the gateway maps for this write; set it through the unified field instead`,
        };
      }
    }
  }
  return { ok: true, body: out as T };
}

/** The merged body against the provider's OpenAPI schema; the problem names the option field. */
export function schemaProblem(
  validate: ValidateFunction,
  body: unknown,
  field: string,
): { field: string; message: string } | null {
  if (validate(body)) {
    return null;
  }
  return {
    field,
    message: `${field}: the body with it does not match the provider's OpenAPI document: ${firstProblem(validate.errors)}`,
  };
}

/** The refusal of a write whose pass-through cannot be applied (nothing is sent). */
export function passThroughError(problem: { field: string; message: string }): ProviderErrorInfo {
  return {
    code: PASS_THROUGH_ERROR,
    message: problem.message,
    httpStatus: null,
    retryable: false,
    details: { field: problem.field },
  };
}

/**
 * Merge `extra` into `body` and, where the provider publishes an OpenAPI document, validate the
 * merged body against it: the merged body, or the refusal that stops the write (nothing is sent).
 */
export function applyPassThrough<T extends object>(
  body: T,
  extra: JsonObject,
  field: string,
  validate?: ValidateFunction,
): { ok: true; body: T } | { ok: false; error: ProviderErrorInfo } {
  const merged = mergePassThrough(body, extra, field);
  if (!merged.ok) {
    return { ok: false, error: passThroughError(merged) };
  }
  const problem = validate ? schemaProblem(validate, merged.body, field) : null;
  return problem ? { ok: false, error: passThroughError(problem) } : merged;
}

/**
 * A mapped write with the caller's pass-through merged in by `merge`: as it is without `extra` or
 * when the mapping already refused it; FAILED with the merge's error (the mapping's dropped fields
 * kept, and their reasons with `keepReasons`) when the merge refuses.
 */
export function withPassThrough<T extends { ok: boolean }>(
  mapped: T,
  extra: JsonObject | null | undefined,
  merge: (
    mapped: Extract<T, { ok: true }>,
    extra: JsonObject,
  ) => Extract<T, { ok: true }> | { ok: false; error: ProviderErrorInfo },
  keepReasons = false,
): T {
  if (!mapped.ok || !extra) {
    return mapped;
  }
  const m = mapped as Extract<T, { ok: true }> & {
    droppedFields: string[];
    droppedFieldReasons?: unknown;
  };
  const merged = merge(m, extra);
  if (merged.ok) {
    return merged;
  }
  const { error } = merged as { error: ProviderErrorInfo };
  const reasons = keepReasons ? m.droppedFieldReasons : undefined;
  return {
    ok: false,
    status: 'FAILED',
    error,
    droppedFields: m.droppedFields,
    ...(reasons === undefined ? {} : { droppedFieldReasons: reasons }),
  } as unknown as T;
}

/**
 * `withPassThrough` for a plan whose wire body is its `key` field: `extra` merged into that body
 * and, where the provider publishes an OpenAPI document, the result validated with `validate`.
 */
export function withBodyPassThrough<T extends { ok: boolean }>(
  mapped: T,
  extra: JsonObject | null | undefined,
  at: { field: string; key: string; validate?: ValidateFunction; keepReasons?: boolean },
): T {
  return withPassThrough(
    mapped,
    extra,
    (m, more) => {
      const body = (m as unknown as Record<string, object>)[at.key]!;
      const merged = applyPassThrough(body, more, at.field, at.validate);
      return merged.ok ? { ...m, [at.key]: merged.body } : merged;
    },
    at.keepReasons,
  );
}
