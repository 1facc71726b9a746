import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../../../src/app.js';
import { loadConfig } from '../../../src/config.js';
import { createLogger } from '../../../src/logger.js';
import { type RunningSandboxes, startSandboxes } from '../../../src/sandbox-mode.js';
import { openStores } from '../../../src/store/open.js';
import { upstreamRequests } from './keys.js';

/**
 * Read arguments are validated like write inputs: a NUL (which the store refuses), an empty or
 * overlong value, an invalid email is a BAD_USER_INPUT naming the argument, before the store or any
 * provider sees it — not "Unexpected error." with a stack in the log.
 */
describe('read arguments (production)', () => {
  const lines: string[] = [];
  let sandboxes: RunningSandboxes;
  let gateway: Gateway;
  const t = {
    get sandboxes() {
      return sandboxes;
    },
    async gql(query: string, variables: Record<string, unknown>) {
      const res = await gateway.yoga.fetch('http://gateway/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query, variables }),
      });
      return {
        status: res.status,
        ...((await res.json()) as {
          data?: unknown;
          errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
        }),
      };
    },
  };
  beforeAll(async () => {
    // The embedded PostgreSQL store, as in production: it refuses a NUL in text.
    const config = loadConfig({ NODE_ENV: 'production', GATEWAY_DATA_DIR: 'memory://' });
    sandboxes = await startSandboxes(config, { only: ['NOTIFUSE'] });
    gateway = createGateway(sandboxes.config, {
      stores: await openStores(config.storage, { schema: 'read_args' }),
      sandboxed: sandboxes.sandboxed,
      logger: createLogger('info', {
        write: (l: string) => lines.push(l),
      } as unknown as NodeJS.WritableStream),
    });
  }, 60_000);
  afterAll(async () => {
    await gateway.close();
    await sandboxes.close();
  });

  const CASES: Array<[string, string, Record<string, unknown>, string, RegExp]> = [
    [
      'NUL in email',
      'query($v: String) { contact(email: $v) { id } }',
      { v: 'a\u0000b@example.com' },
      'email',
      /must not contain a NUL/,
    ],
    [
      'NUL in externalId',
      'query($v: String) { contact(externalId: $v) { id } }',
      { v: 'x\u0000y' },
      'externalId',
      /must not contain a NUL/,
    ],
    [
      'NUL in id',
      'query($v: ID) { contact(id: $v) { id } }',
      { v: 'x\u0000y' },
      'id',
      /must not contain a NUL/,
    ],
    [
      'NUL in emails',
      'query($v: [String!]) { contacts(emails: $v) { id } }',
      { v: ['ok@example.com', 'a\u0000@example.com'] },
      'emails.1',
      /must not contain a NUL/,
    ],
    [
      'NUL in ids',
      'query($v: [ID!]) { contacts(ids: $v) { id } }',
      { v: ['\u0000'] },
      'ids.0',
      /must not contain a NUL/,
    ],
    [
      'invalid email',
      'query($v: String) { contact(email: $v) { id } }',
      { v: 'not an email' },
      'email',
      /not a valid email/,
    ],
    [
      'overlong externalId',
      'query($v: String) { contact(externalId: $v) { id } }',
      { v: 'x'.repeat(100_000) },
      'externalId',
      /at most 255 characters/,
    ],
    [
      'empty id',
      'query($v: ID) { contact(id: $v) { id } }',
      { v: '  ' },
      'id',
      /must not be empty/,
    ],
  ];

  it.each(CASES)(
    '%s: BAD_USER_INPUT naming the argument, nothing sent',
    async (_name, query, variables, field, message) => {
      const before = upstreamRequests(t);
      const res = await t.gql(query, variables);
      expect(upstreamRequests(t)).toBe(before);
      expect(res.errors).toHaveLength(1);
      expect(res.errors![0]).toMatchObject({
        message: expect.stringMatching(message),
        extensions: { code: 'BAD_USER_INPUT', field },
      });
      expect(res.errors![0]!.message.startsWith(field)).toBe(true);
    },
  );

  it('the log holds no error line and no stack for any of them', () => {
    expect(lines.length).toBeGreaterThan(0);
    const logged = lines.map((l) => JSON.parse(l) as { level: number; err?: unknown });
    expect(logged.filter((l) => l.level >= 50 || l.err !== undefined)).toEqual([]);
    expect(lines.join('\n')).not.toMatch(/\bat .*\.(ts|js):\d+/);
  });

  it('updateContact: a NUL in the id is an InputError on `id`', async () => {
    const res = await t.gql(
      'mutation($v: ID!) { updateContact(id: $v, patch: { firstName: "A" }) { contact { id } errors { field code } } }',
      { v: 'x\u0000y' },
    );
    expect(res).toEqual({
      status: 200,
      data: { updateContact: { contact: null, errors: [{ field: 'id', code: 'INVALID_VALUE' }] } },
    });
  });
});
