import { type ExecutionArgs, type ExecutionResult, execute } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * A check of an operation before anything of it executes (a limit): a result refuses the
 * operation with it, as `setResultAndStopExecution` would; `undefined` lets it run.
 */
export type ExecutionCheck = (args: ExecutionArgs) => ExecutionResult | undefined;

/**
 * Runs `checks` in order before an operation executes (the first refusal is the answer and stops
 * it, no later `onExecute` hook runs), then queries and mutations run on graphql-js's own
 * `execute` instead of Yoga's default executor (`@graphql-tools/executor`, which adds
 * `@defer`/`@stream` and re-snapshots every input value): the schema declares neither directive,
 * so the results are the same, and the per-field work is lighter (about 9 % less process CPU per
 * upsert in `bench/ab.ts`). Subscriptions keep Yoga's executor (`subscribe` is untouched). The
 * checks share this one `onExecute` hook: envelop allocated ~1.4 KB per hook and request.
 */
export function useGraphQLExecute(checks: readonly ExecutionCheck[] = []): Plugin {
  return {
    onExecute({ args, setExecuteFn, setResultAndStopExecution }) {
      for (let i = 0; i < checks.length; i += 1) {
        const refused = checks[i]!(args as ExecutionArgs);
        if (refused) {
          setResultAndStopExecution(refused);
          return;
        }
      }
      setExecuteFn(execute);
    },
  };
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
