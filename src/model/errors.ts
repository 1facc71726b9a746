import type {} from 'graphql';
import type { ProviderId } from './contact.js';

/**
 * Every `code` the gateway itself produces, in `extensions.code`, `InputError.code` and
 * `ProviderError.code` (provider-native codes such as `contacts:idAlreadyExists` are
 * passed through as they are and are not part of this union).
 */
export type GatewayErrorCode =
  // input validation
  | 'INVALID_EMAIL'
  | 'INVALID_PHONE'
  | 'INVALID_TIMEZONE'
  | 'INVALID_DATE'
  | 'INVALID_COUNTRY'
  | 'INVALID_LANGUAGE'
  | 'INVALID_VALUE'
  | 'IDENTITY_REQUIRED'
  | 'NOT_FOUND'
  | 'TOO_MANY_ITEMS'
  | 'TOO_MANY_UPSTREAM_CALLS'
  | 'BAD_USER_INPUT'
  | 'IDEMPOTENCY_CONFLICT'
  | 'IDEMPOTENCY_IN_PROGRESS'
  // provider outcomes
  | 'PROVIDER_NOT_ENABLED'
  | 'PROVIDER_NOT_LINKED'
  | 'MISSING_REQUIRED_FIELD'
  | 'UPSTREAM_TIMEOUT'
  | 'UPSTREAM_UNAVAILABLE'
  | 'UPSTREAM_BAD_RESPONSE'
  | 'UPSTREAM_HTTP_ERROR'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'BAD_REQUEST'
  | 'RATE_LIMITED'
  | 'CIRCUIT_OPEN'
  | 'CONFLICT'
  | 'INTERNAL'
  // the gateway's own durable store (PostgreSQL) did not answer
  | 'STORE_UNAVAILABLE';

declare module 'graphql' {
  interface GraphQLErrorExtensions {
    code?: GatewayErrorCode | string;
    provider?: ProviderId;
  }
}

/** A provider-side failure, as data (`ProviderOutcome.error`). Never carries secrets or bodies we sent. */
export interface ProviderErrorInfo {
  /** The provider's own code when it has one, else a `GatewayErrorCode`. */
  code: string;
  message: string;
  httpStatus?: number | null;
  retryable: boolean;
  details?: Record<string, unknown> | null;
}

/** A write refused before it is sent: the provider needs a field this contact lacks. */
export function missingRequired(message: string): ProviderErrorInfo {
  return {
    code: 'MISSING_REQUIRED_FIELD',
    message,
    httpStatus: null,
    retryable: false,
    details: null,
  };
}

/** A validation failure of one input leaf (`InputError`). */
export interface InputErrorInfo {
  /** Dotted path from the argument name, e.g. `input.address.country` or `inputs.3.email`. */
  field: string;
  code: GatewayErrorCode;
  message: string;
}

/**
 * What went wrong with a provider call. One subclass per kind; `retryable` (worth trying again,
 * now or later from the outbox) is decided for every kind in `decideRetryable` below and nowhere
 * else. Whether a retry is *allowed* (method, idempotency) and whether it is worth waiting for in
 * this call (not after a cancellation) is the retry policy's call (`src/http/resilience.ts`).
 */
export type UpstreamKind =
  /** No answer in time (transport timeouts, the call's deadline). */
  | 'timeout'
  /** No answer at all: refused, reset, unknown host. */
  | 'connection'
  /** The caller went away (the GraphQL request's signal fired). */
  | 'cancelled'
  /** HTTP 429. */
  | 'rate_limited'
  /** Any other error status, read from the provider's error body. */
  | 'rejected'
  /** An answer that is not what the provider documents, or too large. */
  | 'bad_response'
  /** The gateway did not send it: circuit breaker open, request budget spent. */
  | 'not_sent'
  /** A bug in our own code while calling the provider. */
  | 'internal';

/**
 * The default reading of an HTTP error status for providers whose bodies carry no code of their
 * own: the outcome code.
 */
export function statusCode(status: number): GatewayErrorCode {
  switch (status) {
    case 400:
    case 405:
    case 413:
    case 415:
    case 422:
      return 'BAD_REQUEST';
    case 401:
      return 'UNAUTHORIZED';
    case 403:
      return 'FORBIDDEN';
    case 404:
      return 'NOT_FOUND';
    case 408:
      return 'UPSTREAM_TIMEOUT';
    case 409:
      return 'CONFLICT';
    case 429:
      return 'RATE_LIMITED';
    default:
      return 'UPSTREAM_HTTP_ERROR';
  }
}

/** 408, 429 and 5xx (but 501) are worth a retry; every other status is the request's fault. */
export function statusIsTransient(status: number | null): boolean {
  return status === 408 || status === 429 || (status !== null && status >= 500 && status !== 501);
}

/**
 * The one place where retryability is decided. `verdict` is what a provider's error body says when
 * it says more than its status (an error code saying "do not retry" on a 429, a permission failure answered 500),
 * or `false` for a response body over the size limit.
 */
function decideRetryable(
  kind: UpstreamKind,
  code: string,
  httpStatus: number | null,
  verdict: boolean | undefined,
): boolean {
  switch (kind) {
    case 'timeout':
    case 'connection':
    // A cancelled call is not retried in the call (nobody waits for it), but the write may still
    // be delivered later (outbox).
    case 'cancelled':
      return true;
    case 'rate_limited':
    case 'rejected':
      return verdict ?? statusIsTransient(httpStatus);
    case 'bad_response':
      // A garbled answer may be transient; a body over the size limit (verdict false) is not.
      return verdict ?? true;
    case 'not_sent':
      // An open breaker closes again; a request's budget of calls stays spent.
      return code === 'CIRCUIT_OPEN';
    case 'internal':
      return false;
  }
}

