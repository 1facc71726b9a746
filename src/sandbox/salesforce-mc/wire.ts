/**
 * Response shapes shared by SFMC's auth and REST hosts (as Salesforce
 * documents them; SF-x in comments name the documentation pages).
 */

import { randomUUID } from 'node:crypto';
import type { SandboxResponse } from '../shared/types.js';

/** SF-9: the 429 examples send this content type; the sandbox uses it for every JSON answer. */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** SF-9: the `documentation` link the documented REST error bodies carry. */
export const ERROR_DOCUMENTATION_URL =
  'https://developer.salesforce.com/docs/atlas.en-us.mc-apis.meta/mc-apis/error-handling.htm';

/** SF-7 shows `error_uri` but elides its value; the sandbox points at the docs root. */
export const OAUTH_ERROR_URI = 'https://developer.salesforce.com/docs';

/** SF-10 custom error codes the sandbox sends. */
export const ErrorCode = {
  /** 401: token missing, invalid or expired. */
  notAuthorized: 0,
  generic: 10000,
  invalidDataType: 10001,
  missingRequiredField: 10002,
  incorrectFormat: 10003,
  invalidMessageFormat: 10004,
  invalidValue: 10005,
  /** 400 aggregate: details in `additionalErrors`. */
  aggregate: 10006,
  insufficientPrivileges: 20002,
  objectNotFound: 30003,
  /** 401: token sent in the URL or body instead of the Authorization header. */
  tokenNotInHeader: 40004,
  rateLimited: 50100,
  temporarilyBlocked: 50200,
} as const;

/** SF-9/SF-10 REST error body. */
export interface RestErrorBody {
  message: string;
  errorcode: number;
  documentation: string;
}

export function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): SandboxResponse {
  return { status, headers: { 'content-type': JSON_CONTENT_TYPE, ...headers }, body };
}

export function restErrorBody(errorcode: number, message: string): RestErrorBody {
  return { message, errorcode, documentation: ERROR_DOCUMENTATION_URL };
}

export function restError(
  status: number,
  errorcode: number,
  message: string,
  headers: Record<string, string> = {},
): SandboxResponse {
  return json(status, restErrorBody(errorcode, message), headers);
}

/**
 * One or several 400 validation errors. SF-10 documents 10006 "aggregate, see
 * `additionalErrors`" without an example; the sandbox sends the single error as is, or a 10006
 * whose `additionalErrors` holds each error in the same shape.
 */
export function validationError(errors: readonly RestErrorBody[]): SandboxResponse {
  const [first] = errors;
  if (first === undefined) {
    throw new Error('validationError needs at least one error');
  }
  if (errors.length === 1) {
    return json(400, first);
  }
  return json(400, {
    ...restErrorBody(ErrorCode.aggregate, `The request has ${errors.length} validation errors.`),
    additionalErrors: errors,
  });
}

/** SF-7: OAuth-style error body of the auth host (differs from REST error bodies). */
export function oauthError(
  status: number,
  error: string,
  description: string,
  headers: Record<string, string> = {},
): SandboxResponse {
  return json(
    status,
    { error, error_description: description, error_uri: OAUTH_ERROR_URI },
    { 'cache-control': 'no-store', ...headers },
  );
}

/** The service-envelope ids every Contacts answer carries (SF-1..SF-6). */
export function serviceMessageIds(): { requestServiceMessageID: string; serviceMessageID: string } {
  return { requestServiceMessageID: randomUUID(), serviceMessageID: randomUUID() };
}

/**
 * Timestamps (`responseDateTime`, `createDate`). The docs show no example value; the sandbox
 * sends ISO 8601 in UTC with milliseconds. Clients should parse leniently.
 */
export function timestamp(ms: number = Date.now()): string {
  return new Date(ms).toISOString();
}

/**
 * A property of a request body. SF-3's table says `channelAddressList` while its example sends
 * `ChannelAddressList`, so the sandbox binds names case-insensitively as a .NET model binder does:
 * an exact match wins, otherwise the first case-insensitive one.
 */
export function field(obj: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(obj, name)) {
    return obj[name];
  }
  const lower = name.toLowerCase();
  for (const key of Object.keys(obj)) {
    if (key.toLowerCase() === lower) {
      return obj[key];
    }
  }
  return undefined;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
