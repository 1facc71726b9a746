import type { z } from 'zod';
import type { HttpRequest, HttpResponse } from '../http/client.js';
import { PROVIDER_NAMES, type ProviderId } from '../model/contact.js';
import { UpstreamBadResponseError, type UpstreamError } from '../model/errors.js';

/** An answered call whose body is not what the provider documents: retryable, it may be transient. */
export function malformedResponse(
  provider: ProviderId,
  res: HttpResponse,
  what: string,
): UpstreamError {
  return new UpstreamBadResponseError(provider, {
    message: `${PROVIDER_NAMES[provider]} answered ${res.status} with ${what}`,
    httpStatus: res.status,
  });
}

/** The body read with `schema` (lenient schemas), or a `malformedResponse`. */
export function parseResponse<S extends z.ZodType>(
  provider: ProviderId,
  res: HttpResponse,
  schema: S,
  what: string,
): z.infer<S> {
  const parsed = schema.safeParse(res.json);
  if (!parsed.success) {
    throw malformedResponse(provider, res, `a body that is not ${what}`);
  }
  return parsed.data;
}

/** `req` carrying the caller's abort signal, when there is one. */
export function withSignal(req: HttpRequest, signal?: AbortSignal): HttpRequest {
  return signal ? { ...req, signal } : req;
}
