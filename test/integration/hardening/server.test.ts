import { afterAll, describe, expect, it } from 'vitest';
import { SANDBOX_CREDENTIALS } from '../../../src/sandbox-mode.js';
import { killServerProcesses, spawnServerProcess } from '../../helpers/server-process.js';
import { bearer, FULL_KEY, KEYS_ENV, READ_KEY } from './keys.js';

/** The real process (`npm start`'s command) on a real port, as an operator deploys it. */
const start = (env: Record<string, string>) =>
  spawnServerProcess({ env: { LOG_LEVEL: 'debug', HOST: undefined, ...env } });

afterAll(killServerProcesses);

describe('server binding and hardened start', () => {
  it('refuses a non-loopback HOST without GATEWAY_API_KEYS, naming both', async () => {
    const run = start({ HOST: '0.0.0.0' });
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toContain(
      'HOST=0.0.0.0 is not a loopback address: without GATEWAY_API_KEYS the gateway serves this machine only',
    );
    expect(run.lines.join('\n')).not.toContain('"url"');
  });

  it('in production with keys: 401 without a key, writes with one, and the whole log holds no secret or PII', async () => {
    const run = start({ ...KEYS_ENV, HOST: '127.0.0.1', NODE_ENV: 'production' });
    const url = (await run.waitForLog((l) => typeof l['url'] === 'string'))['url'] as string;
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

    const log = run.lines.join('\n');
    const entries = run.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
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
