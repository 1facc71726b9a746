import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  GraphQLError,
  getOperationAST,
  Kind,
  Lexer,
  type OperationDefinitionNode,
  type SelectionSetNode,
  Source,
  TokenKind,
  type ValueNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { ExecutionCheck } from './engine.js';
import type { OperationLimits } from './options.js';

/**
 * Sets the `code` of an error graphql-armor is about to throw (its own errors carry none), and
 * marks it as a request error in GraphQL-over-HTTP terms (`http: {status: 400, spec: true}`, as
 * Yoga marks validation errors): 400 for a client accepting `application/graphql-response+json`,
 * 200 for `application/json`. Without it the depth, alias and cost refusals were always 200.
 */
const withCode =
  (code: string) =>
  (_ctx: unknown, error: GraphQLError): void => {
    const extensions = error.extensions as Record<string, unknown>;
    extensions['code'] = code;
    extensions['http'] = { status: 400, spec: true };
  };

/**
 * Depth, alias, token and cost limits (the individual graphql-armor plugins). Tokens are counted
 * while parsing, the rest while validating, so an oversized operation is refused before it
 * executes, with a 400 and a code: MAX_TOKENS_EXCEEDED, MAX_DEPTH_EXCEEDED, MAX_ALIASES_EXCEEDED
 * or MAX_COST_EXCEEDED.
 */
export function useOperationLimits(limits: OperationLimits): Plugin[] {
  // The rules are built once, here. armor's own plugins build them on every request
  // (`onValidate: addValidationRule(maxDepthRule(options))`): a new function per request, so a
  // validation cache keyed by the rules' identity never hit. Yoga's cache (keyed by the rules'
  // names, which are empty and so equal) does hit for a repeated document either way; a document
  // seen for the first time runs every rule.
  const rules = [
    maxDepthRule({
      n: limits.maxDepth,
      flattenFragments: true,
      onReject: [withCode('MAX_DEPTH_EXCEEDED')],
    }),
    maxAliasesRule({ n: limits.maxAliases, onReject: [withCode('MAX_ALIASES_EXCEEDED')] }),
    costLimitRule({
      maxCost: limits.maxCost,
      flattenFragments: true,
      onReject: [withCode('MAX_COST_EXCEEDED')],
    }),
  ];
  return [
    maxTokensPlugin({ n: limits.maxTokens, onReject: [withCode('MAX_TOKENS_EXCEEDED')] }) as Plugin,
    {
      onValidate({ addValidationRule }) {
        for (const rule of rules) {
          addValidationRule(rule);
        }
      },
    },
  ];
}

/**
 * Brace and bracket nesting a document may have beyond `GATEWAY_MAX_DEPTH`: room for input object
 * literals (an address, `customFields` up to the JSONObject scalar's own bound of 32).
 */
export const NESTING_ALLOWANCE = 64;

/** Whether `source` opens more than `max` braces/brackets inside each other (lexed, so strings and comments do not count). */
function nestsDeeperThan(source: string | Source, max: number): boolean {
  const lexer = new Lexer(typeof source === 'string' ? new Source(source) : source);
  let depth = 0;
  try {
    for (let token = lexer.advance(); token.kind !== TokenKind.EOF; token = lexer.advance()) {
      if (token.kind === TokenKind.BRACE_L || token.kind === TokenKind.BRACKET_L) {
        depth += 1;
        if (depth > max) {
          return true;
        }
      } else if (token.kind === TokenKind.BRACE_R || token.kind === TokenKind.BRACKET_R) {
        depth -= 1;
      }
    }
  } catch {
    // A syntax error: the parser reports it.
  }
  return false;
}

/**
 * Refuses a document nested deeper than `max` braces/brackets before graphql-js parses it: its
 * parser recurses once per level, and a literal 2,000 objects deep overflowed the call stack
 * ("Unexpected error." and a stack in the log). Code MAX_DEPTH_EXCEEDED, a 400 request error.
 */
export function useNestingLimit(max: number): Plugin {
  return {
    onParse({ parseFn, setParseFn }) {
      setParseFn((source, options) => {
        if (nestsDeeperThan(source, max)) {
          throw new GraphQLError(`Syntax Error: Nesting limit of ${max} exceeded.`, {
            extensions: { code: 'MAX_DEPTH_EXCEEDED', http: { status: 400, spec: true } },
          });
        }
        return parseFn(source, options);
      });
    },
  };
}

const SUGGESTION = /\s*Did you mean [^?]*\?/g;

/**
 * No "Did you mean …?" in any error (production): armor's plugin removes field suggestions from
 * validation errors; enum-value suggestions ("Did you mean the enum value …?") come from variable
 * coercion during execution and from literal validation, which its pattern does not match, so the
 * final results are scrubbed as well.
 */
export function useNoSuggestions(): Plugin[] {
  return [
    blockFieldSuggestionsPlugin() as Plugin,
    {
      onResultProcess({ result }) {
        for (const single of Array.isArray(result) ? result : [result]) {
          if (single && typeof single === 'object' && 'errors' in single && single.errors) {
            for (const error of single.errors) {
              if (error.message.includes('Did you mean')) {
                (error as { message: string }).message = error.message.replace(SUGGESTION, '');
              }
            }
          }
        }
      },
    },
  ];
}

/**
 * Root fields that carry contact inputs or read keys, and the arguments that count: the list
 * arguments by their length, the single ones (`input`, `patch`, `id`, `email`, `externalId`) as 1.
 */
