import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import {
  COMPILE_AFTER_RUNS,
  CompileBudget,
  compiledStats,
  compilerReady,
  MAX_COMPILED_CHARS,
  setCompileBudget,
} from '../../src/http-server/engine.js';
import { createLogger } from '../../src/logger.js';
import { type RunningSandboxes, startSandboxes } from '../../src/sandbox-mode.js';
import { createMemoryIdentityStore } from '../../src/store/identity.js';
import { bearer, FULL_KEY, KEYS_ENV, READ_KEY, WRITE_KEY } from './hardening/keys.js';

/**
 * Queries and mutations compiled by graphql-jit (the default, `compiledExecute`) against
 * graphql-js's `execute` (`compileOperations: false`): two gateways, each with its own sandboxes
 * and store, are sent the same operations in the same order, each operation three times (a
 * document is compiled at its second run), and must answer the same, byte for byte once ids and
 * times are put aside: data, errors (messages, locations, paths, extensions) and status.
 */
interface Op {
  name: string;
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
  /** More request headers (an API key). */
  headers?: Record<string, string>;
}

const CONTACT = `id email firstName lastName phone timezone customFields birthdate createdAt
  emailConsent { status optInType }
  address { country postalCode city }
  records { provider remoteId stale staleSince syncedAt }`;

const OPS: Op[] = [
  {
    name: 'upsert with variables, every selection kind',
    query: `mutation Up($input: ContactInput!, $options: WriteOptions) {
      first: upsertContact(input: $input, options: $options) {
        contact { ${CONTACT} }
        outcomes { __typename provider status droppedFields attempts remoteId
          error { __typename code message httpStatus retryable ... on Error { message } } }
        errors { __typename field code message }
      }
    }`,
    variables: {
      input: {
        email: 'ada@example.com',
        firstName: 'Ada',
        phone: '+14155550123',
        timezone: 'Europe/London',
        address: { country: 'GB', postalCode: 'NW1 2DB' },
        customFields: { tier: 'gold', score: 3, nested: { a: [1, 2] } },
        birthdate: '1990-12-10',
        emailConsent: { status: 'SUBSCRIBED' },
      },
    },
  },
  {
    name: 'upsert with literals, aliases, fragments, @include/@skip',
    query: `mutation($yes: Boolean!, $no: Boolean!) {
      a: upsertContact(input: { email: "grace@example.com", lastName: "Hopper" },
                       options: { providers: [NOTIFUSE, DOTDIGITAL] }) {
        ...Payload
        c2: contact @include(if: $yes) { email }
        c3: contact @skip(if: $yes) { email }
        outcomes @include(if: $no) { provider }
      }
    }
    fragment Payload on ContactWritePayload {
      contact { ... on Contact { id email lastName } }
      outcomes { provider status }
    }`,
    variables: { yes: true, no: false },
  },
  {
    name: 'a batch with one invalid item',
    query: `mutation($inputs: [ContactInput!]!) {
      upsertContacts(inputs: $inputs, options: { providers: [NOTIFUSE] }) {
        items { contact { id email } outcomes { provider status } errors { field code message } }
        summary { total succeeded failed upstreamRequests }
      }
    }`,
    variables: {
      inputs: [{ email: 'a@example.com' }, { email: 'broken' }, { email: 'b@example.com' }],
    },
  },
  {
    name: 'a dry run (the exact wire request, a JSONObject)',
    query: `mutation {
      upsertContact(input: { email: "dry@example.com", lastName: "Run" },
                    options: { dryRun: true, providers: [DOTDIGITAL, SALESFORCE_MC] }) {
        outcomes { provider status request }
        errors { field code message }
      }
    }`,
  },
  {
    name: 'reads: one contact, many, providers',
    query: `query Read($email: String, $emails: [String!]) {
      contact(email: $email) { ${CONTACT} readErrors { provider error { code message } } }
      contacts(emails: $emails) { email firstName }
      providers { provider mode enabled maxBatchSize }
      __typename
    }`,
    variables: { email: 'ada@example.com', emails: ['ada@example.com', 'nobody@example.com'] },
  },
  {
    name: 'several operations in one document, by name',
    query: `query One { providers { provider } } query Two { contact(email: "ada@example.com") { email } }`,
    operationName: 'Two',
  },
  {
    name: 'a field error thrown by a resolver (located, coded)',
    query: `query { providers { provider }
      contact(email: "ada@example.com", externalId: "x-1") { id } }`,
  },
  {
    name: 'an unexpected error (masked, with the request id)',
    query: `mutation { upsertContact(input: { email: "boom@example.com" }) { contact { id } } }`,
  },
  {
    name: 'variables: an enum value misspelt',
    query: `mutation($p: Provider!) { upsertContact(input: { email: "x@example.com" }, options: { providers: [$p] }) { contact { id } } }`,
    variables: { p: 'NOTIFUS' },
  },
  {
    name: 'variables: a JSONObject nested too deep',
    query: `mutation($input: ContactInput!) { upsertContact(input: $input) { contact { id } } }`,
    variables: {
      input: {
        email: 'deep@example.com',
        customFields: JSON.parse(`${'{"a":'.repeat(40)}1${'}'.repeat(40)}`),
      },
    },
  },
  {
    name: 'variables: required one missing, another of the wrong type',
    query: `query($id: ID!, $n: Int) { write(id: $id) { id } pendingWrites(limit: $n) { id } }`,
    variables: { n: 'ten' },
  },
  { name: 'introspection', query: getIntrospectionQuery({ descriptions: true }) },
];

