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

/** The variables that enable a provider: all set, or none (`requireAll` under `group`). */
export interface CredentialVars<R extends string> {
  /** Its name in `<NAME> is required when <group> is configured`. */
  group: string;
  required: readonly R[];
}

/** What one provider's `read` is given: the shared tools, bound to its variables. */
export interface ProviderEnvTools<E, R extends keyof E & string> extends EnvTools {
  /**
   * Its `options` and its config: `options` with what `build` makes of its variables once its
   * `credentials` are all set, else null. When they are set, every one of its variables named
   * `*_URL` is checked (`checkUrl`).
   */
  configured<O extends object, C extends object>(
    options: O,
    build: (set: E & { [K in R]: NonNullable<E[K]> }) => C,
  ): { options: O; config: (O & C) | null };
}

/** `tools` bound to one provider's variables `e` (of which `urlVars` are URLs) and credentials. */
export function providerEnvTools<E extends Record<string, unknown>, R extends keyof E & string>(
  tools: EnvTools,
  e: E,
  urlVars: readonly string[],
  credentials: CredentialVars<R> | undefined,
): ProviderEnvTools<E, R> {
  return {
    ...tools,
    configured(options, build) {
      if (credentials === undefined) {
        return { options, config: null };
      }
      const vars = Object.fromEntries(
        credentials.required.map((name) => [name, e[name] as string | undefined]),
      );
      if (!tools.requireAll(credentials.group, vars)) {
        return { options, config: null };
      }
      for (const name of urlVars) {
        tools.checkUrl(name, e[name] as string | undefined);
      }
      return { options, config: { ...options, ...build(e as Parameters<typeof build>[0]) } };
    },
  };
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