const COUNTED_ARGUMENTS: Readonly<Record<string, { root: 'query' | 'mutation'; args: string[] }>> =
  {
    upsertContacts: { root: 'mutation', args: ['inputs'] },
    upsertContact: { root: 'mutation', args: ['input'] },
    updateContact: { root: 'mutation', args: ['patch'] },
    contacts: { root: 'query', args: ['ids', 'emails'] },
    contact: { root: 'query', args: ['id', 'email', 'externalId'] },
  };

const NOUN = { mutation: 'inputs', query: 'ids and emails' } as const;

/** The root fields of an operation, fragments and inline fragments flattened (each fragment once). */
export function rootFields(
  selectionSet: SelectionSetNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  seen = new Set<string>(),
): FieldNode[] {
  const out: FieldNode[] = [];
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      out.push(selection);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      out.push(...rootFields(selection.selectionSet, fragments, seen));
    } else if (!seen.has(selection.name.value)) {
      seen.add(selection.name.value);
      const fragment = fragments.get(selection.name.value);
      if (fragment) {
        out.push(...rootFields(fragment.selectionSet, fragments, seen));
      }
    }
  }
  return out;
}

/** The operation to run and its root fields. */
export interface OperationRoots {
  readonly operation: OperationDefinitionNode;
  readonly fields: readonly FieldNode[];
}

/**
 * Root fields by document and operation name. A document is immutable and Yoga's parse cache
 * hands the same object to every request sending the same text, so the budget and the list limit
 * find them here instead of walking the document twice per request.
 */
const rootsCache = new WeakMap<DocumentNode, Map<string | null, OperationRoots>>();

/** The operation to run and its root fields, or null when there is none (validation says why). */
export function operationRoots(
  document: DocumentNode,
  operationName: string | null | undefined,
): OperationRoots | null {
  let byName = rootsCache.get(document);
  if (!byName) {
    byName = new Map();
    rootsCache.set(document, byName);
  }
  const name = operationName ?? null;
  const known = byName.get(name);
  if (known) {
    return known;
  }
  const roots = findOperationRoots(document, name);
  // Only names the document defines are kept: a caller sending made-up names grows nothing.
  if (roots) {
    byName.set(name, roots);
  }
  return roots;
}

function findOperationRoots(
  document: DocumentNode,
  operationName: string | null,
): OperationRoots | null {
  const operation = getOperationAST(document, operationName);
  if (!operation) {
    return null;
  }
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) {
    if (def.kind === Kind.FRAGMENT_DEFINITION) {
      fragments.set(def.name.value, def);
    }
  }
  return { operation, fields: rootFields(operation.selectionSet, fragments) };
}

/** How many items an argument value carries: a list by its length, null/absent 0, else 1. */
export function itemCount(value: ValueNode, variables: Readonly<Record<string, unknown>>): number {
  if (value.kind === Kind.LIST) {
    return value.values.length;
  }
  if (value.kind === Kind.VARIABLE) {
    const v = variables[value.name.value];
    return Array.isArray(v) ? v.length : v == null ? 0 : 1;
  }
  return value.kind === Kind.NULL ? 0 : 1;
}

/** The items one root field carries (0 for fields that carry none). */
export function fieldItems(
  field: FieldNode,
  root: 'query' | 'mutation' | 'subscription',
  variables: Readonly<Record<string, unknown>>,
): number {
  const rule = COUNTED_ARGUMENTS[field.name.value];
  if (!rule || rule.root !== root) {
    return 0;
  }
  return (field.arguments ?? [])
    .filter((a) => rule.args.includes(a.name.value))
    .reduce((sum, a) => sum + itemCount(a.value, variables), 0);
}

/**
 * `MAX_BATCH_INPUTS`: refuses an operation that carries more contact inputs (or read ids and
 * emails) than allowed, counted over all its root fields — aliased `upsertContacts` fields add up
 * — before anything executes, so no earlier mutation field of the same operation runs either.
 * Code TOO_MANY_ITEMS.
 */
export function listArgumentLimit(maxItems: number): ExecutionCheck {
  return (args) => {
    const roots = operationRoots(args.document, args.operationName);
    if (!roots) {
      return undefined;
    }
    const { operation, fields } = roots;
    if (operation.operation === 'subscription') {
      return undefined;
    }
    const variables = (args.variableValues ?? {}) as Record<string, unknown>;
    const counted = fields
      .map((field) => ({ field, items: fieldItems(field, operation.operation, variables) }))
      .filter((c) => c.items > 0);
    const count = counted.reduce((sum, c) => sum + c.items, 0);
    if (count <= maxItems) {
      return undefined;
    }
    const names = [...new Set(counted.map((c) => c.field.name.value))].join(', ');
    const fieldCount = counted.length;
    return {
      errors: [
        new GraphQLError(
          fieldCount === 1
            ? `${names} takes at most ${maxItems} ${NOUN[operation.operation]} (got ${count}); split the request.`
            : `An operation takes at most ${maxItems} ${NOUN[operation.operation]} in all (got ${count} over ${fieldCount} fields: ${names}); split the request.`,
          {
            nodes: counted.map((c) => c.field),
            extensions: {
              code: 'TOO_MANY_ITEMS',
              limit: maxItems,
              http: { status: 400, spec: true },
            },
          },
        ),
      ],
    };
  };
}
