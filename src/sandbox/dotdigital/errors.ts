import type { SandboxResponse } from '../shared/types.js';

/** DD-OAS `errorResponse_details`: both keys required (DD-10's example says `error`; OAS wins). */
export interface ErrorDetail {
  item: string;
  description: string;
}

/** DD-OAS `errorResponse` / DD-10: `{errorCode, description, details?}`, codes namespaced `contacts:`. */
export interface ErrorBody {
  errorCode: string;
  description: string;
  details?: ErrorDetail[];
}

export function errorResponse(
  status: number,
  errorCode: string,
  description: string,
  details?: ErrorDetail[],
  headers?: Record<string, string>,
): SandboxResponse {
  const body: ErrorBody = { errorCode, description };
  if (details !== undefined) {
    body.details = details;
  }
  return headers === undefined ? { status, body } : { status, headers, body };
}

/** DD-OAS example wording for `contacts:invalidId`. */
export function invalidId(identifier: string, value: string, why: string): SandboxResponse {
  return errorResponse(
    400,
    'contacts:invalidId',
    `The id value '${value}' is invalid for the identifier '${identifier}'`,
    [{ item: value, description: why }],
  );
}

/** DD-OAS getContact 404 example, word for word. */
export function contactNotFound(identifier: string, value: string): SandboxResponse {
  return errorResponse(
    404,
    'contacts:contactNotFound',
    'The following contacts could not be found',
    [{ item: value, description: `Not found using the identifier '${identifier}'` }],
  );
}

/** DD-10 example code for field validation failures, with one detail per failed rule. */
export function invalidContacts(details: ErrorDetail[]): SandboxResponse {
  return errorResponse(
    400,
    'contacts:invalidContacts',
    'The request contains invalid contact data',
    details,
  );
}

/** DD-OAS importContacts 400 example wording. */
export function badJson(why: string): SandboxResponse {
  return errorResponse(400, 'contacts:badJson', 'The request JSON is badly formed', [
    { item: 'body', description: why },
  ]);
}
