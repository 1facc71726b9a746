import type { RecordedRequest, SandboxHandler, SandboxResponse } from './types.js';

export type RouteParams = Readonly<Record<string, string>>;

export type RouteHandler = (
  req: RecordedRequest,
  params: RouteParams,
) => SandboxResponse | Promise<SandboxResponse>;

export type RouteMatch<H> =
  | {
      readonly kind: 'found';
      readonly handler: H;
      readonly params: RouteParams;
      readonly pattern: string;
    }
  /** The path is known but not for this method; `allow` lists the methods it has. */
  | {
      readonly kind: 'method-not-allowed';
      readonly allow: readonly string[];
      readonly pattern: string;
    }
  | { readonly kind: 'not-found' };

export interface Router<H> {
  /**
   * Registers `handler` for `method` (one or several, case-insensitive) on `pattern`. A pattern is
   * a path whose segments are literals or `:name` parameters (one non-empty segment each).
   */
  on(method: string | readonly string[], pattern: string, handler: H): Router<H>;
  /** Matches a request path (no query string). The first registered matching pattern wins. */
  match(method: string, path: string): RouteMatch<H>;
}

interface Route<H> {
  readonly method: string;
  readonly pattern: string;
  readonly segments: readonly string[];
  readonly handler: H;
}

/**
 * Method + path routing that tells "unknown path" (404) apart from "known path, wrong method"
 * (405) and leaves the body of both to the caller: each provider words them its own way.
 */
export function createRouter<H = RouteHandler>(): Router<H> {
  const routes: Route<H>[] = [];
  const router: Router<H> = {
    on(method, pattern, handler) {
      const methods = typeof method === 'string' ? [method] : method;
      for (const m of methods) {
        routes.push({ method: m.toUpperCase(), pattern, segments: splitPath(pattern), handler });
      }
      return router;
    },
    match(method, path) {
      const upper = method.toUpperCase();
      const segments = splitPath(path);
      let firstPattern: string | undefined;
      const allow: string[] = [];
      for (const route of routes) {
        const params = matchSegments(route.segments, segments);
        if (params === undefined) {
          continue;
        }
        if (route.method === upper) {
          return { kind: 'found', handler: route.handler, params, pattern: route.pattern };
        }
        firstPattern ??= route.pattern;
        if (!allow.includes(route.method)) {
          allow.push(route.method);
        }
      }
      return firstPattern === undefined
        ? { kind: 'not-found' }
        : { kind: 'method-not-allowed', allow, pattern: firstPattern };
    },
  };
  return router;
}

export interface RouterFallbacks {
  /** @default 404 `{"error":"not found"}` */
  notFound?: (req: RecordedRequest) => SandboxResponse;
  /** @default 405 `{"error":"method not allowed"}` with an `Allow` header */
  methodNotAllowed?: (req: RecordedRequest, allow: readonly string[]) => SandboxResponse;
}

/** Turns a router of plain route handlers into a sandbox handler. */
export function routerHandler(
  router: Router<RouteHandler>,
  fallbacks: RouterFallbacks = {},
): SandboxHandler {
  return (req) => {
    const match = router.match(req.method, req.path);
    switch (match.kind) {
      case 'found':
        return match.handler(req, match.params);
      case 'method-not-allowed':
        return fallbacks.methodNotAllowed
          ? fallbacks.methodNotAllowed(req, match.allow)
          : {
              status: 405,
              headers: { allow: match.allow.join(', ') },
              body: { error: 'method not allowed' },
            };
      default:
        return fallbacks.notFound
          ? fallbacks.notFound(req)
          : { status: 404, body: { error: 'not found' } };
    }
  };
}

function splitPath(path: string): string[] {
  // A leading slash is required by HTTP; keep empty segments elsewhere so `/a//b` ≠ `/a/b`.
  return path.replace(/^\//, '').split('/');
}

function matchSegments(
  pattern: readonly string[],
  actual: readonly string[],
): Record<string, string> | undefined {
  if (pattern.length !== actual.length) {
    return undefined;
  }
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const expected = pattern[i] ?? '';
    const got = actual[i] ?? '';
    if (expected.startsWith(':')) {
      if (got === '') {
        return undefined;
      }
      params[expected.slice(1)] = safeDecode(got);
    } else if (expected !== got) {
      return undefined;
    }
  }
  return params;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
