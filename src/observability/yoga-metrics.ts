import { type DocumentNode, type ExecutionResult, getOperationAST, type Source } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { Counter, type Registry } from 'prom-client';
import { afterWrite } from '../http-server/after-write.js';
import { FastCounter, FastHistogram } from './series.js';

/**
 * The operation metrics of `@graphql-yoga/plugin-prometheus` as the gateway configured it
 * (operation names, field names, paths and URLs off; `operationType`, `phase`, `method` and
 * `statusCode` on), with the same families, help texts, label sets, buckets and counting rules,
 * without that plugin's per-request machinery (label objects filtered through `Object.entries`
 * for every observation, a handler list filtered per phase, a spread of the server context per
 * response): one lookup per hook.
 *
 * - `graphql_yoga_http_duration` {method, statusCode, operationType}: from the request's first
 *   hook to its response, for requests whose document parsed (operation type of the operation
 *   run, `unknown` when none matches).
 * - `graphql_envelop_phase_parse|validate|execute` {operationType}, `graphql_envelop_request`
 *   and `graphql_envelop_request_duration` (the execute or subscribe time) {operationType}, and
 *   `graphql_envelop_error_result` {operationType, phase}: the operation type is that of the
 *   document's first definition, as the plugin reads it (`undefined` when it did not parse);
 *   documents mentioning `__schema` (introspection) are not counted. Parse and validate errors
 *   count once, execution errors once per error in the result.
 */
export function useYogaMetrics(registry: Registry): Plugin {
  const registers = [registry];
  const histogram = (name: string, help: string) => new FastHistogram({ name, help, registers });
  // Series found by their label values (see ./series.ts).
  const http = histogram('graphql_yoga_http_duration', 'Time spent on HTTP connection');
  const parse = histogram(
    'graphql_envelop_phase_parse',
    'Time spent on running GraphQL "parse" function',
  );
  const validate = histogram(
    'graphql_envelop_phase_validate',
    'Time spent on running GraphQL "validate" function',
  );
  const execute = histogram(
    'graphql_envelop_phase_execute',
    'Time spent on running the GraphQL "execute" function',
  );
  const requestDuration = histogram(
    'graphql_envelop_request_duration',
    'Time spent on running the GraphQL operation from parse to execute',
  );
  // Errors are rare: prom-client's own counter.
  const errors = new Counter({
    name: 'graphql_envelop_error_result',
    help: 'Counts the amount of errors reported from all phases',
    labelNames: ['operationType', 'phase'],
    registers,
  });
  const requests = new FastCounter({
    name: 'graphql_envelop_request',
    help: 'Counts the amount of GraphQL requests executed through Envelop',
    registers,
  });
  const byType = (family: FastHistogram, operationType: string) =>
    family.at(operationType) ?? family.add({ operationType }, operationType);

  /** The operation type of each parsed operation, by its envelop context (absent: not counted). */
  const operations = new WeakMap<object, string>();
  /** Each request's HTTP timing, from its first hook. */
  const httpTimings = new WeakMap<Request, HttpTiming>();

  const seconds = (start: number) => (Date.now() - start) / 1000;
  const countErrors = (operationType: string, result: ExecutionResult) => {
    for (const _ of result.errors ?? []) {
      errors.inc({ operationType, phase: 'execute' });
    }
  };
  const ended = (operationType: string, timed: boolean, elapsed: number) => {
    if (timed) {
      byType(execute, operationType).observe(elapsed);
    }
    byType(requestDuration, operationType).observe(elapsed);
    (requests.at(operationType) ?? requests.add({ operationType }, operationType)).inc();
  };
  /**
   * The execute (or subscribe) phase's end for an operation of this type: at once for a single
   * result (one closure per operation, no more), after the last event of a stream.
   */
  const phaseEnd = (operationType: string, timed: boolean, request: object | undefined) => {
    const start = Date.now();
    return ({ result }: { result: ExecutionResult | AsyncIterable<ExecutionResult> }) => {
      if (isAsyncIterable(result)) {
        return {
          // Errors in a subscription's events count under phase `execute` too, as the plugin counts them.
          onNext: ({ result: event }: { result: ExecutionResult }) =>
            countErrors(operationType, event),
          onEnd: () => ended(operationType, timed, seconds(start)),
        };
      }
      // Observed once the response is written (on the fast lane), as measured now.
      const elapsed = seconds(start);
      afterWrite(request, () => {
        countErrors(operationType, result);
        ended(operationType, timed, elapsed);
      });
      return undefined;
    };
  };

  return {
    onRequest({ request }) {
      httpTimings.set(request, new HttpTiming(Date.now()));
    },
    onParse({ context, params }) {
      const request = (context as { request?: Request }).request;
      const source = params.source as string | Source;
      const counted = !(typeof source === 'string' ? source : source.body).includes('__schema');
      const start = Date.now();
      return ({ result }) => {
        const document = result instanceof Error || result === null ? null : result;
        const timing = request && document ? httpTimings.get(request) : undefined;
        if (timing && document) {
          const operation = getOperationAST(document, context.params?.operationName);
          timing.operationType = operation?.operation ?? 'unknown';
        }
        if (!counted) {
          return;
        }
        const operationType = document ? firstOperationType(document) : 'undefined';
        const elapsed = seconds(start);
        afterWrite(request, () => byType(parse, operationType).observe(elapsed));
        if (document) {
          operations.set(context, operationType);
        } else {
          errors.inc({ operationType, phase: 'parse' });
        }
      };
    },
    onValidate({ context }) {
      const operationType = operations.get(context);
      if (operationType === undefined) {
        return;
      }
      const start = Date.now();
      return ({ valid }) => {
        const elapsed = seconds(start);
        afterWrite(requestOf(context), () => byType(validate, operationType).observe(elapsed));
        if (!valid) {
          errors.inc({ operationType, phase: 'validate' });
        }
      };
    },
    onExecute({ args }) {
      const operationType = operations.get(args.contextValue as object);
      if (operationType === undefined) {
        return;
      }
      return { onExecuteDone: phaseEnd(operationType, true, requestOf(args.contextValue)) };
    },
    onSubscribe({ args }) {
      const operationType = operations.get(args.contextValue as object);
      if (operationType === undefined) {
        return;
      }
      return {
        onSubscribeResult: phaseEnd(operationType, false, undefined),
        // As the plugin counts it: no phase is known for an error thrown by subscribe.
        onSubscribeError() {
          errors.inc({ operationType, phase: 'undefined' });
        },
      };
    },
    onResponse({ request, response }) {
      const timing = httpTimings.get(request);
      const operationType = timing?.operationType;
      if (timing && operationType !== undefined) {
        const { method } = request;
        const statusCode = response.status;
        const elapsed = seconds(timing.start);
        afterWrite(request, () =>
          (
            http.at3(operationType, statusCode, method) ??
            http.add({ method, statusCode, operationType }, operationType, statusCode, method)
          ).observe(elapsed),
        );
      }
    },
  };
}

/** The request an envelop context belongs to (Yoga puts it there). */
function requestOf(context: unknown): object | undefined {
  return (context as { request?: object } | undefined)?.request;
}

/** A request's start, and the type of the operation it runs once its document parsed. */
class HttpTiming {
  operationType: string | undefined = undefined;
  constructor(readonly start: number) {}
}

/** The operation type of the document's first definition, as `@envelop/prometheus` labels it. */
function firstOperationType(document: DocumentNode): string {
  const first = document.definitions[0] as { operation?: string } | undefined;
  return String(first?.operation);
}
