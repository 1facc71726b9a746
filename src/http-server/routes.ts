import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Plugin } from 'graphql-yoga';
import { graphqlErrorResponse } from './responses.js';

/**
 * The paths answered without an API key, each by its own handler: `/health` (alive, answered by
 * {@link useExactRoutes}), `/ready` (answered by the readiness plugin when one is installed,
 * else 404) and `/metrics` (Prometheus; its own bearer token, see src/observability/endpoint.ts).
 * Exact paths only; a query string is allowed. Add a path here to make it public:
 * every other path except the GraphQL endpoint answers 404, and the key check, the rate limit
 * and the request log apply to everything that is not listed here.
 */
export const PUBLIC_PATHS: readonly string[] = ['/health', '/ready', '/metrics'];

/** The path of the built-in liveness answer (200, empty body). */
export const HEALTH_PATH = '/health';

/**
 * Yoga's own health check cannot be switched off and answers any URL that merely *ends* with its
 * endpoint (`/foo/health`, `/graphql?x=/health`). Given this endpoint it answers none: a request
 * URL never ends with a NUL (Node's parser refuses control characters in a request-target, and
 * URLs percent-encode them). {@link useExactRoutes} answers `/health` instead.
 */
export const YOGA_HEALTH_CHECK_OFF = '\u0000';

/** How a request is routed: the GraphQL endpoint, a public path, or nothing (404). */
export type Route = 'graphql' | 'public' | 'not-found';

/** Options of {@link useExactRoutes}. */
export interface ExactRoutesOptions {
  /** The one path GraphQL is served on. @default '/graphql' */
  graphqlEndpoint: string;
  /** Paths answered without a key by later handlers. @default PUBLIC_PATHS */
  publicPaths?: readonly string[];
}

const routes = new WeakMap<Request, { route: Route; path: string }>();

/** Pathnames of the URLs seen last (at most 256 kept): a client sends the same URL again and again. */
const pathnames = new Map<string, string | null>();

/** The pathname a URL parser makes of `url`, or null when it does not parse. */
function pathnameOf(url: string): string | null {
  let pathname = pathnames.get(url);
  if (pathname === undefined) {
    try {
      pathname = new URL(url, 'http://localhost').pathname;
    } catch {
      pathname = null;
    }
    if (pathnames.size >= 256) {
      pathnames.clear();
    }
    pathnames.set(url, pathname);
  }
  return pathname;
}
const notFoundResponses = new WeakSet<Response>();

/**
 * The route the router gave `request`, or `undefined` when it has not seen it. Plugins that guard
 * access (key check, rate limit, request log) skip only `'public'`: anything else, including a
 * request the router never saw, is guarded (fail closed).
 */
export function routeOf(request: Request): Route | undefined {
  return routes.get(request)?.route;
}

/** The path of `request` as the client sent it (no query), once the router has seen it. */
export function sentPath(request: Request): string | undefined {
  return routes.get(request)?.path;
}

/**
 * The request-target as the client sent it: Node's `req.url` on a real port (the URL Yoga builds
 * from it also depends on the `Host` header), else what follows the scheme and authority of
 * `request.url` (`yoga.fetch`, which keeps the string it was given).
 */
function requestTarget(request: Request, serverContext: unknown): string {
  const req = (serverContext as { req?: { url?: unknown } } | null | undefined)?.req;
  if (typeof req?.url === 'string') {
    return req.url;
  }
  const authority = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/.exec(request.url);
  return authority ? request.url.slice(authority[0].length) : request.url;
}

/**
 * Routes by the exact path. The path as sent (up to `?` or `#`) must equal the path Yoga parses
 * from the URL, so dot segments (`/./graphql`), backslashes, doubled slashes, percent-encoding,
 * an absolute-form target or a `Host` header that moves the path all route nowhere, whatever a URL
 * parser would normalise them to.
 */
