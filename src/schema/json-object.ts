import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import { JSONObjectResolver } from 'graphql-scalars';

/**
 * Deepest object/list nesting the JSONObject scalar parses at all. graphql-scalars parses literals
 * recursively, so a literal nested thousands deep could overflow the call stack; this coarse bound
 * refuses it first, without recursion. The finer per-field limits (`GATEWAY_MAX_JSON_DEPTH` …,
 * `src/contacts/validation.ts`) then answer with an InputError naming the field.
 */
export const JSON_OBJECT_MAX_NESTING = 32;

const tooDeep = (node?: ValueNode) =>
  new GraphQLError(`JSONObject nests deeper than ${JSON_OBJECT_MAX_NESTING} levels.`, {
    ...(node ? { nodes: node } : {}),
    extensions: { code: 'BAD_USER_INPUT' },
  });

function valueDepthExceeds(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) {
      continue;
    }
    if (depth > max) {
      return true;
    }
    for (const item of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof item === 'object' && item !== null) {
        stack.push([item, depth + 1]);
      }
    }
  }
  return false;
}

function literalDepthExceeds(node: ValueNode, max: number): boolean {
  const stack: Array<[ValueNode, number]> = [[node, 1]];
  while (stack.length > 0) {
    const [n, depth] = stack.pop()!;
    if (n.kind !== Kind.OBJECT && n.kind !== Kind.LIST) {
      continue;
    }
    if (depth > max) {
      return true;
    }
    const children = n.kind === Kind.OBJECT ? n.fields.map((f) => f.value) : n.values;
    for (const child of children) {
      stack.push([child, depth + 1]);
    }
  }
  return false;
}

/** graphql-scalars' JSONObject with bounded nesting on input (variables and literals). */
export const JSONObjectScalar = new GraphQLScalarType({
  ...JSONObjectResolver.toConfig(),
  parseValue(value) {
    if (valueDepthExceeds(value, JSON_OBJECT_MAX_NESTING)) {
      throw tooDeep();
    }
    return JSONObjectResolver.parseValue(value);
  },
  parseLiteral(node, variables) {
    if (literalDepthExceeds(node, JSON_OBJECT_MAX_NESTING)) {
      throw tooDeep(node);
    }
    return JSONObjectResolver.parseLiteral(node, variables);
  },
});
