import { z } from 'zod';
import type {
  CallStats,
  HttpClient,
  HttpMethod,
  HttpRequest,
  HttpResponse,
} from '../http/client.js';
import type { ProviderId, ProviderNames } from '../model/contact.js';
import { UpstreamBadResponseError, type UpstreamError } from '../model/errors.js';

/**
 * How a provider's client reads answers: `malformed` is an answered call whose body is not what
 * the provider documents (retryable, it may be transient); `parse` reads the body with `schema`
 * (lenient schemas) or throws `malformed`. `name` is the provider's name in messages.
 */
export function answersOf<Id extends ProviderId>(provider: Id, name: ProviderNames[Id]) {
  const malformed = (res: HttpResponse, what: string): UpstreamError =>
    new UpstreamBadResponseError(provider, {
      message: `${name} answered ${res.status} with ${what}`,
      httpStatus: res.status,
    });
  return {
    malformed,
    parse<S extends z.ZodType>(res: HttpResponse, schema: S, what: string): z.infer<S> {
      const parsed = schema.safeParse(res.json);
      if (!parsed.success) {
        throw malformed(res, `a body that is not ${what}`);
      }
      return parsed.data;
    },
  };
}

/**
 * `req` carrying the caller's abort signal, when there is one. Object.assign, not
 * `{ ...req, signal }`: V8 (Node 20) gives an object made by a spread and then a key its source
 * lacks a hidden class of its own (~0.6 µs, and garbage), per request.
 */
export function withSignal(req: HttpRequest, signal?: AbortSignal): HttpRequest {
  return signal ? Object.assign({}, req, { signal }) : req;
}

/** `res` when its status is one of `ok`; else the provider's error for it, `refuse(res)`, thrown. */
export function expectStatus(
  res: HttpResponse,
  ok: readonly number[],
  refuse: (res: HttpResponse) => UpstreamError,
): HttpResponse {
  if (!ok.includes(res.status)) {
    throw refuse(res);
  }
  return res;
}

/** The builder of `method path` requests that carry a body of type `B`. */
export function bodyRequest<B>(method: HttpMethod, path: string): (body: B) => HttpRequest {
  return (body) => ({ method, path, body });
}

const OK: readonly number[] = Object.freeze([200]);

/**
 * A client's way to send: `req` with the caller's abort signal, its answer checked with
 * `expectStatus` against `ok` (200 unless said), any other status thrown as `refuse(res)`.
 */
export function sender(
  http: Pick<HttpClient, 'request'>,
  refuse: (res: HttpResponse) => UpstreamError,
) {
  return async (
    req: HttpRequest,
    stats: CallStats,
    signal?: AbortSignal,
    ok: readonly number[] = OK,
  ): Promise<HttpResponse> =>
    expectStatus(await http.request(withSignal(req, signal), stats), ok, refuse);
}

/**
 * A list of objects in an answer, read leniently: each item with `shape` (other keys kept); the
 * list itself may be absent or null.
 */
export function looseList<S extends z.ZodRawShape>(shape: S) {
  return z.array(z.looseObject(shape)).nullish();
}
