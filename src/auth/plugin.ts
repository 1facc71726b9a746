import type { Plugin } from 'graphql-yoga';
import { requestState } from '../http-server/request-context.js';
import { graphqlErrorResponse } from '../http-server/responses.js';
import { type ApiKey, createKeyVerifier } from './keys.js';
import type { Caller } from './scopes.js';

const BEARER = /^Bearer[ \t]+([\x21-\x7e]+)[ \t]*$/i;

/** Options of {@link useApiKeyAuth}. */
export interface ApiKeyAuthOptions {
  /** Configured keys; with none every request is the anonymous loopback caller. */
  keys: readonly ApiKey[];
  /** Only requests to this path are authenticated (GraphiQL's page, `/health` and CORS preflights are not). @default '/graphql' */
  graphqlEndpoint: string;
}

/**
 * `Authorization: Bearer <key>` on every GraphQL request when keys are configured. A missing or
 * unknown key is answered 401 before the body is read or the document parsed, so an anonymous
 * caller learns nothing about the schema. The matched key's name and scopes become the request's
 * caller; per-field scopes are enforced by the schema (`@pothos/plugin-scope-auth`).
 */
export function useApiKeyAuth(options: ApiKeyAuthOptions): Plugin {
  if (options.keys.length === 0) {
    return {};
  }
  const verify = createKeyVerifier(options.keys);
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (url.pathname !== options.graphqlEndpoint || request.method === 'OPTIONS') {
        return;
      }
      const header = request.headers.get('authorization');
      const presented = header ? BEARER.exec(header)?.[1] : undefined;
      const key = presented ? verify(presented) : null;
      if (!key) {
        endResponse(
          graphqlErrorResponse(
            fetchAPI,
            request,
            401,
            {
              message: header
                ? 'Invalid API key.'
                : 'Missing API key: send it as "Authorization: Bearer <key>".',
              extensions: { code: 'UNAUTHENTICATED' },
            },
            { 'www-authenticate': 'Bearer realm="contact-gateway"' },
          ),
        );
        return;
      }
      const caller: Caller = { keyName: key.name, scopes: new Set(key.scopes) };
      requestState(request).caller = caller;
    },
  };
}
