import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  killServerProcesses,
  type ServerProcess,
  startServerProcess,
} from '../helpers/server-process.js';

/**
 * What a new user gets from `npm start`: the real process, with no credentials, on a real port. It
 * runs src/server.ts (through tsx), the code `npm start` compiles and runs (build.test.ts starts
 * `npm start`'s own command on a build).
 */
let server: ServerProcess;
let url = '';
let logs: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  // As `npm start` runs it: the default log format.
  server = await startServerProcess({ env: { LOG_FORMAT: undefined }, startTimeoutMs: 60_000 });
  ({ url, logs } = server);
  // The embedded database's first start takes a few seconds on a busy 2-core machine.
}, 60_000);

afterAll(killServerProcesses);

describe('npm start with no credentials (sandbox mode)', () => {
  it('logs each provider’s mode and the GraphiQL URL', () => {
    // Every line is JSON (the default format when not on a terminal).
    for (const line of server.lines) {
      expect(() => JSON.parse(line), line).not.toThrow();
    }
    const modes = Object.fromEntries(
      logs.filter((l) => typeof l['provider'] === 'string').map((l) => [l['provider'], l['mode']]),
    );
    expect(modes).toEqual({
      DIGITAL_ONBOARDING: 'SANDBOX',
      NOTIFUSE: 'SANDBOX',
      DOTDIGITAL: 'SANDBOX',
      SALESFORCE_MC: 'SANDBOX',
    });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
    expect(
      logs.some((l) => String(l['msg']).startsWith('GraphiQL ready at http://127.0.0.1:')),
    ).toBe(true);
    expect(logs.find((l) => l['auth'] === 'anonymous')?.['msg']).toBe(
      'no GATEWAY_API_KEYS: anonymous access with every scope, listening on loopback only (127.0.0.1); set keys to serve other machines',
    );
  });

  it('serves GraphiQL opening on the example upsert and query', async () => {
    const res = await fetch(url, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('GraphiQL');
    expect(html).toContain('mutation UpsertOne');
    expect(html).toContain('query ReadBack');
  });

  it('answers upsertContact CREATED then UPDATED with one gateway id, and shuts down on SIGTERM', async () => {
    const send = async () => {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query: `mutation { upsertContact(input: { email: "port@example.com", firstName: "Port" }, options: { providers: [NOTIFUSE] }) {
            contact { id } outcomes { provider status } errors { field } } }`,
        }),
      });
      return (await res.json()) as {
        data: { upsertContact: { contact: { id: string }; outcomes: Array<{ status: string }> } };
      };
    };
    const first = await send();
    const second = await send();
    expect(first.data.upsertContact.outcomes).toEqual([
      { provider: 'NOTIFUSE', status: 'CREATED' },
    ]);
    expect(second.data.upsertContact.outcomes).toEqual([
      { provider: 'NOTIFUSE', status: 'UPDATED' },
    ]);
    expect(second.data.upsertContact.contact.id).toBe(first.data.upsertContact.contact.id);

    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });
});
