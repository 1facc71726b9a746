import type { z } from 'zod';
import type { HttpRequest, HttpResponse } from '../http/client.js';
import type { ProviderId } from '../model/contact.js';
import { UpstreamBadResponseError, type UpstreamError } from '../model/errors.js';
import type { WireRequest } from '../model/outcome.js';

/** How each provider is named in messages. */
export const PROVIDER_NAMES: Record<ProviderId, string> = {
  DIGITAL_ONBOARDING: 'Digital Onboarding',
  NOTIFUSE: 'Notifuse',
  DOTDIGITAL: 'Dotdigital',
  SALESFORCE_MC: 'Salesforce MC',
};

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

/**
 * A request as a user sees it on a dry run: full URL with its query, the headers the client adds
 * with the credential shown as `authorization` (already redacted by the caller), and the body.
 */
export function describeRequest(
  baseUrl: string,
  req: HttpRequest,
  authorization: string,
): WireRequest {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(req.query ?? {})) {
    if (v !== undefined) {
      search.set(k, v);
    }
  }
  const qs = search.toString();
  return {
    method: req.method,
    url: `${baseUrl}${req.path}${qs ? `?${qs}` : ''}`,
    headers: {
      accept: 'application/json',
      authorization,
      'content-type': 'application/json',
      ...req.headers,
    },
    body: req.body,
  };
}

/** `req` carrying the caller's abort signal, when there is one. */
export function withSignal(req: HttpRequest, signal?: AbortSignal): HttpRequest {
  return signal ? { ...req, signal } : req;
}
