import { AsyncLocalStorage } from 'node:async_hooks';
import {
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  ParentBasedSampler,
  type Sampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { getOperationAST } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { HttpObserver } from '../http/observer.js';
import type { CallPolicy } from '../http/policy.js';
import { type RequestState, requestState } from '../http-server/request-context.js';
import { routeOf } from '../http-server/routes.js';
import { type TracingOptions, tracingHeaders } from './config.js';
import { operationLabel, outcomeLabel } from './metrics.js';

const propagator = new W3CTraceContextPropagator();

/** `traceparent`/`tracestate` read from a Fetch API `Headers`. */
const headersGetter: TextMapGetter<Headers> = {
  get: (carrier, key) => carrier.get(key) ?? undefined,
  keys: (carrier) => [...carrier.keys()],
};

function samplerFor(options: TracingOptions): Sampler {
  const ratio = new TraceIdRatioBasedSampler(options.samplerRatio);
  switch (options.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio;
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/**
 * OpenTelemetry tracing, built only when an exporter is configured (`OTEL_*`): a span per GraphQL
 * operation (continuing the caller's `traceparent`), a child span per provider request with
 * `traceparent` sent to the provider, and the trace id on every log line written while the
 * operation runs. The gateway's own TracerProvider (never the global one); spans carry no
 * variables, no document, no contact data: the operation's type and validated name, the provider,
 * the method and a templated path.
 */
export interface GatewayTracing {
  /** Child spans of provider requests; adds `traceparent` to them. */
  readonly http: HttpObserver;
  /** The operation spans: install right after the request context (before the key check). */
  readonly plugin: Plugin;
  /** Runs every attempt of a provider call in the context of the request that made the call. */
  keepRequestContext<P extends CallPolicy>(policy: P): P;
  /** Exports what is buffered and stops. */
  shutdown(): Promise<void>;
}

export function createTracing(options: TracingOptions, version: string): GatewayTracing {
  const processors = options.exporters.map((kind) => {
    const exporter =
      kind === 'console'
        ? new ConsoleSpanExporter()
        : new (options.protocol === 'http/json' ? JsonTraceExporter : ProtoTraceExporter)({
            url: options.url,
            headers: tracingHeaders(options),
            timeoutMillis: options.timeoutMs,
          });
    return new BatchSpanProcessor({
      exporter,
      scheduledDelayMillis: options.scheduleDelayMs,
    });
  });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      ...options.resourceAttributes,
      'service.name': options.serviceName,
      'service.version': version,
    }),
    sampler: samplerFor(options),
    spanProcessors: processors,
  });
  const tracer = provider.getTracer('contact-gateway', version);
  const spans = new WeakMap<RequestState, Span>();
  // Which operation a provider call belongs to: the one async context of the gateway, and only
  // when tracing is on (it hooks every promise; logs get the trace id from the request's logger).
  const current = new AsyncLocalStorage<RequestState>();

  const http: HttpObserver = {
    begin({ provider: id, method, path, origin }) {
      const parent = current.getStore();
      const parentSpan = parent ? spans.get(parent) : undefined;
      const template = operationLabel(method, path);
      const url = new URL(origin);
      const span = tracer.startSpan(
        template,
        {
          kind: SpanKind.CLIENT,
          attributes: {
            'http.request.method': method,
            'url.template': template.slice(template.indexOf(' ') + 1),
            'server.address': url.hostname,
            'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
            'contact_gateway.provider': id,
          },
        },
        parentSpan ? trace.setSpan(ROOT_CONTEXT, parentSpan) : ROOT_CONTEXT,
      );
      const headers: Record<string, string> = {};
      propagator.inject(trace.setSpan(ROOT_CONTEXT, span), headers, {
        set: (carrier, key, value) => {
          carrier[key] = value;
        },
      });
      return {
        headers,
        end(result) {
          if ('status' in result) {
            span.setAttribute('http.response.status_code', result.status);
            if (result.status >= 400) {
              span.setAttribute('error.type', String(result.status));
              span.setStatus({ code: SpanStatusCode.ERROR });
            }
          } else {
            span.setAttribute('error.type', outcomeLabel(result));
            span.setStatus({ code: SpanStatusCode.ERROR, message: result.error.code });
          }
          span.end();
        },
      };
    },
  };

  const plugin: Plugin = {
    instrumentation: {
      request: ({ request }, wrapped) => current.run(requestState(request), wrapped),
    },
    // From the start of each GraphQL request (so every log line of it carries the trace id) to
    // its response; named after the operation once it is known.
    onRequest({ request }) {
      if (routeOf(request) !== 'graphql') {
        return;
      }
      const state = requestState(request);
      const span = tracer.startSpan(
        'graphql',
        {
          kind: SpanKind.SERVER,
          attributes: {
            'http.request.method': request.method,
            'contact_gateway.request_id': state.id,
          },
        },
        propagator.extract(ROOT_CONTEXT, request.headers, headersGetter),
      );
      spans.set(state, span);
      state.traceId = span.spanContext().traceId;
    },
    onExecute({ args }) {
      const request = (args.contextValue as { request?: Request }).request;
      const span = request ? spans.get(requestState(request)) : undefined;
      if (!span) {
        return;
      }
      const operation = getOperationAST(args.document, args.operationName);
      const type = operation?.operation ?? 'query';
      const name = operation?.name?.value.slice(0, 100);
      span.updateName(name ? `${type} ${name}` : type);
      span.setAttribute('graphql.operation.type', type);
      if (name) {
        span.setAttribute('graphql.operation.name', name);
      }
      return {
        onExecuteDone({ result }) {
          const errors = isAsyncIterable(result) ? undefined : result.errors;
          if (errors && errors.length > 0) {
            span.setAttribute('graphql.errors.count', errors.length);
            span.setStatus({ code: SpanStatusCode.ERROR });
          }
        },
      };
    },
    onResponse({ request, response }) {
      const state = routeOf(request) === 'graphql' ? requestState(request) : undefined;
      const span = state ? spans.get(state) : undefined;
      if (!state || !span) {
        return;
      }
      spans.delete(state);
      span.setAttribute('http.response.status_code', response.status);
      if (response.status >= 500) {
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    },
  };

  return {
    http,
    plugin,
    keepRequestContext(policy) {
      const kept = Object.create(policy) as typeof policy;
      kept.execute = (call, fn) => {
        const state = current.getStore();
        return policy.execute(call, state ? (n) => current.run(state, () => fn(n)) : fn);
      };
      return kept;
    },
    async shutdown() {
      await provider.shutdown();
    },
  };
}
