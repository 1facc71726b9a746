import { type DocumentNode, type ExecutionResult, getOperationAST, type Source } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { Counter, Histogram, type Registry } from 'prom-client';

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
  const histogram = (name: string, help: string, labelNames: string[]) =>
    new Histogram({ name, help, labelNames, registers: [registry] });
  const http = histogram('graphql_yoga_http_duration', 'Time spent on HTTP connection', [
    'operationType',
    'method',
    'statusCode',
  ]);
  const parse = histogram(
    'graphql_envelop_phase_parse',
    'Time spent on running GraphQL "parse" function',
    ['operationType'],
  );
  const validate = histogram(
    'graphql_envelop_phase_validate',
    'Time spent on running GraphQL "validate" function',
    ['operationType'],
  );
  const execute = histogram(
    'graphql_envelop_phase_execute',
    'Time spent on running the GraphQL "execute" function',
    ['operationType'],
  );
  const requestDuration = histogram(
    'graphql_envelop_request_duration',
    'Time spent on running the GraphQL operation from parse to execute',
    ['operationType'],
  );
  const errors = new Counter({
    name: 'graphql_envelop_error_result',
    help: 'Counts the amount of errors reported from all phases',
    labelNames: ['operationType', 'phase'],
    registers: [registry],
  });
  const requests = new Counter({
    name: 'graphql_envelop_request',
    help: 'Counts the amount of GraphQL requests executed through Envelop',
    labelNames: ['operationType'],
    registers: [registry],
  });

  /** The operation type of each parsed operation, by its envelop context (absent: not counted). */
  const operations = new WeakMap<object, string>();
  const httpStart = new WeakMap<Request, number>();
  /** The type of the operation run, by request, once its document parsed. */
  const httpType = new WeakMap<Request, string>();

  const seconds = (start: number) => (Date.now() - start) / 1000;
  const countErrors = (operationType: string, phase: 'execute', result: ExecutionResult) => {
    for (const _ of result.errors ?? []) {
      errors.inc({ operationType, phase });
    }
  };
  /** The execute (or subscribe) phase's hooks for an operation of this type. */
  const phaseEnd = (operationType: string, timed: boolean) => {
    const start = Date.now();
    const end = () => {
      const elapsed = seconds(start);
      if (timed) {
        execute.observe({ operationType }, elapsed);
      }
      requestDuration.observe({ operationType }, elapsed);
      requests.inc({ operationType });
    };
    // Errors in a subscription's events count under phase `execute` too, as the plugin counts them.
    const next = ({ result }: { result: ExecutionResult }) =>
      countErrors(operationType, 'execute', result);
    // The phase's end: at once for a single result, after the last event of a stream.
    return ({ result }: { result: ExecutionResult | AsyncIterable<ExecutionResult> }) => {
      if (isAsyncIterable(result)) {
        return { onNext: next, onEnd: end };
      }
      next({ result });
      end();
      return undefined;
    };
  };

  return {
    onRequest({ request }) {
      httpStart.set(request, Date.now());
    },
    onParse({ context, params }) {
      const request = (context as { request?: Request }).request;
      const source = params.source as string | Source;
      const counted = !(typeof source === 'string' ? source : source.body).includes('__schema');
      const start = Date.now();
      return ({ result }) => {
        const document = result instanceof Error || result === null ? null : result;
        if (request && document) {
          const operation = getOperationAST(document, context.params?.operationName);
          httpType.set(request, operation?.operation ?? 'unknown');
        }
        if (!counted) {
          return;
        }
        const operationType = document ? firstOperationType(document) : 'undefined';
        parse.observe({ operationType }, seconds(start));
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
        validate.observe({ operationType }, seconds(start));
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
      return { onExecuteDone: phaseEnd(operationType, true) };
    },
    onSubscribe({ args }) {
      const operationType = operations.get(args.contextValue as object);
      if (operationType === undefined) {
        return;
      }
      return {
        onSubscribeResult: phaseEnd(operationType, false),
        // As the plugin counts it: no phase is known for an error thrown by subscribe.
        onSubscribeError() {
          errors.inc({ operationType, phase: 'undefined' });
        },
      };
    },
    onResponse({ request, response }) {
      const start = httpStart.get(request);
      const operationType = httpType.get(request);
      if (start !== undefined && operationType !== undefined) {
        http.observe(
          { method: request.method, statusCode: response.status, operationType },
          seconds(start),
        );
      }
    },
  };
}

/** The operation type of the document's first definition, as `@envelop/prometheus` labels it. */
function firstOperationType(document: DocumentNode): string {
  const first = document.definitions[0] as { operation?: string } | undefined;
  return String(first?.operation);
}
