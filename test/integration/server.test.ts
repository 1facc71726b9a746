import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * What a new user gets from `npm start`: the real process (same command as package.json), with no
 * credentials, on a real port.
 */
let child: ChildProcess;
let url = '';
const logs: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    // Its own embedded database, not ./data of the checkout.
    GATEWAY_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'gateway-server-test-')),
  };
  child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = createInterface({ input: child.stdout! });
  url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`server did not start: ${JSON.stringify(logs)}`)),
      60_000,
    );
    lines.on('line', (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      logs.push(entry);
      if (typeof entry['url'] === 'string') {
        clearTimeout(timer);
        resolve(entry['url']);
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  // The embedded database's first start takes a few seconds on a busy 2-core machine.
}, 60_000);

afterAll(async () => {
  if (child.exitCode === null) {
    child.kill('SIGKILL');
  }
});

describe('npm start with no credentials (sandbox mode)', () => {
  it('logs each provider’s mode and the GraphiQL URL', () => {
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

    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => resolve(code)),
    );
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
