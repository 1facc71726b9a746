/** `Retry-After` (seconds or HTTP date) in milliseconds, when the response has one. */
export function retryAfterMs(headers: Record<string, string>, now = Date.now()): number | null {
  const raw = headers['retry-after'];
  if (raw === undefined) {
    return null;
  }
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) {
    return Math.max(0, seconds * 1000);
  }
  const at = Date.parse(raw);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

const MAX_MESSAGE = 500;

/** Shortens a provider's message; provider messages are about our request, never our secrets. */
export function clipMessage(message: string): string {
  const oneLine = message.replace(/\s+/g, ' ').trim();
  return oneLine.length > MAX_MESSAGE ? `${oneLine.slice(0, MAX_MESSAGE)}…` : oneLine;
}
