import { z } from 'zod';

/** An optional variable: unset and blank are the same, values are trimmed. */
export const optionalVar = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

export { intVar } from '../env-section.js';

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
  /**
   * The provider's config, `build` from its variables `e` once `group`'s credentials (the
   * variables named in `required`) are all set (`requireAll`), else null. When they are set,
   * every set URL named in `urls` is checked (`checkUrl`).
   */
  configured<E extends Record<string, unknown>, const R extends keyof E & string, C>(
    group: string,
    e: E,
    required: readonly R[],
    urls: ReadonlyArray<keyof E & string>,
    build: (set: E & { [K in R]: NonNullable<E[K]> }) => C,
  ): C | null;
  /**
   * A JSON value from one variable, read with `schema`: `undefined` when unset; `undefined` and a
   * problem (`<NAME> must be a JSON object`, or `<NAME>: <rule>`) when it is not what it says.
   */
  json<T>(name: string, raw: string | undefined, schema: z.ZodType<T>, rule: string): T | undefined;
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
  const tools: EnvTools = {
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
    configured(group, e, required, urls, build) {
      const vars = Object.fromEntries(
        required.map((name) => [name, e[name] as string | undefined]),
      );
      if (!tools.requireAll(group, vars)) {
        return null;
      }
      for (const name of urls) {
        tools.checkUrl(name, e[name] as string | undefined);
      }
      return build(e as Parameters<typeof build>[0]);
    },
    json(name, raw, schema, rule) {
      if (raw === undefined) {
        return undefined;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        problems.push(`${name} must be a JSON object`);
        return undefined;
      }
      const result = schema.safeParse(parsed);
      if (!result.success) {
        problems.push(`${name}: ${rule}`);
        return undefined;
      }
      return result.data;
    },
    jsonMap(name, raw, value, rule) {
      return tools.json(name, raw, z.record(z.string(), value), rule) ?? {};
    },
  };
  return tools;
}
