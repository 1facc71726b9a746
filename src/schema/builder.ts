import SchemaBuilder from '@pothos/core';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { GraphQLError } from 'graphql';
import { DateResolver, DateTimeResolver } from 'graphql-scalars';
import type { Scope } from '../auth/scopes.js';
import type { GraphQLContext } from '../context.js';
import type { JsonObject } from '../model/contact.js';
import { JSONObjectScalar } from './json-object.js';

export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  AuthScopes: Record<Scope, boolean>;
  DefaultFieldNullability: false;
  Scalars: {
    Date: { Input: string; Output: string };
    DateTime: { Input: Date; Output: Date | string };
    JSONObject: { Input: JsonObject; Output: JsonObject };
  };
}>({
  plugins: [ScopeAuthPlugin],
  scopeAuth: {
    authScopes: (ctx) => ({
      'contacts:read': ctx.caller.scopes.has('contacts:read'),
      'contacts:write': ctx.caller.scopes.has('contacts:write'),
    }),
    unauthorizedError: (_parent, ctx, info, result) =>
      new GraphQLError(
        `Forbidden: ${info.parentType.name}.${info.fieldName} needs scope ${requiredScopes(result.failure)}${ctx.caller.keyName ? ` (key "${ctx.caller.keyName}" has ${[...ctx.caller.scopes].join(', ') || 'none'})` : ''}.`,
        { extensions: { code: 'FORBIDDEN' } },
      ),
  },
  defaultFieldNullability: false,
});

/** The scope names a failed check asked for, for the error message. */
function requiredScopes(failure: unknown): string {
  const names = new Set<string>();
  const walk = (f: unknown) => {
    if (f && typeof f === 'object') {
      if ('scope' in f && typeof f.scope === 'string') {
        names.add(f.scope);
      }
      if ('failures' in f && Array.isArray(f.failures)) {
        f.failures.forEach(walk);
      }
    }
  };
  walk(failure);
  return [...names].join(' or ') || 'unknown';
}

builder.addScalarType('Date', DateResolver);
builder.addScalarType('DateTime', DateTimeResolver);
builder.addScalarType('JSONObject', JSONObjectScalar);

/** An enum whose values are described in words: `{ VALUE: 'What it means.' }`. */
export function enumOf<const K extends string>(
  name: string,
  description: string,
  values: Record<K, string>,
) {
  return builder.enumType(name, {
    description,
    values: Object.fromEntries(
      Object.entries<string>(values).map(([value, about]) => [value, { description: about }]),
    ) as Record<K, { description: string }>,
  });
}
