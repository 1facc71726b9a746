import type { SandboxResponse } from '../shared/types.js';
/**
 * The v2 error envelope `{ "errors": [ { code, title, detail, meta } ] }` (DO-AUTH example; `errors`
 * is a required `object[]` on 400/403 in DO-1, DO-IOP, DO-BAT). Only these four members are
 * documented, so the sandbox sends exactly these four and always sends `meta` (an object, maybe
 * empty). A field error names its field in `meta.field` (a path from the body root, e.g. `email` or
 * `items[2].email`) and in `detail`; the docs show no `source.pointer`.
 */

export interface DoError {
  code: string;
  title: string;
  detail: string;
  meta: Record<string, unknown>;
}

export function doError(
  code: string,
  title: string,
  detail: string,
  meta: Record<string, unknown> = {},
): DoError {
  return { code, title, detail, meta };
}

export function errorResponse(
  status: number,
  errors: DoError | readonly DoError[],
  headers?: Record<string, string>,
): SandboxResponse {
  const list = Array.isArray(errors) ? [...errors] : [errors as DoError];
  const response: SandboxResponse = { status, body: { errors: list } };
  if (headers !== undefined) {
    response.headers = headers;
  }
  return response;
}

export function notFound(detail: string): SandboxResponse {
  return errorResponse(404, doError('not_found', 'Not Found', detail));
}
