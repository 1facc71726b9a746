import type { SandboxResponse } from '../shared/types.js';

const HTML_UNSAFE = /[<>&\u2028\u2029]/g;

/**
 * What Go's `json.NewEncoder(w).Encode(v)` writes: HTML-sensitive characters and U+2028/U+2029
 * escaped as `\u00XX`, and a trailing newline. Object key order is the caller's (struct order);
 * use `sortKeysDeep` for values that Go holds in maps.
 */
export function goJsonEncode(value: unknown): string {
  const json = JSON.stringify(value).replace(
    HTML_UNSAFE,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return `${json}\n`;
}

/** Go encodes `map[string]any` with its keys sorted. */
export function sortKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(sortKeysDeep);
  }
  if (value !== null && typeof value === 'object') {
    const source = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(source).sort()) {
      out[key] = sortKeysDeep(source[key]);
    }
    return out;
  }
  return value;
}

/** Notifuse's `writeJSON` / `WriteJSONError`: `Content-Type: application/json`, Go encoding. */
export function goJson(status: number, value: unknown): SandboxResponse {
  return { status, headers: { 'content-type': 'application/json' }, text: goJsonEncode(value) };
}

export function goJsonError(status: number, message: string): SandboxResponse {
  return goJson(status, { error: message });
}

/** Go's `http.Error`: text/plain, nosniff, message plus newline. */
export function goHttpError(status: number, message: string): SandboxResponse {
  return {
    status,
    headers: {
      'content-type': 'text/plain; charset=utf-8',
      'x-content-type-options': 'nosniff',
    },
    text: `${message}\n`,
  };
}
