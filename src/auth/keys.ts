import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { Secret } from '../secret.js';
import { SCOPES, type Scope } from './scopes.js';

/** One entry of `GATEWAY_API_KEYS`. */
export interface ApiKey {
  /** Shown in logs and rate-limit errors instead of the key. */
  name: string;
  key: Secret;
  scopes: readonly Scope[];
}

/** Shortest key accepted: short keys are guessable and usually a placeholder left in. */
export const MIN_KEY_LENGTH = 24;

const KeySchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1–64 letters, digits, . _ -'),
    key: z
      .string()
      .min(MIN_KEY_LENGTH, `must be at least ${MIN_KEY_LENGTH} characters`)
      .max(512, 'must be at most 512 characters')
      .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces'),
    scopes: z.array(z.enum(SCOPES)).min(1, `must list at least one of ${SCOPES.join(', ')}`),
  })
  .strict();

/**
 * `GATEWAY_API_KEYS`: a JSON array of `{name, key, scopes}`. Problems name the entry and field,
 * never the key itself.
 */
export function parseApiKeys(raw: string | undefined, problems: string[]): ApiKey[] {
  if (raw === undefined) {
    return [];
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    problems.push('GATEWAY_API_KEYS must be a JSON array of {"name", "key", "scopes"}');
    return [];
  }
  const result = z.array(KeySchema).safeParse(parsed);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const at = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`));
      problems.push(`GATEWAY_API_KEYS${at.join('')}: ${issue.message}`);
    }
    return [];
  }
  const names = new Set<string>();
  const digests = new Set<string>();
  const duplicates: string[] = [];
  result.data.forEach((entry, i) => {
    if (names.has(entry.name)) {
      duplicates.push(`GATEWAY_API_KEYS[${i}].name: "${entry.name}" is used twice`);
    }
    const digest = sha256(entry.key).toString('hex');
    if (digests.has(digest)) {
      duplicates.push(`GATEWAY_API_KEYS[${i}].key: the same key is listed twice`);
    }
    names.add(entry.name);
    digests.add(digest);
  });
  if (duplicates.length > 0) {
    problems.push(...duplicates);
    return [];
  }
  return result.data.map((entry) => ({
    name: entry.name,
    key: new Secret(entry.key),
    scopes: [...new Set(entry.scopes)],
  }));
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Finds the key a caller presented. Both sides are hashed to equal length and compared with
 * `timingSafeEqual`, and every configured key is compared (no early exit), so the time taken says
 * nothing about how much of a key was right or which entry matched.
 */
export function createKeyVerifier(keys: readonly ApiKey[]): (presented: string) => ApiKey | null {
  const table = keys.map((key) => ({ key, digest: sha256(key.key.reveal()) }));
  return (presented) => {
    const digest = sha256(presented);
    let match: ApiKey | null = null;
    for (const entry of table) {
      if (timingSafeEqual(entry.digest, digest) && match === null) {
        match = entry.key;
      }
    }
    return match;
  };
}
