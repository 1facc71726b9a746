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
