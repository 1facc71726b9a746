import { createHash, timingSafeEqual } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';
import { notFound, routeOf, sentPath } from '../http-server/routes.js';
import type { Secret } from '../secret.js';
import type { GatewayMetrics } from './metrics.js';

/** Where Prometheus scrapes the gateway (listed in `PUBLIC_PATHS`: no API key, no rate limit). */
export const METRICS_PATH = '/metrics';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** Whether `Authorization` is exactly `Bearer <token>`, compared in constant time. */
function bearerMatches(header: string | null, expected: Buffer): boolean {
  const match = header === null ? null : /^Bearer ([^\s]+)$/i.exec(header);
  // Hash both sides: equal lengths for timingSafeEqual whatever was sent, and nothing about the
  // token's length leaks through timing.
  return timingSafeEqual(digest(match?.[1] ?? ''), expected) && match !== null;
}

/**
 * Serves `GET|HEAD /metrics` (exact path, query string allowed; 405 for other methods) from the
 * gateway's registry. With `token`, only `Authorization: Bearer <token>` gets the metrics (else
 * 401); without one, `metrics` is null when metrics are off (API keys configured and no
 * `GATEWAY_METRICS_TOKEN`), and the path answers the router's 404.
 */
export function useMetricsEndpoint(options: {
  metrics: GatewayMetrics | null;
  token: Secret | null;
  graphqlEndpoint: string;
}): Plugin {
  const { metrics, graphqlEndpoint } = options;
  const expected = options.token ? digest(options.token.reveal()) : null;
  return {
    onRequest({ request, fetchAPI, endResponse }) {
      if (routeOf(request) !== 'public' || sentPath(request) !== METRICS_PATH) {
        return;
      }
      if (!metrics) {
        endResponse(notFound(fetchAPI, request, graphqlEndpoint));
        return;
      }
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        endResponse(
          new fetchAPI.Response('Method not allowed: GET or HEAD /metrics.\n', {
            status: 405,
            headers: { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' },
          }),
        );
        return;
      }
      if (expected && !bearerMatches(request.headers.get('authorization'), expected)) {
        endResponse(
          new fetchAPI.Response('Unauthorized: /metrics needs its bearer token.\n', {
            status: 401,
            headers: {
              'www-authenticate': 'Bearer realm="metrics"',
              'content-type': 'text/plain; charset=utf-8',
            },
          }),
        );
        return;
      }
      return metrics.scrape().then(
        ({ contentType, body }) => {
          endResponse(
            new fetchAPI.Response(request.method === 'HEAD' ? null : body, {
              status: 200,
              headers: { 'content-type': contentType, 'cache-control': 'no-store' },
            }),
          );
        },
        () => {
          // The outbox could not be read (store unreachable): say so, without the error's text.
          endResponse(
            new fetchAPI.Response('Metrics unavailable: the store did not answer.\n', {
              status: 503,
              headers: { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '5' },
            }),
          );
        },
      );
    },
  };
}
