import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { SANDBOX_CREDENTIALS } from '../../../src/sandbox-mode.js';
import { bearer, FULL_KEY, KEYS_ENV, READ_KEY } from './keys.js';

/** The real process (`npm start`'s command) on a real port, as an operator deploys it. */
function start(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: {
      PATH: process.env['PATH'] ?? '',
      PORT: '0',
      LOG_LEVEL: 'debug',
      LOG_FORMAT: 'json',
      // Its own embedded database, not ./data of the checkout.
      GATEWAY_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'gateway-hardening-test-')),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => stdout.push(l));
  createInterface({ input: child.stderr! }).on('line', (l) => stderr.push(l));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return { child, stdout, stderr, exited };
}

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) {
    if (c.exitCode === null) {
      c.kill('SIGKILL');
    }
  }
});

describe('server binding and hardened start', () => {
  it('refuses a non-loopback HOST without GATEWAY_API_KEYS, naming both', async () => {
    const run = start({ HOST: '0.0.0.0' });
    children.push(run.child);
    expect(await run.exited).toBe(2);
    expect(run.stderr.join('\n')).toContain(
      'HOST=0.0.0.0 is not a loopback address: without GATEWAY_API_KEYS the gateway serves this machine only',
    );
    expect(run.stdout.join('\n')).not.toContain('"url"');
  });

  it('in production with keys: 401 without a key, writes with one, and the whole log holds no secret or PII', async () => {
    const run = start({ ...KEYS_ENV, HOST: '127.0.0.1', NODE_ENV: 'production' });
    children.push(run.child);
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setInterval(() => {
        const line = run.stdout.find((l) => l.includes('"url"'));
        if (line) {
          clearInterval(timer);
          resolve((JSON.parse(line) as { url: string }).url);
        }
      }, 20);
      void run.exited.then((code) => {
        clearInterval(timer);
        reject(new Error(`server exited with ${code}: ${run.stderr.join('\n')}`));
      });
    });
    const send = (headers: Record<string, string>, query: string) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query }),
      });

    const page = await fetch(url, { headers: { accept: 'text/html' } });
    expect(await page.text()).not.toContain('GraphiQL');
    const anonymous = await send({}, '{ providers { provider } }');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const readOnly = await send(
      bearer(READ_KEY),
      'mutation { upsertContact(input: { email: "ro.server@example.com" }) { contact { id } } }',
    );
    expect(await readOnly.json()).toMatchObject({
      data: null,
      errors: [{ extensions: { code: 'FORBIDDEN' } }],
    });
    const write = await send(
      { ...bearer(FULL_KEY), 'x-request-id': 'server-write-1' },
      'mutation { upsertContact(input: { email: "linus.server@example.com", firstName: "Linnea", phone: "+14155550199" }, options: { providers: [NOTIFUSE] }) { outcomes { provider status } } }',
    );
    expect(write.headers.get('x-request-id')).toBe('server-write-1');
    expect(await write.json()).toEqual({
      data: { upsertContact: { outcomes: [{ provider: 'NOTIFUSE', status: 'CREATED' }] } },
    });

    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);

    const log = run.stdout.join('\n');
    const entries = run.stdout.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(entries.find((e) => e['auth'] === 'api-keys')).toMatchObject({
      msg: '3 API key(s): reader [contacts:read]; writer [contacts:write]; partner [contacts:read, contacts:write]',
    });
    expect(
      entries.some((e) => String(e['msg']).startsWith('GraphQL endpoint at http://127.0.0.1:')),
    ).toBe(true);
    expect(
      entries.filter((e) => e['msg'] === 'request' && e['requestId'] === 'server-write-1'),
    ).toHaveLength(1);
    for (const secret of [
      FULL_KEY,
      READ_KEY,
      SANDBOX_CREDENTIALS.notifuse.apiKey,
      SANDBOX_CREDENTIALS.dotdigital.password,
      'linus.server@example.com',
      'ro.server@example.com',
      'Linnea',
      '14155550199',
    ]) {
      expect(log).not.toContain(secret);
    }
    // The embedded database's first start takes a few seconds on a busy 2-core machine.
  }, 60_000);
});
