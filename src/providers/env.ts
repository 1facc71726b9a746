import { z } from 'zod';

/** An optional variable: unset and blank are the same, values are trimmed. */
export const optionalVar = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

/** A whole number between `min` and `max`, `def` when unset. */
export const intVar = (def: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(def);

/** What a provider's environment reader is given: problems are collected, never thrown. */
export interface EnvTools {
  readonly problems: string[];
  /**
   * Whether every variable of `vars` is set. Some but not all set: each missing one is a problem
   * (`<NAME> is required when <group> is configured`).
   */
  requireAll(group: string, vars: Record<string, string | undefined>): boolean;
  /** A problem when `value` is set and not an http(s) URL. */
  checkUrl(name: string, value: string | undefined): void;
  /** A JSON object of string → string from one variable, each value checked by `value`. */
  jsonMap(
    name: string,
    raw: string | undefined,
    value: z.ZodString,
    rule: string,
  ): Record<string, string>;
}

function isHttpUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

export function createEnvTools(problems: string[]): EnvTools {
  return {
    problems,
    requireAll(group, vars) {
      const set = Object.entries(vars).filter(([, v]) => v !== undefined);
      if (set.length === 0) {
        return false;
      }
      for (const [name, v] of Object.entries(vars)) {
        if (v === undefined) {
          problems.push(`${name} is required when ${group} is configured`);
        }
      }
      return set.length === Object.keys(vars).length;
    },
    checkUrl(name, value) {
      if (value !== undefined && !isHttpUrl(value)) {
        problems.push(`${name} must be an http(s) URL`);
      }
    },
    jsonMap(name, raw, value, rule) {
      if (raw === undefined) {
        return {};
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        problems.push(`${name} must be a JSON object`);
        return {};
      }
      const result = z.record(z.string(), value).safeParse(parsed);
      if (!result.success) {
        problems.push(`${name}: ${rule}`);
        return {};
      }
      return result.data;
    },
  };
}
