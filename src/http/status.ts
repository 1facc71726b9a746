import type { GatewayErrorCode } from '../model/errors.js';

/**
 * The default reading of an HTTP status for providers whose bodies carry no code of their own.
 * 408, 429 and 5xx (but 501) are worth a retry; every other 4xx is the request's fault.
 */
export function classifyStatus(status: number): { code: GatewayErrorCode; retryable: boolean } {
  switch (status) {
    case 400:
    case 405:
    case 413:
    case 415:
    case 422:
      return { code: 'BAD_REQUEST', retryable: false };
    case 401:
      return { code: 'UNAUTHORIZED', retryable: false };
    case 403:
      return { code: 'FORBIDDEN', retryable: false };
    case 404:
      return { code: 'NOT_FOUND', retryable: false };
    case 408:
      return { code: 'UPSTREAM_TIMEOUT', retryable: true };
    case 409:
      return { code: 'CONFLICT', retryable: false };
    case 429:
      return { code: 'RATE_LIMITED', retryable: true };
    default:
      return { code: 'UPSTREAM_HTTP_ERROR', retryable: status >= 500 && status !== 501 };
  }
}

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
