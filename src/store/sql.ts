/** Helpers shared by the SQL stores. */

/** A timestamptz column as the ISO string the stores hand out. */
export function iso(value: unknown): string {
  return (value instanceof Date ? value : new Date(String(value))).toISOString();
}

/** A value for a `$n::jsonb` parameter (always stringified here: `pg` would send arrays as SQL arrays). */
export function json(value: unknown): string {
  return JSON.stringify(value) ?? 'null';
}

/** Thrown inside a transaction when a concurrent writer changed what it read: retry it. */
export class Contended extends Error {
  constructor(what: string) {
    super(`concurrent change: ${what}`);
    this.name = 'Contended';
  }
}

/** PostgreSQL errors a transaction may simply be run again for. */
const RETRYABLE_SQLSTATES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '23505', // unique_violation (a concurrent insert of the same key)
]);

export function isRetryable(err: unknown): boolean {
  if (err instanceof Contended) {
    return true;
  }
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && RETRYABLE_SQLSTATES.has(code);
}

/** Runs `fn` again (up to `attempts` times in all) while it fails with a retryable error. */
export async function withRetry<T>(fn: () => Promise<T>, attempts = 8): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= attempts || !isRetryable(err)) {
        throw err;
      }
      // A little jitter so two contenders do not collide again in lockstep.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
    }
  }
}
