import {
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  execute,
  GraphQLError,
  type GraphQLSchema,
  type Source,
} from 'graphql';
import type { CompiledQuery } from 'graphql-jit';
import type { Plugin } from 'graphql-yoga';

/**
 * A check of an operation before anything of it executes (a limit): a result refuses the
 * operation with it, as `setResultAndStopExecution` would; `undefined` lets it run.
 */
export type ExecutionCheck = (args: ExecutionArgs) => ExecutionResult | undefined;

/**
 * Runs `checks` in order before an operation executes (the first refusal is the answer and stops
 * it, no later `onExecute` hook runs), then queries and mutations run on {@link compiledExecute}
 * (`compile`, the default) or graphql-js's own `execute`, instead of Yoga's default executor
 * (`@graphql-tools/executor`, which adds `@defer`/`@stream` and re-snapshots every input value):
 * the schema declares neither directive, so the results are the same, and the per-field work is
 * lighter (about 9 % less process CPU per upsert in `bench/ab.ts`). Subscriptions keep Yoga's
 * executor (`subscribe` is untouched). The checks share this one `onExecute` hook: envelop
 * allocated ~1.4 KB per hook and request.
 */
export function useGraphQLExecute(
  checks: readonly ExecutionCheck[] = [],
  options: { compile?: boolean } = {},
): Plugin {
  const run = options.compile === false ? execute : compiledExecute;
  return {
    onExecute({ args, setExecuteFn, setResultAndStopExecution }) {
      for (let i = 0; i < checks.length; i += 1) {
        const refused = checks[i]!(args as ExecutionArgs);
        if (refused) {
          setResultAndStopExecution(refused);
          return;
        }
      }
      setExecuteFn(run as typeof execute);
    },
  };
}

/**
 * Runs of one document's operation on graphql-js before it is compiled: a document seen once (a
 * one-off, or an attacker sending a new text each time) never pays for a compilation.
 */
export const COMPILE_AFTER_RUNS = compileAlways() ? 0 : 1;

/**
 * `CONTACT_GATEWAY_COMPILE_ALWAYS=1` (`npm run test:compiled`, in CI): every operation compiled at
 * its first run, with no budget, so that the whole integration suite, whose documents mostly run
 * once, runs compiled. Not a setting for a deployment.
 */
function compileAlways(): boolean {
  return process.env['CONTACT_GATEWAY_COMPILE_ALWAYS'] === '1';
}

/**
 * Longest document text compiled (characters). Compiling costs about what the document's size
 * does: ~0.4–4 ms for the documents a client sends (an upsert, a read), ~40 ms for one at the
 * alias and depth limits (15 contact reads of every field, ~5,000 characters), all on the event
 * loop. Longer documents always run on graphql-js, so no compilation blocks the loop for long.
 */
export const MAX_COMPILED_CHARS = 4_000;

/**
 * Compile time allowed per window: at most `budgetMs` of every `windowMs` (default 100 ms per 10 s,
 * 1 % of a core). A client sending a new document twice, again and again, makes the gateway
 * compile each; past the budget, documents run on graphql-js (and are compiled later, once the
 * window has time again).
 */
export class CompileBudget {
  readonly #budgetMs: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  #start = Number.NEGATIVE_INFINITY;
  #used = 0;

  constructor(budgetMs = 100, windowMs = 10_000, now: () => number = () => performance.now()) {
    this.#budgetMs = budgetMs;
    this.#windowMs = windowMs;
    this.#now = now;
  }

  /** Whether a compilation may start now. */
  allows(): boolean {
    const t = this.#now();
    if (t - this.#start >= this.#windowMs) {
      this.#start = t;
      this.#used = 0;
    }
    return this.#used < this.#budgetMs;
  }

  /** A compilation took `ms`. */
  spent(ms: number): void {
    this.#used += ms;
  }
}

let budget = new CompileBudget(compileAlways() ? Number.POSITIVE_INFINITY : undefined);

/** Replaces the process's compile budget (tests); returns the one it replaced. */
export function setCompileBudget(next: CompileBudget): CompileBudget {
  const previous = budget;
  budget = next;
  return previous;
}

interface CompiledEntry {
  schema: GraphQLSchema;
  runs: number;
  /** undefined: not compiled yet; null: graphql-jit refused it (graphql-js runs it). */
  query: CompiledQuery | null | undefined;
}

/**
 * graphql-jit, imported when the first operation runs (not at start: ~4 MB of modules a gateway
 * that serves nothing never needs). Until it has loaded, operations run on graphql-js.
 */
let jit: typeof import('graphql-jit') | null | undefined;
let jitLoading: Promise<void> | undefined;

function compiler(): typeof import('graphql-jit') | null {
  if (jit === undefined) {
    jit = null;
    jitLoading = import('graphql-jit').then(
      (m) => {
        jit = m;
      },
      () => {},
    );
  }
  return jit;
}

/** Resolves once graphql-jit has loaded (or failed to: graphql-js then runs everything). */
export async function compilerReady(): Promise<void> {
  compiler();
  await jitLoading;
}

/** Operations compiled, and runs of compiled operations, since the process started (tests, bench). */
export const compiledStats = { compiled: 0, runs: 0 };

/** Per document (Yoga's parse cache hands out one object per text), per operation name. */
const compiled = new WeakMap<DocumentNode, Map<string, CompiledEntry>>();

