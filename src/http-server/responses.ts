/**
 * A GraphQL-over-HTTP error response written before Yoga parses the request (401, 429): the body
 * is `{"errors": [...]}` with a `code`, in the media type the client accepts.
 */
export function graphqlErrorResponse(
  fetchAPI: { Response: typeof Response },
  request: Request,
  status: number,
  error: { message: string; extensions: Record<string, unknown> },
  headers: Record<string, string> = {},
): Response {
  const accept = request.headers.get('accept') ?? '';
  const type = accept.includes('application/graphql-response+json')
    ? 'application/graphql-response+json; charset=utf-8'
    : 'application/json; charset=utf-8';
  return new fetchAPI.Response(JSON.stringify({ errors: [error] }), {
    status,
    headers: { 'content-type': type, ...headers },
  });
}
