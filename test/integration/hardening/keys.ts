/** API keys the hardening tests configure (each at least 24 characters, as the config requires). */
export const READ_KEY = 'test-read-key-0123456789abcdef';
export const WRITE_KEY = 'test-write-key-0123456789abcdef';
export const FULL_KEY = 'test-full-key-0123456789abcdef';

export const KEYS = [
  { name: 'reader', key: READ_KEY, scopes: ['contacts:read'] },
  { name: 'writer', key: WRITE_KEY, scopes: ['contacts:write'] },
  { name: 'partner', key: FULL_KEY, scopes: ['contacts:read', 'contacts:write'] },
];

export const KEYS_ENV = { GATEWAY_API_KEYS: JSON.stringify(KEYS) };

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** Requests every provider sandbox of a test gateway has received so far. */
export function upstreamRequests(t: {
  sandboxes: { sandboxes: ReadonlyArray<{ sandbox: { controls: { requestCount(): number } } }> };
}): number {
  return t.sandboxes.sandboxes.reduce((n, s) => n + s.sandbox.controls.requestCount(), 0);
}
