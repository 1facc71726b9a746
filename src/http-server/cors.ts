import type { Plugin, YogaServerOptions } from 'graphql-yoga';

type CorsOption = NonNullable<YogaServerOptions<Record<string, never>, object>['cors']>;

/** What a listed origin is allowed (the same for every listed origin). */
export interface CorsPolicy {
  methods: string[];
  allowedHeaders: string[];
  exposedHeaders: string[];
  /** Seconds a browser may cache a preflight. */
  maxAge: number;
}

/**
 * Yoga's `cors` option for `GATEWAY_CORS_ORIGINS`: a request whose `Origin` is exactly one of
 * `origins` gets that origin back in `Access-Control-Allow-Origin` (no credentials); any other
 * Origin (`null`, another scheme, port or host, a trailing slash, a list) gets no CORS header at
 * all. Yoga's own matching would answer an unlisted origin with `Access-Control-Allow-Origin:
 * null` (two or more origins) or with the one configured origin whatever was asked.
 * `origins` are serialised origins (`parseGatewayOptions` normalises them), compared as strings,
 * the way browsers send them.
 */
export function corsForOrigins(origins: readonly string[], policy: CorsPolicy): CorsOption {
  const allowed = new Set(origins);
  return (request: Request) => {
    const origin = request.headers.get('origin');
    return origin !== null && allowed.has(origin)
      ? { ...policy, origin: [origin], credentials: false }
      : false;
  };
}

/**
 * `Vary: Origin` on every response when CORS is configured: whether an answer carries CORS
 * headers depends on the request's Origin, so a shared cache must not hand one origin's answer
 * to another.
 */
export function useVaryOrigin(): Plugin {
  return {
    onResponse({ response }) {
      const vary = response.headers.get('vary');
      const fields = (vary ?? '').split(',').map((v) => v.trim().toLowerCase());
      if (!fields.includes('origin') && !fields.includes('*')) {
        response.headers.set('vary', vary ? `${vary}, Origin` : 'Origin');
      }
    },
  };
}
