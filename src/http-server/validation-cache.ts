import type { DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';

interface Level {
  next: WeakMap<object, Level>;
  results: WeakMap<DocumentNode, readonly Error[]>;
}

function level(): Level {
  return { next: new WeakMap(), results: new WeakMap() };
}

/**
 * Validation results cached per parsed document (the parse cache hands the same document back
 * for the same text), per schema and set of rules, as Yoga's own validation cache does, but found
 * through a chain of WeakMaps keyed by the schema and each rule instead of a string of every rule's
 * name built per request. Install last among the plugins (after every plugin that adds a rule),
 * with Yoga's `parserAndValidationCache: { validationCache: false }`.
 */
export function useValidationCache(): Plugin {
  const root = level();
  return {
    onValidate({ params: { schema, documentAST, rules }, setResult }) {
      let at = root;
      for (const key of [schema, ...(rules ?? [])]) {
        let next = at.next.get(key);
        if (!next) {
          next = level();
          at.next.set(key, next);
        }
        at = next;
      }
      const cached = at.results.get(documentAST);
      if (cached) {
        setResult(cached);
        return;
      }
      const results = at.results;
      return ({ result }) => {
        results.set(documentAST, result);
      };
    },
  };
}
