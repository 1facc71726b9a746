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

export const GRAPHIQL_EXAMPLES: readonly GraphiQLExample[] = [
  {
    name: 'UpsertOne',
    query: `# Run it twice: CREATED, then UPDATED, with the same gateway id.
# Without provider credentials every provider is its loopback sandbox.
mutation UpsertOne {
  upsertContact(
    input: { email: "ada@example.com", firstName: "Ada", phone: "+14155550123",
             timezone: "Europe/London", address: { country: "GB" } }
  ) {
    contact { id email firstName records { provider remoteId } }
    outcomes { provider status writeId remoteId droppedFields attempts
               error { code message httpStatus retryable } }
    errors { field code message }
  }
}
`,
  },
  {
    name: 'UpsertBatch',
    query: `# One bulk call per provider per chunk: ⌈N/B⌉ calls. The invalid item fails alone.
mutation UpsertBatch($inputs: [ContactInput!]!) {
  upsertContacts(inputs: $inputs, options: { providers: [NOTIFUSE] }) {
    items { contact { id } outcomes { provider status } errors { field code } }
    summary { total succeeded failed upstreamRequests }   # 3, 2, 1, 1 (one Notifuse import)
  }
}
`,
    variables: {
      inputs: [{ email: 'a@example.com' }, { email: 'broken' }, { email: 'b@example.com' }],
    },
  },
  {
    name: 'UpdateContact',
    query: `# Put the gateway id UpsertOne printed into the variables. Null clears, omitted is untouched.
mutation UpdateContact($id: ID!) {
  updateContact(id: $id, patch: { lastName: null, jobTitle: "CTO" }) {
    outcomes { provider status droppedFields error { code message retryable } }
    errors { field code message }   # NOT_FOUND when no contact has this id
  }
}
`,
    variables: { id: '<gateway id from UpsertOne>' },
  },
  {
    name: 'ReadBack',
    query: `# Read from every enabled provider and merged; a provider that cannot be read is in readErrors.
query ReadBack {
  contact(email: "ada@example.com") {
    id email firstName address { country } records { provider remoteId }
    readErrors { provider error { code message } }
  }
  providers { provider mode enabled maxBatchSize }
}
`,
  },
  {
    name: 'DryRun',
    query: `# Validated and mapped, not sent: each outcome's request is the exact wire request.
mutation DryRun {
  upsertContact(input: { email: "grace@example.com", lastName: "Hopper" },
                options: { dryRun: true, providers: [DOTDIGITAL] }) {
    outcomes { provider status request }
    errors { field code message }
  }
}
`,
  },
  {
    name: 'FollowQueued',
    query: `# A QUEUED write is delivered in the background: follow it by the writeId of its outcome.
query FollowQueued($writeId: ID!) {
  write(id: $writeId) { id provider status attempts nextAttemptAt endedAt lastError { code message } }
  pendingWrites { id provider kind contactId attempts nextAttemptAt lastError { code message } }
}
`,
    variables: { writeId: '<writeId from an outcome>' },
  },
];

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
