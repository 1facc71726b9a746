/**
 * Bearer tokens, scopes and `X-Operator-Override` flags (DO-AUTH, DO-OVR of the
 * partner API documentation).
 */
import type { DoError } from './errors.js';
import { doError } from './errors.js';

/** Scope names as DO-AUTH lists them (`<surface>:<resource>:<action>`). */
export const CONTACT_SCOPES = {
  read: 'partner:contacts:read',
  write: 'partner:contacts:write',
  delete: 'partner:contacts:delete',
} as const;

/** What the main token carries: every contact scope. */
export const ALL_CONTACT_SCOPES: readonly string[] = Object.values(CONTACT_SCOPES);

/** The standard flag set (DO-OVR; listed on DO-1's `X-Operator-Override` parameter). */
export const OVERRIDE_FLAGS = [
  'destructive',
  'bulk',
  'force',
  'bypass_validation',
  'dry_run',
] as const;
export type OverrideFlag = (typeof OVERRIDE_FLAGS)[number];

/**
 * Validator names `bypass_validation` accepts. Only these two appear anywhere in the docs (DO-OVR);
 * no full list is published, so any other name is refused (400) rather than silently ignored.
 */
export const VALIDATORS = ['email_format', 'phone_format'] as const;
export type Validator = (typeof VALIDATORS)[number];

export interface Overrides {
  readonly flags: ReadonlySet<OverrideFlag>;
  readonly bypass: ReadonlySet<Validator>;
}

export const NO_OVERRIDES: Overrides = { flags: new Set(), bypass: new Set() };

export type OverridesResult = { ok: true; value: Overrides } | { ok: false; error: DoError };

function isFlag(value: string): value is OverrideFlag {
  return (OVERRIDE_FLAGS as readonly string[]).includes(value);
}

function isValidator(value: string): value is Validator {
  return (VALIDATORS as readonly string[]).includes(value);
}

function invalid(detail: string, meta: Record<string, unknown>): OverridesResult {
  return { ok: false, error: doError('override_invalid', 'Invalid override', detail, meta) };
}

/**
 * Parses `<flag>[=<value>[|<value>]*],...` (DO-OVR). Whitespace around items is ignored and so are
 * empty items (`bulk,`), since the docs say nothing either way. An unknown flag is a 400
 * `override_unknown` (DO-OVR's behaviour for it was not readable: sandbox decision, §1.8 q7); a
 * value on a flag that takes none, a `bypass_validation` without a validator, or an unknown
 * validator is a 400 `override_invalid`.
 */
export function parseOverrides(header: string | undefined): OverridesResult {
  const flags = new Set<OverrideFlag>();
  const bypass = new Set<Validator>();
  for (const rawItem of (header ?? '').split(',')) {
    const item = rawItem.trim();
    if (item === '') {
      continue;
    }
    const eq = item.indexOf('=');
    const name = (eq === -1 ? item : item.slice(0, eq)).trim();
    const value = eq === -1 ? undefined : item.slice(eq + 1).trim();
    if (!isFlag(name)) {
      return {
        ok: false,
        error: doError(
          'override_unknown',
          'Unknown override',
          `X-Operator-Override flag ${JSON.stringify(name)} is not known; known flags: ${OVERRIDE_FLAGS.join(', ')}`,
          { override: name },
        ),
      };
    }
    if (name === 'bypass_validation') {
      if (value === undefined || value === '') {
        return invalid(
          'bypass_validation needs the validator(s) to skip, e.g. bypass_validation=email_format|phone_format',
          { override: name },
        );
      }
      for (const rawValidator of value.split('|')) {
        const validator = rawValidator.trim();
        if (!isValidator(validator)) {
          return invalid(
            `bypass_validation: unknown validator ${JSON.stringify(validator)}; known validators: ${VALIDATORS.join(', ')}`,
            { override: name, validator },
          );
        }
        bypass.add(validator);
      }
    } else if (value !== undefined) {
      return invalid(`override flag ${name} takes no value`, { override: name });
    }
    flags.add(name);
  }
  return { ok: true, value: { flags, bypass } };
}

/** The header value in a canonical order, so equal flag sets fingerprint alike (idempotency). */
export function canonicalOverrides(overrides: Overrides): string {
  return [...overrides.flags]
    .sort()
    .map((flag) =>
      flag === 'bypass_validation' ? `${flag}=${[...overrides.bypass].sort().join('|')}` : flag,
    )
    .join(',');
}

/**
 * An allowed-overrides entry: a flag name, or `bypass_validation=<validator>` to allow only that
 * validator (`bypass_validation` alone allows every validator).
 */
export function checkAllowedEntry(entry: string): void {
  if (isFlag(entry)) {
    return;
  }
  const match = /^bypass_validation=(.+)$/.exec(entry);
  if (match && isValidator(match[1] ?? '')) {
    return;
  }
  throw new TypeError(
    `unknown override ${JSON.stringify(entry)}; use one of ${OVERRIDE_FLAGS.join(', ')} or bypass_validation=<${VALIDATORS.join('|')}>`,
  );
}

interface TokenEntry {
  scopes: string[];
  /** undefined = every documented flag */
  overrides: string[] | undefined;
}

export class TokenRegistry {
  private readonly tokens = new Map<string, TokenEntry>();

  add(token: string, scopes: readonly string[]): void {
    if (token === '') {
      throw new TypeError('a token must be a non-empty string');
    }
    const existing = this.tokens.get(token);
    this.tokens.set(token, { scopes: [...scopes], overrides: existing?.overrides });
  }

  setAllowedOverrides(token: string, flags: readonly string[]): void {
    const entry = this.tokens.get(token);
    if (entry === undefined) {
      throw new Error('setAllowedOverrides: unknown token; add it with addToken first');
    }
    for (const flag of flags) {
      checkAllowedEntry(flag);
    }
    entry.overrides = [...flags];
  }

  has(token: string): boolean {
    return this.tokens.has(token);
  }

  /** Whether `token` carries `scope` itself or through a wildcard (`partner:contacts:*`). */
  hasScope(token: string, scope: string): boolean {
    const required = scope.split(':');
    return (this.tokens.get(token)?.scopes ?? []).some((granted) => {
      const parts = granted.split(':');
      return (
        parts.length === required.length &&
        parts.every((part, i) => part === '*' || part === required[i])
      );
    });
  }

  /** The first override in `overrides` this token may not use, as written in the header. */
  forbiddenOverride(token: string, overrides: Overrides): string | undefined {
    const allowed = this.tokens.get(token)?.overrides;
    if (allowed === undefined) {
      return undefined;
    }
    for (const flag of overrides.flags) {
      if (flag === 'bypass_validation') {
        if (allowed.includes(flag)) {
          continue;
        }
        const refused = [...overrides.bypass].find((v) => !allowed.includes(`${flag}=${v}`));
        if (refused !== undefined) {
          return `${flag}=${refused}`;
        }
      } else if (!allowed.includes(flag)) {
        return flag;
      }
    }
    return undefined;
  }
}
