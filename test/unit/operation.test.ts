import { getDocumentString } from '@envelop/core';
import { GraphQLError, parse, type ValidationRule } from 'graphql';
import { createSchema, createYoga, type Plugin } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { createOperationHandler, type OperationYoga } from '../../src/http-server/operation.js';

/**
 * The fast lane's operation (src/http-server/operation.ts) against Yoga's own `handleParams`: two
 * Yoga servers built from the same plugins, each with its own log, are given the same operations
 * in the same order; the results (data, errors as serialized, extensions) and every hook call
 * each server's plugins saw, with what they were given, must be the same.
 */
type Log = string[];

const forbiddenRule: ValidationRule = (context) => ({
  Field(node) {
    if (node.name.value === 'forbidden') {
      context.reportError(new GraphQLError('forbidden is refused here', { nodes: node }));
    }
  },
});

function plugins(log: Log): Plugin[] {
  const recorder: Plugin = {
    onParse({ params, extendContext }) {
      log.push(`parse ${String(params.source)}`);
      extendContext({ parsed: true } as never);
      if (String(params.source) === 'magic') {
        return ({ replaceParseResult }) => {
          log.push('parsed magic: replaced');
          replaceParseResult(parse('{ hello ctx }'));
        };
      }
      return ({ result }) => {
        log.push(`parsed ${result instanceof Error ? `error: ${result.message}` : result?.kind}`);
      };
    },
    onValidate({ params, addValidationRule }) {
      log.push(`validate with ${params.rules?.length ?? 0} added rule(s)`);
      addValidationRule(forbiddenRule);
      return ({ valid, result, setResult }) => {
        log.push(`validated ${valid} ${result.map((e) => e.message).join('; ')}`);
        if (!valid) {
          setResult([...result, new GraphQLError('one more, from an after-hook')]);
        }
      };
    },
    onContextBuilding({ context, extendContext, breakContextBuilding }) {
      const vars = (context as { params?: { variables?: Record<string, unknown> } }).params
        ?.variables;
      log.push(`context ${Object.keys(context).sort().join(',')}`);
      if (vars?.['failContext']) {
        throw new Error('context refused');
      }
      if (vars?.['breakContext']) {
        breakContextBuilding();
        return undefined;
      }
      extendContext({ built: 1 } as never);
      return ({ extendContext: extendAfter }) => {
        log.push('context after');
        extendAfter({ after: true } as never);
      };
    },
    onExecute({ args, executeFn, setExecuteFn, setResultAndStopExecution, extendContext }) {
      log.push(`execute ${args.operationName ?? '-'} of ${getDocumentString(args.document)}`);
      extendContext({ executing: true } as never);
      switch (args.operationName) {
        case 'Stop':
          setResultAndStopExecution({ data: { hello: 'stopped' } });
          return undefined;
        case 'Boom':
          throw new Error('boom, with a secret inside');
        case 'Gql':
          throw new GraphQLError('a GraphQL error from a hook', { extensions: { code: 'HOOK' } });
        case 'Abort':
          throw new DOMException('gone', 'AbortError');
        case 'Async':
          return Promise.resolve({
            onExecuteDone({ result }: { result: unknown }) {
              log.push(`async done ${JSON.stringify(result)}`);
            },
          });
        default:
      }
      setExecuteFn((a) => {
        log.push('wrapped execute');
        return executeFn(a);
      });
      return {
        onExecuteDone({ result, setResult }) {
          log.push('execute done');
          if (!('errors' in result && result.errors)) {
            setResult({ ...result, extensions: { done: true } });
          }
        },
      };
    },
  };
  const second: Plugin = {
    onExecute({ args }) {
      log.push(`second execute ${args.operationName ?? '-'}`);
    },
  };
  return [recorder, second];
}

function server(log: Log, extra: Plugin[] = []) {
  return createYoga({
    schema: createSchema({
      typeDefs: 'type Query { hello: String, ctx: String, forbidden: String, echo(n: Int): Int }',
      resolvers: {
        Query: {
          hello: () => 'world',
          echo: (_: unknown, args: { n?: number }) => args.n ?? null,
          ctx: (_: unknown, __: unknown, context: Record<string, unknown>) =>
            ['parsed', 'built', 'after', 'executing']
              .map((k) => `${k}=${String(context[k])}`)
              .join(' '),
        },
      },
    }),
    plugins: [...plugins(log), ...extra],
    logging: {
      debug: (...args: unknown[]) => log.push(`log debug ${args.map(String).join(' ')}`),
      info: () => undefined,
      warn: () => undefined,
      error: (...args: unknown[]) =>
        log.push(
          `log error ${args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ')}`,
        ),
    },
  });
}

type Handler = (payload: {
  request: Request;
  params: { query: string; variables?: Record<string, unknown>; operationName?: string };
  context: Record<string, unknown>;
}) => unknown;

