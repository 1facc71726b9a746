import { NoSchemaIntrospectionCustomRule, type ValidationRule } from 'graphql';
import { createSchema, createYoga, type Plugin } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { useValidationCache } from '../../src/http-server/engine.js';

/**
 * useValidationCache: a document is validated once per set of rules, and a rule set that differs
 * (one more rule, another rule function) is validated again, never served another set's result.
 */
function gateway(extraRule: () => ValidationRule | null) {
  const runs: string[] = [];
  const counting: ValidationRule = (context) => {
    runs.push(context.getDocument().loc?.source.body ?? '');
    return {};
  };
  const addRules: Plugin = {
    onValidate({ addValidationRule }) {
      addValidationRule(counting);
      const extra = extraRule();
      if (extra) {
        addValidationRule(extra);
      }
    },
  };
  const yoga = createYoga({
    schema: createSchema({ typeDefs: 'type Query { hello: String }', resolvers: {} }),
    parserAndValidationCache: { validationCache: false },
    plugins: [addRules, useValidationCache()],
    logging: false,
  });
  const ask = async (query: string) => {
    const res = await yoga.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ query }),
    });
    return (await res.json()) as { data?: unknown; errors?: Array<{ message: string }> };
  };
  return { ask, runs };
}

describe('useValidationCache', () => {
  it('validates the same document once with the same rules', async () => {
    const { ask, runs } = gateway(() => null);
    expect(await ask('{ hello }')).toEqual({ data: { hello: null } });
    expect(await ask('{ hello }')).toEqual({ data: { hello: null } });
    expect(await ask('{ hello }')).toEqual({ data: { hello: null } });
    expect(runs).toEqual(['{ hello }']);
    await ask('{ __typename }');
    expect(runs).toEqual(['{ hello }', '{ __typename }']);
  });

  it('keeps results apart per rule set: introspection refused only where its rule ran', async () => {
    let closed = false;
    const { ask, runs } = gateway(() => (closed ? NoSchemaIntrospectionCustomRule : null));
    const query = '{ __schema { queryType { name } } }';
    expect((await ask(query)).data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    closed = true;
    const refused = await ask(query);
    expect(refused.data).toBeUndefined();
    expect(refused.errors?.[0]?.message).toMatch(/introspection has been disabled/);
    closed = false;
    expect((await ask(query)).data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    closed = true;
    expect((await ask(query)).errors?.[0]?.message).toMatch(/introspection has been disabled/);
    // Validated once per rule set, then served from the cache.
    expect(runs).toHaveLength(2);
  });

  it('an invalid document keeps its errors on every request', async () => {
    const { ask, runs } = gateway(() => null);
    for (let i = 0; i < 3; i += 1) {
      expect((await ask('{ nope }')).errors?.[0]?.message).toMatch(/Cannot query field "nope"/);
    }
    expect(runs).toHaveLength(1);
  });
});