function decide(
  request: Request,
  serverContext: unknown,
  graphqlEndpoint: string,
  publicPaths: readonly string[],
): { route: Route; path: string } {
  const known = routes.get(request);
  if (known) {
    return known;
  }
  const target = requestTarget(request, serverContext);
  const end = target.search(/[?#]/);
  const sent = end === -1 ? target : target.slice(0, end);
  const parsed = pathnameOf(request.url);
  const route: Route =
    sent !== parsed
      ? 'not-found'
      : sent === graphqlEndpoint
        ? 'graphql'
        : publicPaths.includes(sent)
          ? 'public'
          : 'not-found';
  const decision = { route, path: sent };
  routes.set(request, decision);
  return decision;
}

/** The router's 404 (JSON body naming the GraphQL endpoint), for handlers of public paths that are off. */
export function notFound(
  fetchAPI: { Response: typeof Response },
  request: Request,
  graphqlEndpoint: string,
): Response {
  const response = graphqlErrorResponse(fetchAPI, request, 404, {
    message: `Not found: this gateway serves GraphQL at ${graphqlEndpoint} only.`,
    extensions: { code: 'NOT_FOUND' },
  });
  notFoundResponses.add(response);
  return response;
}

/**
 * The router in front of everything: only the exact `graphqlEndpoint` reaches GraphQL, `/health`
 * is answered here, the other public paths go on to their handlers, and every other path is a
 * 404 with a JSON body before any key is checked or any body read.
 *
 * Must be the first plugin. Yoga's own CORS preflight and GraphiQL page run before any plugin and
 * match loosely (any URL ending in the endpoint); their answers to a path that is not routed are
 * replaced by the same 404 on the way out.
 */
export function useExactRoutes(options: ExactRoutesOptions): Plugin {
  const { graphqlEndpoint } = options;
  const publicPaths = options.publicPaths ?? PUBLIC_PATHS;
  return {
    onRequest({ request, serverContext, fetchAPI, endResponse }) {
      const { route, path } = decide(request, serverContext, graphqlEndpoint, publicPaths);
      if (route === 'not-found') {
        endResponse(notFound(fetchAPI, request, graphqlEndpoint));
      } else if (route === 'public' && path === HEALTH_PATH) {
        endResponse(new fetchAPI.Response(null, { status: 200 }));
      }
    },
    onResponse({ request, response, serverContext, fetchAPI, setResponse }) {
      if (
        !notFoundResponses.has(response) &&
        decide(request, serverContext, graphqlEndpoint, publicPaths).route === 'not-found'
      ) {
        setResponse(notFound(fetchAPI, request, graphqlEndpoint));
      }
    },
  };
}

const MALFORMED = JSON.stringify({
  errors: [
    {
      message: 'Bad request: no URL can be built from this request-target and Host header.',
      extensions: { code: 'BAD_REQUEST' },
    },
  ],
});

function parses(url: string): boolean {
  try {
    new URL(url);
    return true;
  } catch {
    return false;
  }
}

/** A Host header of letters, digits, dots and hyphens, with or without a port. */
const PLAIN_HOST = /^[A-Za-z0-9.-]+(?::\d{0,5})?$/;
/** An origin-form request-target: `/` then printable ASCII (Node refuses control characters). */
const ORIGIN_FORM = /^\/[\x21-\x7e]*$/;
/** Whether `http://<host>/` parses, for the plain hosts seen (at most 256 kept). */
const plainHosts = new Map<string, boolean>();

/**
 * Whether whatwg-node can build this request's URL (`http://<Host><request-target>`). With a plain
 * Host and an origin-form target the authority is exactly the Host, and a path, query or fragment
 * never fails to parse, so the answer is the Host's alone: remembered per Host instead of
 * parsing a URL per request.
 */
function hasUrl(req: IncomingMessage): boolean {
  const host = req.headers.host ?? 'localhost';
  const target = req.url ?? '';
  if (!ORIGIN_FORM.test(target) || !PLAIN_HOST.test(host)) {
    return parses(`http://${host}${target}`);
  }
  let ok = plainHosts.get(host);
  if (ok === undefined) {
    ok = parses(`http://${host}/`);
    if (plainHosts.size >= 256) {
      plainHosts.clear();
    }
    plainHosts.set(host, ok);
  }
  return ok;
}

/**
 * The node:http request listener for a Yoga instance. whatwg-node builds each request's URL from
 * the `Host` header and the request-target before any plugin runs, and answers a URL it cannot
 * build (`Host: a b`, `Host: h:99999`, `GET * HTTP/1.1`, an absolute-form target with a Host) with
 * a 500 whose body is the error's stack trace. Those requests get a 400 with a JSON body here
 * instead and never reach Yoga; everything else goes to the fast `lane` when given and it takes
 * the request (src/http-server/lane.ts), else to `yoga` unchanged.
 */
export function createNodeListener(
  yoga: RequestListener,
  lane?: (req: IncomingMessage, res: ServerResponse) => boolean,
): RequestListener {
  return (req, res) => {
    if (hasUrl(req)) {
      if (!lane?.(req, res)) {
        yoga(req, res);
      }
      return;
    }
    res.writeHead(400, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(MALFORMED),
    });
    res.end(MALFORMED);
  };
}