/** Ids, times and durations differ between two gateways; everything else must not. */
function normalized(text: string): string {
  return text
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<uuid>')
    .replace(/127\.0\.0\.1:\d+/g, '<sandbox>')
    .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g, '<time>');
}

async function start(env: Record<string, string>, compile: boolean) {
  const sandboxes = await startSandboxes(loadConfig(env));
  const store = createMemoryIdentityStore();
  const claim = store.claim.bind(store);
  store.claim = (keys, now) =>
    keys.email === 'boom@example.com'
      ? Promise.reject(new TypeError('Cannot read properties of undefined (reading "x")'))
      : claim(keys, now);
  const gateway = createGateway(sandboxes.config, {
    store,
    sandboxed: sandboxes.sandboxed,
    logger: createLogger('silent'),
    compileOperations: compile,
  });
  return { sandboxes, gateway };
}

async function send(gateway: Gateway, op: Op, requestId: string): Promise<string> {
  const res = await gateway.yoga.fetch('http://gateway/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': requestId, ...op.headers },
    body: JSON.stringify({
      query: op.query,
      ...(op.variables ? { variables: op.variables } : {}),
      ...(op.operationName ? { operationName: op.operationName } : {}),
    }),
  });
  return `${res.status} ${normalized(await res.text())}`;
}

describe.each([
  // Production: masked errors, no suggestions (introspection on, as with GraphiQL on).
  { mode: 'production', env: { NODE_ENV: 'production', GATEWAY_GRAPHIQL: '1' } },
  // Development: unmasked errors, "Did you mean" suggestions.
  { mode: 'development', env: { NODE_ENV: 'development' } },
])('compiled execution (graphql-jit) answers as graphql-js does, $mode', ({ mode, env }) => {
  let compiled: { sandboxes: RunningSandboxes; gateway: Gateway };
  let plain: { sandboxes: RunningSandboxes; gateway: Gateway };
  let budget: CompileBudget;
  beforeAll(async () => {
    await compilerReady();
    // Every operation here is compiled, however slow this machine compiles.
    budget = setCompileBudget(new CompileBudget(Number.POSITIVE_INFINITY));
    compiled = await start(env, true);
    plain = await start(env, false);
  });
  afterAll(async () => {
    setCompileBudget(budget);
    for (const g of [compiled, plain]) {
      await g?.gateway.close();
      await g?.sandboxes.close();
    }
  });

  it('the same answers for every operation, run three times', async () => {
    const before = { ...compiledStats };
    for (const [i, op] of OPS.entries()) {
      for (let run = 1; run <= 3; run += 1) {
        const id = `req-${i}-${run}`;
        const viaJit = await send(compiled.gateway, op, id);
        const viaJs = await send(plain.gateway, op, id);
        expect(viaJit, `${op.name}, run ${run}`).toBe(viaJs);
        // Each operation got past validation (the comparison is of executions).
        expect(viaJs, op.name).not.toContain('GRAPHQL_VALIDATION_FAILED');
      }
    }
    // Every operation that executes (all but the two refused before execution by validation…
    // none here) was compiled once and ran compiled on its second and third runs.
    expect(compiledStats.compiled - before.compiled).toBe(OPS.length);
    expect(compiledStats.runs - before.runs).toBe(OPS.length * (3 - COMPILE_AFTER_RUNS));
  });

  it('the answers compared are the real ones: located, masked, suggested, written', async () => {
    const op = (name: string) => OPS.find((o) => o.name.startsWith(name))!;
    const body = async (name: string, id: string) =>
      JSON.parse((await send(compiled.gateway, op(name), id)).slice(4));
    const unexpected = await body('an unexpected', 'r1');
    expect(unexpected.errors[0]).toMatchObject({
      locations: [{ line: 1, column: 12 }],
      path: ['upsertContact'],
      extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: 'r1' },
    });
    if (mode === 'production') {
      expect(unexpected.errors[0].message).toBe('Unexpected error.');
    }
    const thrown = await body('a field error', 'r2');
    expect(thrown.errors).toEqual([
      expect.objectContaining({
        locations: [{ line: 2, column: 7 }],
        path: ['contact'],
        extensions: { code: 'BAD_USER_INPUT' },
      }),
    ]);
    expect(JSON.stringify(await body('variables: a JSONObject', 'r3'))).toContain(
      'JSONObject nests deeper than 32 levels',
    );
    const misspelt = JSON.stringify(await body('variables: an enum', 'r4'));
    if (mode === 'development') {
      expect(misspelt).toContain('Did you mean the enum value \\"NOTIFUSE\\"?');
    } else {
      expect(misspelt).not.toContain('Did you mean');
    }
    const upsert = await body('upsert with variables', 'r5');
    expect(upsert.data.first.contact, JSON.stringify(upsert)).toMatchObject({
      email: 'ada@example.com',
      firstName: 'Ada',
      address: { country: 'GB', postalCode: 'NW1 2DB' },
      customFields: { tier: 'gold', score: 3, nested: { a: [1, 2] } },
    });
    expect(upsert.data.first.outcomes.map((o: { status: string }) => o.status)).toContain(
      'UPDATED',
    );
  });
});