const CTX_FAIL = 'query Ctx($failContext: Boolean!) { ctx @include(if: $failContext) }';
const CTX_BREAK = 'query Ctx($breakContext: Boolean!) { ctx @include(if: $breakContext) }';
const OPERATIONS: Array<{
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
}> = [
  { query: '{ hello }' },
  { query: 'query Named { ctx }', operationName: 'Named' },
  { query: '{ hello }' },
  { query: '{ hello ' },
  { query: '{ hello ' },
  { query: '{ forbidden }' },
  { query: '{ nope }' },
  { query: 'magic' },
  { query: 'query Stop { hello }', operationName: 'Stop' },
  { query: 'query Boom { hello }', operationName: 'Boom' },
  { query: 'query Gql { hello }', operationName: 'Gql' },
  { query: 'query Abort { hello }', operationName: 'Abort' },
  { query: 'query Async { hello }', operationName: 'Async' },
  { query: 'query A { hello } query B { ctx }' },
  { query: 'query A { hello } query B { ctx }', operationName: 'B' },
  { query: CTX_FAIL, variables: { failContext: true } },
  { query: CTX_BREAK, variables: { breakContext: true } },
  { query: 'query V($n: Int) { echo(n: $n) }', variables: { n: 'not a number' } },
  { query: 'query V($n: Int) { echo(n: $n) }', variables: { n: 7 } },
  { query: 'subscription { hello }' },
];

async function run(handler: Handler, log: Log) {
  const seen: Array<{ result: unknown; log: Log }> = [];
  for (const params of OPERATIONS) {
    log.length = 0;
    const request = new Request('http://localhost/graphql', { method: 'POST' });
    const result = await handler({ request, params, context: { request } });
    seen.push({ result: JSON.parse(JSON.stringify(result)), log: [...log] });
  }
  return seen;
}

describe('the fast lane runs the operation as Yoga does', () => {
  it('same results and the same hook calls, operation by operation', async () => {
    const yogaLog: Log = [];
    const laneLog: Log = [];
    const yoga = server(yogaLog);
    const other = server(laneLog);
    const handler = createOperationHandler(other as unknown as OperationYoga);
    expect(handler).not.toBeNull();
    const expected = await run(
      (p) => (yoga as unknown as { handleParams: Handler }).handleParams(p),
      yogaLog,
    );
    const actual = await run(handler as unknown as Handler, laneLog);
    for (let i = 0; i < OPERATIONS.length; i += 1) {
      expect({ op: OPERATIONS[i], ...actual[i] }).toEqual({ op: OPERATIONS[i], ...expected[i] });
    }
    // The cases did what they are named for (not the same failure everywhere).
    const byQuery = (q: string, op?: string) =>
      expected[OPERATIONS.findIndex((o) => o.query === q && o.operationName === op)]!;
    expect(byQuery('{ hello }').result).toEqual({
      data: { hello: 'world' },
      extensions: { done: true },
    });
    expect(byQuery('query Named { ctx }', 'Named').result).toMatchObject({
      data: { ctx: 'parsed=true built=1 after=true executing=true' },
    });
    expect(JSON.stringify(byQuery('{ forbidden }').result)).toContain(
      'one more, from an after-hook',
    );
    expect(byQuery('magic').result).toMatchObject({ data: { hello: 'world' } });
    expect(byQuery('query Stop { hello }', 'Stop').result).toEqual({ data: { hello: 'stopped' } });
    expect(byQuery('query Boom { hello }', 'Boom').result).toMatchObject({
      errors: [{ message: 'Unexpected error.' }],
    });
    expect(byQuery('query Boom { hello }', 'Boom').log).toContain(
      'log error boom, with a secret inside',
    );
    expect(byQuery('query Abort { hello }', 'Abort').result).toEqual({ errors: [] });
    expect(JSON.stringify(byQuery(CTX_FAIL).result)).toContain('Unexpected error.');
    expect(byQuery(CTX_BREAK).result).toMatchObject({
      data: { ctx: 'parsed=true built=undefined after=undefined executing=true' },
    });
  });

  it("serves a repeated document from Yoga's parse cache: the parse function runs once", async () => {
    const parsesBy = async (run: (yoga: ReturnType<typeof server>) => Handler) => {
      let parses = 0;
      const counting: Plugin = {
        onParse({ parseFn, setParseFn }) {
          setParseFn((source, options) => {
            parses += 1;
            return parseFn(source, options);
          });
        },
      };
      const handler = run(server([], [counting]));
      for (let i = 0; i < 3; i += 1) {
        const request = new Request('http://localhost/graphql', { method: 'POST' });
        const answer = (await handler({
          request,
          params: { query: '{ hello }' },
          context: { request },
        })) as { data: unknown };
        expect(answer.data).toEqual({ hello: 'world' });
      }
      return parses;
    };
    const yogaParses = await parsesBy(
      (yoga) => (p) => (yoga as unknown as { handleParams: Handler }).handleParams(p),
    );
    const laneParses = await parsesBy(
      (yoga) => createOperationHandler(yoga as unknown as OperationYoga) as unknown as Handler,
    );
    expect({ yogaParses, laneParses }).toEqual({ yogaParses: 1, laneParses: 1 });
  });

  it("is not used where a plugin has what it does not run (onEnveloped, instrumentation): Yoga's own then", () => {
    const enveloped = server([], [{ onEnveloped: () => undefined }]);
    const instrumented = server([], [{ instrumentation: { execute: (_p, wrapped) => wrapped() } }]);
    expect(createOperationHandler(enveloped as unknown as OperationYoga)).toBeNull();
    expect(createOperationHandler(instrumented as unknown as OperationYoga)).toBeNull();
    expect(createOperationHandler(server([]) as unknown as OperationYoga)).not.toBeNull();
  });
});
