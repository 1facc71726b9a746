/**
 * REST throttling. SF-8/SF-9 publish no numbers, only the answer: 429, errorcode 50100, a
 * `Retry-After` header in seconds and the same value as `retryAfter` in the body. The sandbox lets
 * tests choose the limit.
 */

import type { SandboxResponse } from '../shared/types.js';
import { ERROR_DOCUMENTATION_URL, ErrorCode, json } from './wire.js';

export interface ThrottleSettings {
  /** REST calls allowed per window. */
  limit: number;
  windowMs: number;
}

/**
 * A sliding window over the REST calls it let through. Rejected calls do not count, so a client
 * that waits `Retry-After` seconds gets through.
 */
export class Throttle {
  private settings: ThrottleSettings | null = null;
  private accepted: number[] = [];

  set(settings: ThrottleSettings | null): void {
    if (settings !== null) {
      if (!Number.isSafeInteger(settings.limit) || settings.limit < 1) {
        throw new RangeError(`throttle limit must be a whole number ≥ 1, got ${settings.limit}`);
      }
      if (!Number.isFinite(settings.windowMs) || settings.windowMs <= 0) {
        throw new RangeError(`throttle windowMs must be > 0, got ${settings.windowMs}`);
      }
    }
    this.settings = settings === null ? null : { ...settings };
    this.accepted = [];
  }

  /** Counts one call; answers the 429 when it is over the limit. */
  take(now: number = Date.now()): SandboxResponse | undefined {
    if (this.settings === null) {
      return undefined;
    }
    const { limit, windowMs } = this.settings;
    this.accepted = this.accepted.filter((at) => at > now - windowMs);
    const oldest = this.accepted[0];
    if (this.accepted.length < limit || oldest === undefined) {
      this.accepted.push(now);
      return undefined;
    }
    const retryAfter = Math.max(1, Math.ceil((oldest + windowMs - now) / 1000));
    // SF-9's example body, key order included.
    return json(
      429,
      {
        message: 'Rate limit exceeded',
        errorcode: ErrorCode.rateLimited,
        retryAfter,
        documentation: ERROR_DOCUMENTATION_URL,
      },
      { 'retry-after': String(retryAfter) },
    );
  }
}