export interface UpstreamErrorInit {
  /** The provider's own code when it has one; each kind has a default. */
  code?: string;
  message: string;
  httpStatus?: number | null;
  details?: Record<string, unknown> | null;
}

/**
 * Thrown inside the HTTP layer and the adapters; converted into `ProviderErrorInfo` at the adapter
 * boundary. The shape follows elastic-transport: typed fields, `cause` kept, name set. Abstract:
 * construct one of the kinds below.
 */
export abstract class UpstreamError extends Error {
  readonly kind: UpstreamKind;
  readonly provider: ProviderId;
  readonly code: string;
  readonly httpStatus: number | null;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | null;

  protected constructor(
    kind: UpstreamKind,
    provider: ProviderId,
    init: UpstreamErrorInit & { code: string },
    options?: { cause?: unknown; verdict?: boolean | undefined },
  ) {
    super(init.message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UpstreamError';
    this.kind = kind;
    this.provider = provider;
    this.code = init.code;
    this.httpStatus = init.httpStatus ?? null;
    this.details = init.details ?? null;
    this.retryable = decideRetryable(kind, this.code, this.httpStatus, options?.verdict);
  }

  toInfo(): ProviderErrorInfo {
    return {
      code: this.code,
      message: this.message,
      httpStatus: this.httpStatus,
      retryable: this.retryable,
      details: this.details,
    };
  }
}

type Cause = { cause?: unknown };

export class UpstreamTimeoutError extends UpstreamError {
  constructor(provider: ProviderId, init: UpstreamErrorInit, options?: Cause) {
    super('timeout', provider, { ...init, code: init.code ?? 'UPSTREAM_TIMEOUT' }, options);
  }
}

export class UpstreamConnectionError extends UpstreamError {
  constructor(provider: ProviderId, init: UpstreamErrorInit, options?: Cause) {
    super('connection', provider, { ...init, code: init.code ?? 'UPSTREAM_UNAVAILABLE' }, options);
  }
}

export class UpstreamCancelledError extends UpstreamError {
  constructor(provider: ProviderId, init: UpstreamErrorInit, options?: Cause) {
    super('cancelled', provider, { ...init, code: init.code ?? 'UPSTREAM_UNAVAILABLE' }, options);
  }
}

/** An answered error: the status, and the provider's verdict on retrying where its body gives one. */
export interface AnsweredErrorInit extends UpstreamErrorInit {
  httpStatus: number;
  /** Whether a retry can help, when the provider's body says so beyond its status. */
  transient?: boolean;
}

export class UpstreamRateLimitedError extends UpstreamError {
  constructor(provider: ProviderId, init: AnsweredErrorInit, options?: Cause) {
    super('rate_limited', provider, withStatusCode(init), { ...options, verdict: init.transient });
  }
}

export class UpstreamRejectedError extends UpstreamError {
  constructor(provider: ProviderId, init: AnsweredErrorInit, options?: Cause) {
    super('rejected', provider, withStatusCode(init), { ...options, verdict: init.transient });
  }
}

/** The provider answered with an error status: rate limited (429) or rejected (any other). */
export function answeredError(provider: ProviderId, init: AnsweredErrorInit): UpstreamError {
  return init.httpStatus === 429
    ? new UpstreamRateLimitedError(provider, init)
    : new UpstreamRejectedError(provider, init);
}

function withStatusCode(init: AnsweredErrorInit): UpstreamErrorInit & { code: string } {
  const { transient: _transient, ...rest } = init;
  return { ...rest, code: init.code ?? statusCode(init.httpStatus) };
}

export class UpstreamBadResponseError extends UpstreamError {
  /** `oversized`: the body exceeded the size limit (not retryable, unlike a garbled answer). */
  constructor(
    provider: ProviderId,
    init: UpstreamErrorInit & { oversized?: boolean },
    options?: Cause,
  ) {
    const { oversized, ...rest } = init;
    super(
      'bad_response',
      provider,
      { ...rest, code: init.code ?? 'UPSTREAM_BAD_RESPONSE' },
      {
        ...options,
        verdict: oversized ? false : undefined,
      },
    );
  }
}

/** Not sent by the gateway: `CIRCUIT_OPEN` (breaker) or `TOO_MANY_UPSTREAM_CALLS` (budget). */
export class UpstreamNotSentError extends UpstreamError {
  constructor(
    provider: ProviderId,
    init: UpstreamErrorInit & { code: 'CIRCUIT_OPEN' | 'TOO_MANY_UPSTREAM_CALLS' },
    options?: Cause,
  ) {
    super('not_sent', provider, init, options);
  }
}

/** A bug in our own code while calling a provider: its message is not leaked (it may quote a request). */
export class UpstreamInternalError extends UpstreamError {
  constructor(provider: ProviderId, options?: Cause & { message?: string }) {
    super(
      'internal',
      provider,
      { code: 'INTERNAL', message: options?.message ?? `Internal error while calling ${provider}` },
      options,
    );
  }
}

/** `err` as an `UpstreamError`: itself, or an internal error wrapping it. */
export function asUpstreamError(provider: ProviderId, err: unknown): UpstreamError {
  return err instanceof UpstreamError ? err : new UpstreamInternalError(provider, { cause: err });
}

export function toProviderErrorInfo(provider: ProviderId, err: unknown): ProviderErrorInfo {
  return asUpstreamError(provider, err).toInfo();
}
