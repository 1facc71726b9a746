import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';

/**
 * The deployable build: `npm run build` (scripts/build.mjs: tsc, then the runtime assets) and the
 * compiled server started as `npm run start:prod` starts it, with no tsx loader. Built into a
 * directory of its own inside the checkout (node_modules must resolve from it), removed after.
 */
const out = path.join('.build-test', randomUUID());
let server: ServerProcess | undefined;

beforeAll(() => {
  execFileSync(process.execPath, ['scripts/build.mjs', out], { stdio: 'pipe' });
}, 240_000);

afterAll(async () => {
  await server?.stop();
  rmSync(out, { recursive: true, force: true });
});

describe('npm run build', () => {
  it('compiles src/ to JavaScript and copies the assets the code loads', () => {
    expect(existsSync(path.join(out, 'server.js'))).toBe(true);
    // The providers' OpenAPI documents (src/specs/), loaded at run time.
    expect(existsSync(path.join(out, 'specs/dotdigital-contacts-v3.openapi.json'))).toBe(true);
    expect(existsSync(path.join(out, 'specs/notifuse.openapi.json'))).toBe(true);
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
      dependencies: Record<string, string>;
      scripts: Record<string, string>;
    };
    expect(Object.keys(pkg.dependencies)).not.toContain('tsx');
    expect(Object.keys(pkg.dependencies)).not.toContain('esbuild');
    expect(pkg.scripts['start:prod']).toBe('node dist/server.js');
  });

  it('starts on the compiled JavaScript (no tsx) and answers an upsert', async () => {
    server = await startServerProcess({ args: [path.join(out, 'server.js')] });
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: `mutation { upsertContact(input: { email: "built@example.com" }, options: { providers: [NOTIFUSE] }) {
          outcomes { provider status } errors { field } } }`,
      }),
    });
    expect(await res.json()).toEqual({
      data: {
        upsertContact: { outcomes: [{ provider: 'NOTIFUSE', status: 'CREATED' }], errors: [] },
      },
    });
    // No warning or error on the way.
    expect(server.stderr()).toBe('');
  }, 120_000);
});
