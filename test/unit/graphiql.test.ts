import { Kind, parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { GRAPHIQL_EXAMPLES, GRAPHIQL_OPTIONS, renderOfflineGraphiQL } from '../../src/graphiql.js';
import { schema } from '../../src/schema/index.js';
import { EXAMPLE_OPERATIONS } from '../helpers/operations.js';

describe('GraphiQL examples', () => {
  it('are six tabs: upsert, batch with variables, update, read, dry run, follow a queued write', () => {
    expect(GRAPHIQL_EXAMPLES.map((e) => e.name)).toEqual(EXAMPLE_OPERATIONS);
    expect(GRAPHIQL_OPTIONS.defaultTabs).toHaveLength(6);
    expect(JSON.parse(GRAPHIQL_OPTIONS.defaultTabs?.[1]?.variables ?? '{}')).toHaveProperty(
      'inputs',
    );
  });

  it.each(GRAPHIQL_EXAMPLES)('$name is one named operation valid against the schema', (e) => {
    const document = parse(e.query);
    expect(document.definitions).toHaveLength(1);
    const [operation] = document.definitions;
    expect(operation?.kind === Kind.OPERATION_DEFINITION && operation.name?.value).toBe(e.name);
    expect(validate(schema, document)).toEqual([]);
  });
});

describe('the GraphiQL page', () => {
  it('carries its script, styles and workers inline: no URL off the gateway', async () => {
    const html = await renderOfflineGraphiQL(GRAPHIQL_OPTIONS);
    expect(html).toContain('YogaGraphiQL.renderYogaGraphiQL');
    expect(html).not.toMatch(/unpkg\.com|jsdelivr|cdn\./);
    // No element loads anything from another origin.
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)="(https?:)?\/\//i);
    // Rendered once: the same string for the same options.
    expect(await renderOfflineGraphiQL(GRAPHIQL_OPTIONS)).toBe(html);
  });
});
