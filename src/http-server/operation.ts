import { documentStringMap } from '@envelop/core';
import {
  type DocumentNode,
  type ExecutionArgs,
  GraphQLError,
  type GraphQLSchema,
  getOperationAST,
} from 'graphql';
import {
  createGraphQLError,
  finalAsyncIterator,
  isAsyncIterable,
  mapAsyncIterator,
} from 'graphql-yoga';
import { runHooks, settled } from './hooks.js';

/**
 * Yoga's `handleParams` for the fast lane (./lane.ts): the envelop pipeline — every `onParse`,
 * `onValidate`, `onContextBuilding` and `onExecute` hook of Yoga's plugins, in their order, with the
 * payloads envelop gives them, and the engine functions they set (Yoga's parse and validation
 * caches, the operation limits, graphql-js's execute, error masking …) — then Yoga's handling of a
 * thrown error (masked and logged as `handleError` does). What it does not run is envelop's
 * orchestration around parse, validation and execution: a promise-helper chain per hook list
 * (`iterateAsync`, `handleMaybePromise`) and a payload with its own closures per hook, which with
 * `getEnveloped` allocated about 20 KB of the ~107 KB an upsert allocates. Those hooks run in a
 * plain loop that waits only for a hook that returned a promise; one payload per list serves every
 * hook of it (what a hook may change is read back through getters). The context is built by
 * envelop's own factory (`getEnveloped(context).contextFactory()`): a hook that throws there meets
 * the context error handlers plugins registered at init (masking), which are not reachable here.
 *
 * Not taken (null: the lane calls Yoga's own `handleParams`) when a plugin has what this does not
 * run per request: `onEnveloped` hooks, `instrumentation`, or `onSchemaChange` (a schema that can
 * change). A subscription goes through envelop's own `subscribe` (none in this schema).
 */
export type OperationHandler = (payload: {
  request: Request;
  params: OperationParams;
  context: Record<string, unknown>;
}) => Promise<unknown>;

/** GraphQL's request parameters, as the lane reads them from a JSON body. */
export type OperationParams = {
  query: string;
  variables?: Record<string, unknown> | null;
  operationName?: string | null;
  extensions?: Record<string, unknown> | null;
};

type AnyFn = (...args: never[]) => unknown;

interface EnvelopPlugin {
  onParse?: AnyFn;
  onValidate?: AnyFn;
  onContextBuilding?: AnyFn;
  onExecute?: AnyFn;
  onEnveloped?: unknown;
  instrumentation?: unknown;
  onSchemaChange?: unknown;
}

interface Enveloped {
  schema: GraphQLSchema;
  contextFactory(): unknown;
  subscribe(args: ExecutionArgs): unknown;
}

/** What the handler reads from Yoga's server object (graphql-yoga 5 with envelop 5). */
export interface OperationYoga {
  /** Envelop's plugins, as its orchestrator holds them (plugins added at init included). */
  plugins?: unknown;
  getEnveloped(context: object): Enveloped;
  maskedErrorsOpts?: {
    maskError(error: unknown, message: string, isDev?: boolean): Error;
    errorMessage: string;
    isDev?: boolean;
  } | null;
  logger: { debug(...args: unknown[]): void; error(...args: unknown[]): void };
}

const missing = (name: string) => () => {
  throw new Error(`No \`${name}\` function found! Register it using "useEngine" plugin.`);
};
const PARSE_MISSING = missing('parse');
const VALIDATE_MISSING = missing('validate');
const EXECUTE_MISSING = missing('execute');

/**
 * A thrown error as Yoga's `handleError` answers it: each of an aggregate's errors; an abort
 * logged and dropped; with masking on, the masked error (the original logged when masking
 * changed it); else a GraphQL error as it is, anything else wrapped in one.
 */
export function yogaErrors(error: unknown, yoga: OperationYoga): GraphQLError[] {
  const errors = new Set<GraphQLError>();
  if (error != null && typeof error === 'object' && 'errors' in error) {
    for (const one of error.errors as Iterable<unknown>) {
      for (const handled of yogaErrors(one, yoga)) {
        errors.add(handled);
      }
    }
  } else if (isAbort(error)) {
    yoga.logger.debug('Request aborted');
  } else if (yoga.maskedErrorsOpts) {
    const opts = yoga.maskedErrorsOpts;
    const masked = opts.maskError(error, opts.errorMessage, opts.isDev);
    if (masked !== error) {
      yoga.logger.error(error);
    }
    errors.add(
      masked instanceof GraphQLError
        ? masked
        : createGraphQLError(masked.message, { originalError: masked }),
    );
  } else if (error instanceof GraphQLError) {
    errors.add(error);
  } else if (error instanceof Error) {
    errors.add(createGraphQLError(error.message, { originalError: error }));
  } else if (
    typeof error === 'string' ||
    typeof (error as object | null)?.toString === 'function'
  ) {
    errors.add(
      createGraphQLError(String(error), {
        extensions: { code: 'INTERNAL_SERVER_ERROR', unexpected: true },
      }),
    );
  } else {
    yoga.logger.error(error);
    errors.add(createGraphQLError('Unexpected error.', { extensions: { unexpected: true } }));
  }
  return [...errors];
}

