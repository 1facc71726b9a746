import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generate } from '@graphql-codegen/cli';
import {
  type DocumentNode,
  Kind,
  type OperationDefinitionNode,
  parse,
  print,
  type SelectionSetNode,
  validate,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import codegenConfig, { SCALARS } from '../../docs/codegen.js';
import { GRAPHIQL_EXAMPLES } from '../../src/graphiql.js';
import { schema } from '../../src/schema/index.js';
import { createTestGateway, type TestGateway } from '../helpers/gateway.js';
import { EXAMPLE_OPERATIONS } from '../helpers/operations.js';

/** The README's "Example operations" block: one document of named operations. */
const readme = readFileSync('README.md', 'utf8');
const block = /## Example operations[\s\S]*?```graphql\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
const document: DocumentNode = parse(block);
const operations = document.definitions.filter(
  (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
);
const byName = new Map(operations.map((o) => [o.name?.value ?? '', o]));
const batchVariables = JSON.parse(/# variables: (.*)\n/.exec(block)?.[1] ?? '{}') as Record<
  string,
  unknown
>;

function fieldNames(selectionSet: SelectionSetNode | undefined): string[] {
  return (selectionSet?.selections ?? []).flatMap((s) =>
    s.kind === Kind.FIELD ? [s.name.value] : [],
  );
}

describe("the README's example operations", () => {
  it('are named operations that form one valid document', () => {
    expect(operations.map((o) => o.name?.value)).toEqual(EXAMPLE_OPERATIONS);
    expect(validate(schema, document)).toEqual([]);
  });

  it('are the GraphiQL tabs, operation for operation', () => {
    for (const example of GRAPHIQL_EXAMPLES) {
      const op = byName.get(example.name);
      expect(op && print(op), example.name).toBe(print(parse(example.query)));
    }
    expect(batchVariables).toEqual(GRAPHIQL_EXAMPLES[1]?.variables);
  });

  it('every write asks for errors', () => {
    for (const op of operations.filter((o) => o.operation === 'mutation')) {
      for (const field of op.selectionSet.selections) {
        if (field.kind !== Kind.FIELD) {
          continue;
        }
        const names = fieldNames(field.selectionSet);
        const items = field.selectionSet?.selections.find(
          (s) => s.kind === Kind.FIELD && s.name.value === 'items',
        );
        const itemNames = items?.kind === Kind.FIELD ? fieldNames(items.selectionSet) : [];
        expect([...names, ...itemNames], op.name?.value).toContain('errors');
      }
    }
  });
});

describe('run against a gateway, they answer what their comments say', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await createTestGateway();
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });
  const run = async (operationName: string, variables?: Record<string, unknown>) => {
    const res = await t.gateway.yoga.fetch('http://gateway/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ query: block, operationName, variables }),
    });
    return (await res.json()) as { data: Record<string, unknown>; errors?: unknown };
  };

  it('UpsertOne: CREATED, then UPDATED with the same id; UpsertBatch: 3, 2, 1, 1', async () => {
    const first = await run('UpsertOne');
    expect(first.errors).toBeUndefined();
    const once = first.data['upsertContact'] as {
      contact: { id: string };
      outcomes: Array<{ status: string }>;
    };
    expect(new Set(once.outcomes.map((o) => o.status))).toEqual(new Set(['CREATED']));
    const again = (await run('UpsertOne')).data['upsertContact'] as typeof once;
    expect(again.contact.id).toBe(once.contact.id);
    expect(new Set(again.outcomes.map((o) => o.status))).toEqual(new Set(['UPDATED']));

    const batch = await run('UpsertBatch', batchVariables);
    expect(batch.data['upsertContacts']).toMatchObject({
      summary: { total: 3, succeeded: 2, failed: 1, upstreamRequests: 1 },
    });
  });

  it('UpdateContact: NOT_FOUND in errors for an unknown id; ReadBack, DryRun run; FollowQueued runs', async () => {
    const update = await run('UpdateContact', { id: '00000000-0000-4000-8000-000000000000' });
    expect(update.data['updateContact']).toMatchObject({
      outcomes: [],
      errors: [{ field: 'id', code: 'NOT_FOUND' }],
    });
    for (const name of ['ReadBack', 'DryRun']) {
      expect((await run(name)).errors, name).toBeUndefined();
    }
    // Only a QUEUED outcome carries a writeId; an unknown one reads as null, without an error.
    const followed = await run('FollowQueued', { writeId: '00000000-0000-4000-8000-000000000001' });
    expect(followed.errors).toBeUndefined();
    expect(followed.data).toMatchObject({ write: null, pendingWrites: expect.any(Array) });
    const dry = (await run('DryRun')).data['upsertContact'] as {
      outcomes: Array<{ status: string }>;
    };
    expect(dry.outcomes.map((o) => o.status)).toEqual(['DRY_RUN']);
  });
});

describe('GraphQL Code Generator on the README (docs/codegen.ts)', () => {
  it('generates types for every operation, with the custom scalars mapped', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'readme-codegen-'));
    const documents = path.join(dir, 'readme.graphql');
    writeFileSync(documents, block);
    const output = path.join(dir, 'graphql.ts');
    const [, target] = Object.entries(codegenConfig.generates)[0] ?? [];
    const files = await generate(
      { ...codegenConfig, documents, generates: { [output]: target as never }, silent: true },
      false,
    );
    const code = files[0]?.content ?? '';
    for (const type of [
      'UpsertOneMutation',
      'UpsertBatchMutationVariables',
      'UpdateContactMutation',
      'ReadBackQuery',
      'DryRunMutation',
      'FollowQueuedQuery',
    ]) {
      expect(code).toContain(`export type ${type} =`);
    }
    expect(SCALARS.JSONObject.output).toBe('Record<string, unknown>');
    expect(code).toMatch(
      /JSONObject: \{ input: Record<string, unknown>; output: Record<string, unknown>; \}/,
    );
    expect(code).toMatch(/DateTime: \{ input: string; output: string; \}/);
    expect(code).toMatch(/Date: \{ input: string; output: string; \}/);
  }, 60_000);
});