describe('what compiling may cost (a client sending new documents)', () => {
  it('a document longer than MAX_COMPILED_CHARS is never compiled, and answers the same', async () => {
    await compilerReady();
    const a = await start({ NODE_ENV: 'production' }, true);
    const b = await start({ NODE_ENV: 'production' }, false);
    try {
      const fields = 'id email firstName lastName phone timezone customFields';
      const aliases = Array.from(
        { length: 15 },
        (_, i) =>
          `a${i}: contact(email: "x${i}@example.com") { ${fields} records { provider remoteId } }`,
      );
      const query = `query { ${aliases.join('\n')} }`.padEnd(MAX_COMPILED_CHARS + 1, ' ');
      expect(query.length).toBeGreaterThan(MAX_COMPILED_CHARS);
      const before = compiledStats.compiled;
      for (let run = 1; run <= 3; run += 1) {
        const viaA = await send(a.gateway, { name: 'long', query }, `long-${run}`);
        expect(viaA).toBe(await send(b.gateway, { name: 'long', query }, `long-${run}`));
        expect(viaA).toContain('"a14":null');
      }
      expect(compiledStats.compiled).toBe(before);
    } finally {
      for (const g of [a, b]) {
        await g.gateway.close();
        await g.sandboxes.close();
      }
    }
  });

  it('with the budget spent, documents run on graphql-js (nothing compiled), then compile again', async () => {
    await compilerReady();
    const g = await start({ NODE_ENV: 'production' }, true);
    const spent = setCompileBudget(new CompileBudget(0));
    try {
      const op = { name: 'budget', query: `query { providers { provider enabled } }` };
      const before = { ...compiledStats };
      const answers = [];
      for (let run = 1; run <= 3; run += 1) {
        answers.push(await send(g.gateway, op, `b-${run}`));
      }
      expect(compiledStats).toEqual(before);
      setCompileBudget(new CompileBudget());
      answers.push(await send(g.gateway, op, 'b-4'));
      expect(compiledStats.compiled).toBe(before.compiled + 1);
      expect(compiledStats.runs).toBe(before.runs + 1);
      expect(new Set(answers.map((a) => a.replace(/b-\d/, ''))).size).toBe(1);
      expect(answers[0]).toContain('"provider":"NOTIFUSE"');
    } finally {
      setCompileBudget(spent);
      await g.gateway.close();
      await g.sandboxes.close();
    }
  });

  it('CompileBudget: compiling stops when a window has spent its budget, and resumes in the next', () => {
    let now = 0;
    const budget = new CompileBudget(100, 10_000, () => now);
    expect(budget.allows()).toBe(true);
    budget.spent(60);
    now = 5_000;
    expect(budget.allows()).toBe(true);
    budget.spent(45);
    // 105 ms of 100 spent: no more compiling in this window, however small the next one.
    now = 9_999;
    expect(budget.allows()).toBe(false);
    now = 10_001;
    expect(budget.allows()).toBe(true);
    budget.spent(99.9);
    expect(budget.allows()).toBe(true);
    budget.spent(0.2);
    expect(budget.allows()).toBe(false);
  });
});

