import type {} from 'graphql';
import type { ProviderId } from './contact.js';

/**
 * Every `code` the gateway itself produces, in `extensions.code`, `InputError.code` and
 * `ProviderError.code` (provider-native codes such as Dotdigital's `contacts:idAlreadyExists` are
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

/** A validation failure of one input leaf (`InputError`). */
export interface InputErrorInfo {
  /** Dotted path from the argument name, e.g. `input.address.country` or `inputs.3.email`. */
  field: string;
  code: GatewayErrorCode;
  message: string;
}

/**
 * Thrown inside the HTTP layer and the adapters; converted into `ProviderErrorInfo` at the adapter
 * boundary. The shape follows elastic-transport: typed fields, `cause` kept, name set.
 */
export class UpstreamError extends Error {
  readonly provider: ProviderId;
  readonly code: string;
  readonly httpStatus: number | null;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | null;

  constructor(provider: ProviderId, info: ProviderErrorInfo, options?: { cause?: unknown }) {
    super(info.message, options);
    this.name = 'UpstreamError';
    this.provider = provider;
    this.code = info.code;
    this.httpStatus = info.httpStatus ?? null;
    this.retryable = info.retryable;
    this.details = info.details ?? null;
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

export function toProviderErrorInfo(provider: ProviderId, err: unknown): ProviderErrorInfo {
  if (err instanceof UpstreamError) {
    return err.toInfo();
  }
  // A bug in our own code: do not leak its message (it may quote a request); say what happened.
  return {
    code: 'INTERNAL',
    message: `Internal error while calling ${provider}`,
    httpStatus: null,
    retryable: false,
    details: null,
  };
}
