import { z } from 'zod';

/** A whole number between `min` and `max`, `def` when unset. */
export const intVar = (def: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(def);

/**
 * One section of the environment read with `schema`: its values, or null when it does not parse,
 * each issue then added to `problems` (`<VARIABLE>: <message>`; never the value itself).
 */
export function readEnvSection<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined>,
  problems: string[],
): z.infer<S> | null {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    problems.push(...parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
    return null;
  }
  return parsed.data;
}
