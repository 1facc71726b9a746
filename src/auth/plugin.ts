import type { Plugin } from 'graphql-yoga';
import { requestState } from '../http-server/request-context.js';
import { graphqlErrorResponse } from '../http-server/responses.js';
import { routeOf } from '../http-server/routes.js';
import { type ApiKey, createKeyVerifier } from './keys.js';
import type { Caller } from './scopes.js';

const BEARER = /^Bearer[ \t]+([\x21-\x7e]+)[ \t]*$/i;

/** Options of {@link useApiKeyAuth}. */
export interface ApiKeyAuthOptions {
  /** Configured keys; with none every request is the anonymous loopback caller. */
  keys: readonly ApiKey[];
}

/** Every `Authorization` header of the request as Node received it (duplicates included), when served by node:http. */
function authorizationHeaders(serverContext: unknown): readonly string[] | undefined {
  const req = (serverContext as { req?: { headersDistinct?: Record<string, string[]> } } | null)
    ?.req;
  return req?.headersDistinct?.['authorization'];
}

/**
 * `Authorization: Bearer <key>` on every request when keys are configured, except the public
 * paths (`/health`, `/ready`; see `PUBLIC_PATHS`): fail closed, so a request the router did not
 * classify is checked too. GraphiQL's page and CORS preflights are answered by Yoga before this
 * runs. A missing, unknown or repeated key is answered 401 before the GraphQL document is parsed,
 * so an anonymous caller learns nothing about the schema; a missing or repeated one before the body
 * is read (the fast lane, src/http-server/lane.ts, takes only a request with exactly one key, and
 * reads its bounded JSON body before this runs). The matched key's name and
 * scopes become the request's caller; per-field scopes are enforced by the schema
 * (`@pothos/plugin-scope-auth`).
 */
export function useApiKeyAuth(options: ApiKeyAuthOptions): Plugin {
  if (options.keys.length === 0) {
    return {};
  }
  const verify = createKeyVerifier(options.keys);
  return {
    onRequest({ request, serverContext, endResponse, fetchAPI }) {
      if (routeOf(request) === 'public') {
        return;
      }
      const header = request.headers.get('authorization');
      // Node keeps the first of two Authorization headers and a proxy may keep the last: refuse both.
      const repeated = (authorizationHeaders(serverContext)?.length ?? 0) > 1;
      const presented = header && !repeated ? BEARER.exec(header)?.[1] : undefined;
      const key = presented ? verify(presented) : null;
      if (!key) {
        endResponse(
          graphqlErrorResponse(
            fetchAPI,
            request,
            401,
            {
              message: repeated
                ? 'Send one Authorization header, not several.'
                : header
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
