/**
 * The `UpstreamError` kinds: code defaults and the one retryability rule, per kind.
 */
import { describe, expect, it } from 'vitest';
import {
  answeredError,
  asUpstreamError,
  toProviderErrorInfo,
  UpstreamBadResponseError,
  UpstreamCancelledError,
  UpstreamConnectionError,
  UpstreamError,
  UpstreamNotSentError,
  UpstreamRateLimitedError,
  UpstreamRejectedError,
  UpstreamTimeoutError,
} from '../../../src/model/errors.js';

const P = 'NOTIFUSE' as const;

describe('UpstreamError kinds', () => {
  it('transport kinds carry their gateway code and are retryable', () => {
    const timeout = new UpstreamTimeoutError(P, { message: 't' });
    const connection = new UpstreamConnectionError(P, { message: 'c' });
    const cancelled = new UpstreamCancelledError(P, { message: 'x' });
    expect([timeout, connection, cancelled].map((e) => [e.kind, e.code, e.retryable])).toEqual([
      ['timeout', 'UPSTREAM_TIMEOUT', true],
      ['connection', 'UPSTREAM_UNAVAILABLE', true],
      ['cancelled', 'UPSTREAM_UNAVAILABLE', true],
    ]);
    expect(timeout).toBeInstanceOf(UpstreamError);
    expect(timeout.name).toBe('UpstreamError');
  });

  it.each([
    [400, 'BAD_REQUEST', false],
    [401, 'UNAUTHORIZED', false],
    [403, 'FORBIDDEN', false],
    [404, 'NOT_FOUND', false],
    [408, 'UPSTREAM_TIMEOUT', true],
    [409, 'CONFLICT', false],
    [422, 'BAD_REQUEST', false],
    [429, 'RATE_LIMITED', true],
    [500, 'UPSTREAM_HTTP_ERROR', true],
    [501, 'UPSTREAM_HTTP_ERROR', false],
    [503, 'UPSTREAM_HTTP_ERROR', true],
  ])('an answered %i reads as %s, retryable %s', (status, code, retryable) => {
    const err = answeredError(P, { message: 'm', httpStatus: status });
    expect(err).toBeInstanceOf(status === 429 ? UpstreamRateLimitedError : UpstreamRejectedError);
    expect(err.toInfo()).toEqual({
      code,
      message: 'm',
      httpStatus: status,
      retryable,
      details: null,
    });
  });

  it("the provider's verdict overrides the status, and its own code is kept", () => {
    const blocked = answeredError(P, {
      code: '50200',
      message: 'm',
      httpStatus: 429,
      transient: false,
    });
    expect([blocked.code, blocked.retryable]).toEqual(['50200', false]);
    const permission = answeredError(P, { message: 'm', httpStatus: 500, transient: false });
    expect(permission.retryable).toBe(false);
  });

  it('a garbled answer is retryable, an oversized one is not', () => {
    expect(new UpstreamBadResponseError(P, { message: 'm', httpStatus: 200 }).retryable).toBe(true);
    const big = new UpstreamBadResponseError(P, { message: 'm', oversized: true });
    expect([big.code, big.retryable]).toEqual(['UPSTREAM_BAD_RESPONSE', false]);
  });

  it('not sent: an open breaker is retryable, a spent budget is not', () => {
    const open = new UpstreamNotSentError(P, { code: 'CIRCUIT_OPEN', message: 'm' });
    const spent = new UpstreamNotSentError(P, { code: 'TOO_MANY_UPSTREAM_CALLS', message: 'm' });
    expect([open.retryable, spent.retryable]).toEqual([true, false]);
  });

  it('anything else is INTERNAL, not retryable, its message not leaked', () => {
    const bug = new Error('secret request body');
    const err = asUpstreamError(P, bug);
    expect(err.kind).toBe('internal');
    expect(err.cause).toBe(bug);
    expect(toProviderErrorInfo(P, bug)).toEqual({
      code: 'INTERNAL',
      message: 'Internal error while calling NOTIFUSE',
      httpStatus: null,
      retryable: false,
      details: null,
    });
    const known = new UpstreamTimeoutError(P, { message: 't' });
    expect(asUpstreamError(P, known)).toBe(known);
  });
});
