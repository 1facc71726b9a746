import type { ProviderId } from '../model/contact.js';
import type { UpstreamError } from '../model/errors.js';

/** One provider request as an observer sees it: never the query string, headers or body. */
export interface ObservedCall {
  provider: ProviderId;
  method: string;
  /** The request path below the client's base URL, without the query string (may hold ids). */
  path: string;
  /** `http(s)://host:port` of the provider. */
  origin: string;
}

/** How one provider request ended: an HTTP status, or the transport error that replaced it. */
export type ObservedResult = { status: number } | { error: UpstreamError };

/** What an observer does around one request; `headers` are added to it (e.g. `traceparent`). */
export interface ObservedSpan {
  readonly headers?: Readonly<Record<string, string>>;
  end(result: ObservedResult): void;
}

/**
 * Watches every request the HTTP client sends to a provider (metrics, tracing). Given to the
 * client through `HttpOptions.observer`; without one the client does no extra work at all.
 */
export interface HttpObserver {
  begin(call: ObservedCall): ObservedSpan;
}

/** One observer doing the work of each given one (none: `undefined`, so the client does nothing). */
export function combineObservers(
  ...observers: ReadonlyArray<HttpObserver | undefined>
): HttpObserver | undefined {
  const present = observers.filter((o): o is HttpObserver => o !== undefined);
  if (present.length <= 1) {
    return present[0];
  }
  return {
    begin(call) {
      const spans = present.map((o) => o.begin(call));
      const headers = Object.assign({}, ...spans.map((s) => s.headers ?? {})) as Record<
        string,
        string
      >;
      return {
        headers,
        end(result) {
          for (const s of spans) {
            s.end(result);
          }
        },
      };
    },
  };
}
