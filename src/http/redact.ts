import type { ProviderErrorInfo } from '../model/errors.js';

const URL_USERINFO = /([a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+:[^/\s@]+@/gi;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g;
const SECRET_PARAM = /\b(api[_-]?key|client_secret|password|token|access_token)=([^&\s"']+)/gi;

/**
 * Scrubs credentials out of free text before it reaches a log: URL userinfo, bearer/basic
 * credentials, and `key=value` secrets in query strings.
 */
export function redactText(text: string): string {
  return text
    .replace(URL_USERINFO, '$1[redacted]@')
    .replace(BEARER, '$1 [redacted]')
    .replace(SECRET_PARAM, '$1=[redacted]');
}

/**
 * An error scrubber for a client that holds `secret`: its message and every string in its details
 * with the secret (4 characters or more) replaced by `[redacted]`, then `redactText`.
 */
export function secretScrubber(secret: string): (info: ProviderErrorInfo) => ProviderErrorInfo {
  const scrubText = (text: string) =>
    redactText(secret.length >= 4 ? text.split(secret).join('[redacted]') : text);
  const scrubValue = (value: unknown): unknown => {
    if (typeof value === 'string') {
      return scrubText(value);
    }
    if (Array.isArray(value)) {
      return value.map(scrubValue);
    }
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubValue(v)]));
    }
    return value;
  };
  return (info) => ({
    ...info,
    message: scrubText(info.message),
    details: info.details ? (scrubValue(info.details) as Record<string, unknown>) : null,
  });
}
