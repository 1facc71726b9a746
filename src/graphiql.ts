import { readFileSync } from 'node:fs';
import type { GraphiQLOptions } from 'graphql-yoga';

/**
 * GraphiQL served from the gateway itself: Yoga's default page loads its script, styles and
 * editor workers from a CDN, which leaves a blank page on a network without internet.
 * `@graphql-yoga/render-graphiql` ships the same page with every asset inline (about 9 MB), so it
 * is imported only when the page is first asked for and rendered once.
 */

/** One example tab: a single named operation, with its variables where it takes any. */
export interface GraphiQLExample {
  name: string;
  query: string;
  variables?: Record<string, unknown>;
}

/**
 * The example tabs from a document of named operations (`src/graphiql-examples.graphql`): blocks
 * apart by a blank line, each an operation with the comments above it; a `# variables:` line (JSON)
 * is its variables, not part of its query. A block without an operation (the file's header) is none.
 */
export function parseExamples(document: string): GraphiQLExample[] {
  return document.split(/\n\s*\n/).flatMap((block) => {
    const name = /^(?:query|mutation|subscription) (\w+)/m.exec(block)?.[1];
    if (!name) {
      return [];
    }
    const variables = /^# variables: (.*)$/m.exec(block)?.[1];
    const query = `${block.replace(/^# variables: .*\n/m, '').trim()}\n`;
    return [{ name, query, ...(variables ? { variables: JSON.parse(variables) } : {}) }];
  });
}

/** The example tabs, read once at start-up (`npm run build` copies the document into dist/). */
export const GRAPHIQL_EXAMPLES: readonly GraphiQLExample[] = parseExamples(
  readFileSync(new URL('./graphiql-examples.graphql', import.meta.url), 'utf8'),
);

/** The options GraphiQL opens with: one tab per example. */
export const GRAPHIQL_OPTIONS: GraphiQLOptions = {
  title: 'contact-gateway',
  defaultQuery: GRAPHIQL_EXAMPLES[0]?.query ?? '',
  defaultTabs: GRAPHIQL_EXAMPLES.map((example) => ({
    query: example.query,
    variables: example.variables ? JSON.stringify(example.variables, null, 2) : null,
  })),
};

const pages = new Map<string, Promise<string>>();

/** Yoga's `renderGraphiQL`: the self-contained page, rendered once per set of options. */
export function renderOfflineGraphiQL(options: GraphiQLOptions): Promise<string> {
  const key = JSON.stringify(options);
  let page = pages.get(key);
  if (!page) {
    page = import('@graphql-yoga/render-graphiql').then(({ renderGraphiQL }) =>
      renderGraphiQL(options),
    );
    page.catch(() => pages.delete(key));
    pages.set(key, page);
  }
  return page;
}
