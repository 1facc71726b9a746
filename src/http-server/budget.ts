import { type FieldNode, GraphQLError, type GraphQLSchema, valueFromAST } from 'graphql';
import type { ProviderId } from '../model/contact.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { ProviderAdapter } from '../providers/types.js';
import type { ExecutionCheck } from './engine.js';
import { fieldItems, operationRoots } from './limits.js';

/** Root fields that write, and those that read. */
const WRITES = new Set(['upsertContacts', 'upsertContact', 'updateContact']);
const READS = new Set(['contacts', 'contact']);

/** Contacts one upstream write request carries at this provider (1 without a bulk endpoint). */
function writeBatch(adapter: ProviderAdapter): number {
  return Math.max(1, adapter.capabilities.writeBatchSize ?? adapter.capabilities.maxBatchSize);
}

/** Read keys one upstream read request carries at this provider. @default 1 */
function readBatch(adapter: ProviderAdapter): number {
  return Math.max(1, adapter.capabilities.readBatchSize ?? 1);
}

/** The `options` argument of a write field as sent (literal or variable), or null. */
function writeOptions(
  field: FieldNode,
  schema: GraphQLSchema,
  variables: Readonly<Record<string, unknown>>,
): { providers?: unknown; dryRun?: unknown; async?: unknown } | null {
  const node = field.arguments?.find((a) => a.name.value === 'options');
  const type = schema
    .getMutationType()
    ?.getFields()
    [field.name.value]?.args.find((a) => a.name === 'options')?.type;
  if (!node || !type) {
    return null;
  }
  const value = valueFromAST(node.value, type, variables as Record<string, unknown>);
  return value && typeof value === 'object' ? (value as Record<string, unknown>) : null;
}

/**
 * The fewest upstream calls an operation needs, from what it carries: per write field, its inputs
 * divided into each targeted provider's write batches (a dry run calls nobody); per read field, its
 * keys divided into each enabled provider's read batches. Polls, retries, token calls and per-item
 * follow-ups come on top, so this is a lower bound: an operation over the budget by this count will
 * certainly exceed it.
 */
export function minimumUpstreamCalls(
  fields: readonly FieldNode[],
  root: 'query' | 'mutation' | 'subscription',
  registry: ProviderRegistry,
  schema: GraphQLSchema,
  variables: Readonly<Record<string, unknown>>,
): number {
  let calls = 0;
  for (const field of fields) {
    const items = fieldItems(field, root, variables);
    if (items === 0) {
      continue;
    }
    if (root === 'mutation' && WRITES.has(field.name.value)) {
      const options = writeOptions(field, schema, variables);
      // A dry run calls nobody; an async batch calls providers in the background, in steps.
      if (options?.dryRun === true || options?.async === true) {
        continue;
      }
      const requested = Array.isArray(options?.providers)
        ? (options.providers as ProviderId[])
        : null;
      const adapters = requested
        ? [...new Set(requested)].flatMap((id) => registry.get(id)?.adapter ?? [])
        : registry.enabled();
      for (const adapter of adapters) {
        calls += Math.ceil(items / writeBatch(adapter));
      }
    } else if (root === 'query' && READS.has(field.name.value)) {
      for (const adapter of registry.enabled()) {
        calls += Math.ceil(items / readBatch(adapter));
      }
    }
  }
  return calls;
}

export function tooManyUpstreamCalls(
  max: number,
  needed: number | null,
  nodes?: readonly FieldNode[],
): GraphQLError {
  return new GraphQLError(
    needed === null
      ? `This request reached its budget of ${max} provider calls (GATEWAY_MAX_UPSTREAM_CALLS); the rest was not sent. Split the request.`
      : `This operation needs at least ${needed} provider calls; one request may cause at most ${max} (GATEWAY_MAX_UPSTREAM_CALLS). Split the request or target fewer providers.`,
    {
      ...(nodes ? { nodes } : {}),
      extensions: {
        code: 'TOO_MANY_UPSTREAM_CALLS',
        limit: max,
        ...(needed === null ? {} : { needed }),
        http: { status: 400, spec: true },
      },
    },
  );
}

/**
 * `GATEWAY_MAX_UPSTREAM_CALLS`, up front: refuses an operation whose provider calls can be seen
 * to exceed the budget (`minimumUpstreamCalls`) before anything executes. Code
 * TOO_MANY_UPSTREAM_CALLS. The per-request counter in the HTTP client is the backstop for what
 * cannot be computed here (polls, retries, follow-ups).
 */
export function upstreamBudget(options: {
  registry: ProviderRegistry;
  maxCalls: number;
}): ExecutionCheck {
  return (args) => {
    const roots = operationRoots(args.document, args.operationName);
    if (!roots) {
      return undefined;
    }
    const variables = (args.variableValues ?? {}) as Record<string, unknown>;
    const needed = minimumUpstreamCalls(
      roots.fields,
      roots.operation.operation,
      options.registry,
      args.schema,
      variables,
    );
    return needed > options.maxCalls
      ? { errors: [tooManyUpstreamCalls(options.maxCalls, needed, roots.fields)] }
      : undefined;
  };
}