/**
 * Scopes decide, field by field, what a key sees (the Pothos scope-auth plugin's wrappers around
 * each resolver, and `info`, which graphql-jit builds its own way). The attacker's variants of
 * test/integration/hardening/scopes.test.ts, each sent three times (compiled from the second),
 * must answer as graphql-js does (errors in any order), and the write-only key must never see the stored values.
 */
/** `status body` with the body's errors in a fixed order (by their JSON). */
function errorsSorted(answer: string): string {
  const [status, ...rest] = answer.split(' ');
  const body = JSON.parse(rest.join(' ')) as { errors?: unknown[] };
  if (body.errors) {
    body.errors = body.errors
      .map((e) => JSON.stringify(e))
      .sort()
      .map((e) => JSON.parse(e));
  }
  return `${status} ${JSON.stringify(body)}`;
}

describe('scopes under compiled execution (production, keys set)', () => {
  const STORED = 'stored-secret@example.com';
  const NAME = 'Storedname';
  let compiled: { sandboxes: RunningSandboxes; gateway: Gateway };
  let plain: { sandboxes: RunningSandboxes; gateway: Gateway };
  let budget: CompileBudget;
  const env = { ...KEYS_ENV, NODE_ENV: 'production' };
  beforeAll(async () => {
    await compilerReady();
    budget = setCompileBudget(new CompileBudget(Number.POSITIVE_INFINITY));
    compiled = await start(env, true);
    plain = await start(env, false);
    const seed: Op = {
      name: 'seed',
      query: `mutation { upsertContact(input: { externalId: "ext-42", email: "${STORED}", firstName: "${NAME}" }) { outcomes { status } } }`,
      headers: bearer(FULL_KEY),
    };
    for (const g of [compiled, plain]) {
      expect(await send(g.gateway, seed, 'seed')).toContain('CREATED');
    }
  });
  afterAll(async () => {
    setCompileBudget(budget);
    for (const g of [compiled, plain]) {
      await g?.gateway.close();
      await g?.sandboxes.close();
    }
  });

  const write = `upsertContact(input: { externalId: "ext-42", jobTitle: "x" })`;
  const ops: Op[] = [
    {
      name: 'write key: stored data asked directly',
      query: `mutation { ${write} { contact { id email firstName records { provider remoteId } }
        outcomes { provider status remoteId request droppedFields } errors { field } } }`,
      headers: bearer(WRITE_KEY),
    },
    {
      name: 'write key: through aliases and fragments',
      query: `mutation { w: ${write} { ...P c: contact { ... on Contact { mail: email } } } }
        fragment P on ContactWritePayload { outcomes { r: remoteId q: request s: status } }`,
      headers: bearer(WRITE_KEY),
    },
    {
      name: 'write key: a read',
      query: `query { contact(externalId: "ext-42") { id email firstName } }`,
      headers: bearer(WRITE_KEY),
    },
    {
      name: 'read key: a read',
      query: `query { contact(externalId: "ext-42") { id email firstName records { remoteId } } }`,
      headers: bearer(READ_KEY),
    },
    {
      name: 'read key: a write',
      query: `mutation { ${write} { outcomes { status } } }`,
      headers: bearer(READ_KEY),
    },
    { name: 'no key', query: `query { providers { provider } }` },
  ];

  it('the same answers for every key and variant, run three times; nothing stored leaks', async () => {
    const before = compiledStats.runs;
    for (const [i, op] of ops.entries()) {
      for (let run = 1; run <= 3; run += 1) {
        const id = `scope-${i}-${run}`;
        const viaJit = await send(compiled.gateway, op, id);
        // The same data and the same errors; graphql-jit reports field errors in another order
        // (the spec gives the list none: graphql-js's is the order its fields happened to fail).
        expect(errorsSorted(viaJit), `${op.name}, run ${run}`).toBe(
          errorsSorted(await send(plain.gateway, op, id)),
        );
        if (op.headers?.['authorization'] === bearer(WRITE_KEY)['authorization']) {
          expect(viaJit, op.name).not.toContain(STORED);
          expect(viaJit, op.name).not.toContain(NAME);
        }
      }
    }
    // The key-less request is refused before execution; every other one ran compiled twice.
    expect(compiledStats.runs - before).toBe((ops.length - 1) * (3 - COMPILE_AFTER_RUNS));
    const read = await send(compiled.gateway, ops[3]!, 'r');
    expect(read).toContain(STORED);
  });
});