function isAbort(error: unknown): boolean {
  const e = error as { constructor?: { name?: string }; name?: string } | null;
  return (
    typeof error === 'object' &&
    e?.constructor?.name === 'DOMException' &&
    (e.name === 'AbortError' || e.name === 'TimeoutError')
  );
}

/** Calls every hook with `payload`, in order; answers the after-hooks they returned (null: none). */
function callAll(hooks: readonly AnyFn[], payload: object): AnyFn[] | null {
  let after: AnyFn[] | null = null;
  for (let i = 0; i < hooks.length; i += 1) {
    const done = hooks[i]!(payload as never);
    if (done) {
      after ??= [];
      after.push(done as AnyFn);
    }
  }
  return after;
}

/** Yoga's `handleParams` without envelop's per-request orchestration, or null (see above). */
export function createOperationHandler(yoga: OperationYoga): OperationHandler | null {
  const plugins = yoga.plugins as EnvelopPlugin[] | undefined;
  if (
    !Array.isArray(plugins) ||
    plugins.some((p) => p.onEnveloped || p.instrumentation || p.onSchemaChange)
  ) {
    return null;
  }
  const hooksOf = <K extends 'onParse' | 'onValidate' | 'onContextBuilding' | 'onExecute'>(k: K) =>
    plugins.flatMap((p) => (p[k] ? [p[k]!] : []));
  const parseHooks = hooksOf('onParse');
  const validateHooks = hooksOf('onValidate');
  const buildsContext = plugins.some((p) => p.onContextBuilding);
  const executeHooks = hooksOf('onExecute');
  // Set once, by Yoga's schema plugin at init; no plugin can change it after (onSchemaChange).
  const { schema } = yoga.getEnveloped({});

  /**
   * Envelop's parse: every `onParse` hook, the parse function they set, their after-hooks. One
   * payload serves every hook of a list (what a hook may change is read back through getters).
   */
  function parse(
    context: Record<string, unknown>,
    extendContext: (extension: object) => void,
    source: string,
  ): DocumentNode {
    let result: unknown = null;
    let parseFn: (source: string, options?: unknown) => unknown = PARSE_MISSING;
    const payload = {
      context,
      extendContext,
      params: { source, options: undefined },
      get parseFn() {
        return parseFn;
      },
      setParseFn(next: typeof parseFn) {
        parseFn = next;
      },
      setParsedDocument(doc: DocumentNode) {
        result = doc;
      },
    };
    const after = callAll(parseHooks, payload);
    if (result === null) {
      try {
        result = parseFn(source, undefined);
      } catch (err) {
        result = err;
      }
    }
    if (after) {
      const donePayload = {
        context,
        extendContext,
        replaceParseResult(next: unknown) {
          result = next;
        },
        get result() {
          return result;
        },
      };
      for (const done of after) {
        done(donePayload as never);
      }
    }
    if (result === null) {
      throw new Error('Failed to parse document.');
    }
    if (result instanceof Error) {
      throw result;
    }
    documentStringMap.set(result as DocumentNode, source.toString());
    return result as DocumentNode;
  }

  /** Envelop's validate: every `onValidate` hook (rules they add), the function they set, after-hooks. */
  function validate(
    context: Record<string, unknown>,
    extendContext: (extension: object) => void,
    documentAST: DocumentNode,
  ): unknown {
    let rules: unknown[] | undefined;
    let validateFn: (...args: unknown[]) => unknown = VALIDATE_MISSING;
    let result: unknown = null;
    const params = {
      schema,
      documentAST,
      get rules() {
        return rules;
      },
      typeInfo: undefined,
      options: undefined,
    };
    const payload = {
      context,
      extendContext,
      params,
      get validateFn() {
        return validateFn;
      },
      addValidationRule(rule: unknown) {
        rules ||= [];
        rules.push(rule);
      },
      setValidationFn(next: typeof validateFn) {
        validateFn = next;
      },
      setResult(next: unknown) {
        result = next;
      },
    };
    const after = callAll(validateHooks, payload);
    result ||= validateFn(schema, documentAST, rules, undefined, undefined);
    if (!result || !after) {
      return result || undefined;
    }
    const donePayload = {
      valid: (result as unknown[]).length === 0,
      get result() {
        return result;
      },
      context,
      extendContext,
      setResult(next: unknown) {
        result = next;
      },
    };
    for (const done of after) {
      done(donePayload as never);
    }
    return result;
  }

  /** Envelop's execute: every `onExecute` hook, the execute function they set, `onExecuteDone`. */
  async function execute(args: ExecutionArgs): Promise<unknown> {
    let executeFn: (args: ExecutionArgs) => unknown = EXECUTE_MISSING;
    let result: unknown;
    let stop = false;
    const context = (args.contextValue || {}) as Record<string, unknown>;
    const after: Array<{ onExecuteDone?: AnyFn }> = [];
    const payload = {
      get executeFn() {
        return executeFn;
      },
      setExecuteFn(next: typeof executeFn) {
        executeFn = next;
      },
      setResultAndStopExecution(stopResult: unknown) {
        result = stopResult;
        stop = true;
      },
      context,
      extendContext(extension: unknown) {
        if (typeof extension !== 'object') {
          throw new Error(
            `Invalid context extension provided! Expected "object", got: "${JSON.stringify(extension)}" (${typeof extension})`,
          );
        }
        Object.assign(context, extension);
      },
      args,
    };
    const ran = runHooks(executeHooks, payload, () => stop, after);
    if (ran) {
      await ran;
    }
    let executed = result || executeFn({ ...args, contextValue: context });
    const pending = settled(executed);
    if (pending) {
      executed = await pending;
    }
    if (after.length === 0) {
      return executed;
    }
    const onNext: AnyFn[] = [];
    const onEnd: AnyFn[] = [];
    const donePayload = {
      args,
      get result() {
        return executed;
      },
      setResult(next: unknown) {
        executed = next;
      },
    };
    for (const hooks of after) {
      // Called as a method (`this` is what its onExecute hook returned), as envelop calls it.
      let done = hooks.onExecuteDone?.(donePayload as never);
      const waiting = settled(done);
      if (waiting) {
        done = await waiting;
      }
      const streamed = done as { onNext?: AnyFn; onEnd?: AnyFn } | undefined;
      if (streamed?.onNext) {
        onNext.push(streamed.onNext);
      }
      if (streamed?.onEnd) {
        onEnd.push(streamed.onEnd);
      }
    }
    if (onNext.length > 0 && isAsyncIterable(executed)) {
      executed = mapAsyncIterator(executed, async (value: unknown) => {
        let next = value;
        for (const fn of onNext) {
          await fn({
            args,
            result: next,
            setResult(replaced: unknown) {
              next = replaced;
            },
          } as never);
        }
        return next;
      });
    }
    if (onEnd.length > 0 && isAsyncIterable(executed)) {
      executed = finalAsyncIterator(executed, () => {
        for (const fn of onEnd) {
          fn();
        }
      });
    }
    return executed;
  }

  /** Yoga's `processRequest`: parse, validate, context, then execute (or subscribe). */
  async function processRequest(
    context: Record<string, unknown>,
    params: OperationParams,
  ): Promise<unknown> {
    const extendContext = (extension: object) => {
      Object.assign(context, extension);
    };
    const document = parse(context, extendContext, params.query);
    const errors = validate(context, extendContext, document) as readonly unknown[];
    if (errors.length > 0) {
      return { errors };
    }
    // Envelop's own context factory: a hook that throws meets the context error handlers plugins
    // registered at init (masking), which are not reachable from here.
    const contextValue = buildsContext
      ? await yoga.getEnveloped(context).contextFactory()
      : context;
    const args = {
      schema,
      document,
      contextValue,
      variableValues: params.variables,
      operationName: params.operationName,
    } as ExecutionArgs;
    const operation = getOperationAST(document, params.operationName);
    if (operation?.operation === 'subscription') {
      return yoga.getEnveloped(context).subscribe(args);
    }
    return execute(args);
  }

  return async ({ request, params, context }) => {
    if (context['request'] === request) {
      context['params'] = params;
    } else {
      Object.assign(context, { request, params });
    }
    yoga.logger.debug('Processing GraphQL Parameters');
    let result: unknown;
    try {
      result = await processRequest(context, params);
    } catch (error) {
      return { errors: yogaErrors(error, yoga) };
    }
    yoga.logger.debug('Processing GraphQL Parameters done.');
    if (isAsyncIterable(result)) {
      return mapAsyncIterator(
        result,
        (value: unknown) => value,
        (error: Error) => {
          if (error.name === 'AbortError') {
            yoga.logger.debug('Request aborted');
            throw error;
          }
          return { errors: yogaErrors(error, yoga) };
        },
      );
    }
    return result;
  };
}
