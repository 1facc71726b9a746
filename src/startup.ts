import { closest, distance } from 'fastest-levenshtein';
import { loadConfig } from './config.js';
import { PROVIDERS } from './providers/registry.js';

/**
 * Start-up friendliness: a mistyped variable (`NOTIFSE_URL`, `GATEWAY_API_KEY`) would otherwise be
 * ignored in silence and the gateway start in another mode than meant; a taken port would print
 * a raw `EADDRINUSE`.
 */

/** Prefixes of the gateway's own variables: an unknown name with one of them is a mistake. */
export const GATEWAY_PREFIXES = [
  'GATEWAY_',
  'DATABASE_',
  ...PROVIDERS.flatMap((p) => p.envPrefixes),
  'OUTBOX_',
  'IDEMPOTENCY_',
  'RETRY_',
  'BREAKER_',
] as const;

/** Variables read by others than `loadConfig` (the runtime, tools) that are never warned about. */
const ALSO_KNOWN = ['NODE_ENV', 'NODE_OPTIONS', 'DATABASE_URL'];

/**
 * Every variable name `loadConfig` reads, found by letting it read through a recording proxy: a
 * variable another module adds to the configuration is known here with no list to keep in step.
 * Read twice, with an empty environment and with the real one, so that names read only when
 * another is set are found too.
 */
export function configVariableNames(env: Record<string, string | undefined> = {}): Set<string> {
  const names = new Set<string>(ALSO_KNOWN);
  for (const source of [{}, env]) {
    const recording = new Proxy(source as Record<string, string | undefined>, {
      get(target, key) {
        if (typeof key === 'string') {
          names.add(key);
        }
        return Reflect.get(target, key);
      },
    });
    try {
      loadConfig(recording);
    } catch {
      // A configuration error is reported by the real load; the names read so far are enough.
    }
  }
  return names;
}

export interface UnknownVariable {
  name: string;
  /** The known variable it most likely means, if one is close enough. */
  suggestion: string | null;
}

/** Most edits between a typo and the name it means: about one in five characters. */
function closeEnough(a: string, b: string): boolean {
  return distance(a, b) <= Math.max(1, Math.floor(b.length / 5));
}

/**
 * Variables in `env` that look meant for the gateway but that it does not read: one of its
 * prefixes, or a name a few edits away from one it reads (`NOTIFSE_URL`).
 */
export function findUnknownVariables(
  env: Record<string, string | undefined>,
  known: ReadonlySet<string> = configVariableNames(env),
): UnknownVariable[] {
  const candidates = [...known].filter((name) => /^[A-Z][A-Z0-9_]*$/.test(name));
  const found: UnknownVariable[] = [];
  for (const name of Object.keys(env).sort()) {
    if (known.has(name)) {
      continue;
    }
    const upper = name.toUpperCase();
    const nearest = candidates.length > 0 ? closest(upper, candidates) : null;
    const near = nearest !== null && name.length >= 6 && closeEnough(upper, nearest);
    const prefixed = GATEWAY_PREFIXES.some((p) => upper.startsWith(p));
    if (prefixed || near) {
      found.push({ name, suggestion: near || upper === nearest ? nearest : null });
    }
  }
  return found;
}

/** One warning line per unknown variable. */
export function describeUnknownVariable({ name, suggestion }: UnknownVariable): string {
  return suggestion
    ? `unknown variable ${name} is ignored: did you mean ${suggestion}?`
    : `unknown variable ${name} is ignored (not a contact-gateway setting; see docs/configuration.md)`;
}

/** Exit code of a start that could not listen. */
export const LISTEN_FAILED_EXIT_CODE = 3;

/**
 * What to tell the operator when the server cannot listen: which variable to change. Null for an
 * error that is not about the address.
 */
export function describeListenError(err: unknown, host: string, port: number): string | null {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  switch (code) {
    case 'EADDRINUSE':
      return `cannot listen on ${where}: the port is taken by another process. Stop it, or set PORT to another port (PORT=0 takes any free one).`;
    case 'EACCES':
      return `cannot listen on ${where}: permission denied (ports below 1024 need privileges). Set PORT to 1024 or above.`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on ${where}: ${host} is not an address of this machine. Set HOST to one of its addresses (127.0.0.1 for this machine only).`;
    default:
      return null;
  }
}