/**
 * Queries and mutations as graphql-jit compiles them: an operation run again is a generated
 * function of its selections (no walk of the document, no per-field argument and variable
 * coercion through the schema): 5–11 % less process CPU per upsert in `bench/ab.ts`. Compiled
 * at a document's second run ({@link COMPILE_AFTER_RUNS}), kept as long as Yoga's parse cache keeps
 * the document (a WeakMap on it), and again when the schema object changes. Bounded: documents
 * longer than {@link MAX_COMPILED_CHARS} are never compiled, and compiling stops for the rest of
 * a window when its {@link CompileBudget} is spent.
 *
 * What a client sees is graphql-js's answer:
 * - A result without `data` is an error raised before execution (variables that do not coerce):
 *   nothing ran, so graphql-js runs the operation and gives its own answer (its messages name the
 *   scalar's reason and suggest close enum values; graphql-jit's do not).
 * - graphql-jit's errors carry `locations` but no source positions, which Yoga's masking copies:
 *   each becomes a graphql-js GraphQLError at the same place, with the same path, extensions and
 *   original error.
 * - When several fields of one response fail, graphql-jit may list their errors in another order
 *   (the spec gives the list none); the errors are the same.
 */
export function compiledExecute(args: ExecutionArgs): ExecutionResult | Promise<ExecutionResult> {
  const name = args.operationName ?? '';
  let byName = compiled.get(args.document);
  if (byName === undefined) {
    byName = new Map();
    compiled.set(args.document, byName);
  }
  let entry = byName.get(name);
  if (entry === undefined || entry.schema !== args.schema) {
    entry = { schema: args.schema, runs: 0, query: undefined };
    byName.set(name, entry);
  }
  if (entry.query === undefined) {
    entry.runs += 1;
    if ((args.document.loc?.source.body.length ?? Number.POSITIVE_INFINITY) > MAX_COMPILED_CHARS) {
      // Never compiled: decided once, without touching the budget.
      entry.query = null;
      return execute(args);
    }
    const jitNow = compiler();
    if (entry.runs <= COMPILE_AFTER_RUNS || jitNow === null || !budget.allows()) {
      return execute(args);
    }
    const began = performance.now();
    const made = jitNow.compileQuery(args.schema, args.document, args.operationName ?? undefined);
    budget.spent(performance.now() - began);
    entry.query = jitNow.isCompiledQuery(made) ? made : null;
    if (entry.query) {
      compiledStats.compiled += 1;
    }
  }
  if (entry.query === null) {
    return execute(args);
  }
  compiledStats.runs += 1;
  const result = entry.query.query(args.rootValue, args.contextValue, args.variableValues);
  return isThenable(result) ? result.then((r) => settle(r, args)) : settle(result, args);
}

function isThenable<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

function settle(
  result: ExecutionResult,
  args: ExecutionArgs,
): ExecutionResult | Promise<ExecutionResult> {
  if (!('data' in result)) {
    return execute(args);
  }
  if (result.errors && result.errors.length > 0) {
    // graphql-js's order of keys: errors first.
    const source = args.document.loc?.source;
    return {
      errors: result.errors.map((e) => located(e, source)),
      data: result.data,
      ...(result.extensions ? { extensions: result.extensions } : {}),
    };
  }
  return result;
}

/** graphql-jit's error as graphql-js's: the same message, path, extensions and original error. */
function located(error: GraphQLError, source: Source | undefined): GraphQLError {
  if (error.positions !== undefined || error.nodes !== undefined) {
    return error;
  }
  const positions =
    source && error.locations
      ? error.locations.map((l) => offsetOf(source.body, l.line, l.column))
      : undefined;
  return new GraphQLError(error.message, {
    ...(positions ? { source, positions } : {}),
    ...(error.path ? { path: error.path } : {}),
    ...(error.originalError ? { originalError: error.originalError } : {}),
    ...(error.extensions ? { extensions: error.extensions } : {}),
  });
}

/** The offset in `body` of (line, column), both from 1, as graphql-js counts lines. */
function offsetOf(body: string, line: number, column: number): number {
  const lineBreak = /\r\n|[\n\r]/g;
  let start = 0;
  for (let l = 1; l < line; l += 1) {
    const m = lineBreak.exec(body);
    if (!m) {
      break;
    }
    start = m.index + m[0].length;
  }
  return start + column - 1;
}

interface CachedValidation {
  schema: unknown;
  rules: readonly unknown[];
  result: readonly unknown[];
}

/** Most rule sets remembered per document (introspection on or off, say). */
const RULE_SETS_PER_DOCUMENT = 8;

function sameRules(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) {
    return false;
  }
  for (let i = 0; i < a.length; i += 1) {
    if (a[i] !== b[i]) {
      return false;
    }
  }
  return true;
}

/**
 * Validation results by document, schema and the very rule functions that ran, in place of Yoga's
 * validation cache (switched off with `parserAndValidationCache: { validationCache: false }`),
 * which keys each request by joining the names of every rule (~30 `name` reads and a join per
 * request: 0.75 % of an upsert's CPU). Rules here are compared by identity, which is stricter
 * than by name; the documents come from Yoga's parser cache, so the same text is the same object,
 * and a document dropped from that cache drops its results. Must come after every plugin that
 * adds a validation rule (it sees the rules added before it).
 */
export function useValidationCache(): Plugin {
  const cache = new WeakMap<object, CachedValidation[]>();
  return {
    onValidate({ params: { schema, documentAST, rules }, setResult }) {
      const used = rules ?? [];
      const hit = cache
        .get(documentAST)
        ?.find((entry) => entry.schema === schema && sameRules(entry.rules, used));
      if (hit) {
        setResult(hit.result as never);
        return;
      }
      const snapshot = [...used];
      return ({ result }) => {
        if (result == null) {
          return;
        }
        const entries = cache.get(documentAST) ?? [];
        if (entries.length < RULE_SETS_PER_DOCUMENT) {
          entries.push({ schema, rules: snapshot, result });
          cache.set(documentAST, entries);
        }
      };
    },
  };
}
