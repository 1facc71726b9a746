import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtStamp, STAMP_FILE, sourceStamp } from '../../scripts/source-stamp.mjs';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';

/**
 * The deployable build: `npm run build` (scripts/build.mjs: tsc, then the runtime assets) and the
 * compiled server started as `npm run start:prod` starts it, with no tsx loader. Built into a
 * directory of its own inside the checkout (node_modules must resolve from it), removed after.
 */
const out = path.join('.build-test', randomUUID());
let server: ServerProcess | undefined;
let started: ServerProcess | undefined;

const UPSERT = `mutation { upsertContact(input: { email: "built@example.com" }, options: { providers: [NOTIFUSE] }) {
  outcomes { provider status } errors { field } } }`;

async function upsert(url: string): Promise<unknown> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: UPSERT }),
  });
  return res.json();
}

/** `npm start`'s command after `node`, as package.json gives it. */
function npmStartArgs(): string[] {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
    scripts: Record<string, string>;
  };
  const words = pkg.scripts['start']!.split(/\s+/);
  expect(words[0]).toBe('node');
  return words.slice(1);
}

beforeAll(() => {
  execFileSync(process.execPath, ['scripts/build.mjs', out], { stdio: 'pipe' });
}, 240_000);

afterAll(async () => {
  await server?.stop();
  await started?.stop();
  rmSync(out, { recursive: true, force: true });
});

describe('npm run build', () => {
  it('compiles src/ to JavaScript and copies the assets the code loads', () => {
    expect(existsSync(path.join(out, 'server.js'))).toBe(true);
    // Every non-TypeScript file src/ holds (OpenAPI documents the code reads) is in the build.
    const assets = readdirSync('src', { recursive: true, withFileTypes: true }).filter(
      (f) => f.isFile() && !f.name.endsWith('.ts') && f.name !== 'biome.json',
    );
    expect(assets.length).toBeGreaterThan(0);
    for (const f of assets) {
      const relative = path.relative('src', path.join(f.parentPath, f.name));
      expect(existsSync(path.join(out, relative)), relative).toBe(true);
    }
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
    expect(await upsert(server.url)).toEqual({
      data: {
        upsertContact: { outcomes: [{ provider: 'NOTIFUSE', status: 'CREATED' }], errors: [] },
      },
    });
    // No warning or error on the way.
    expect(server.stderr()).toBe('');
  }, 120_000);
});

describe('npm start (scripts/start.mjs): the compiled server, built when the sources changed', () => {
  it('runs a build made from these sources as it is, without building again', async () => {
    // The build above holds the fingerprint of the sources it was made from.
    expect(builtStamp(out)).toBe(sourceStamp('.'));
    started = await startServerProcess({
      args: npmStartArgs(),
      env: { CONTACT_GATEWAY_DIST: out },
    });
    expect(await upsert(started.url)).toEqual({
      data: {
        upsertContact: { outcomes: [{ provider: 'NOTIFUSE', status: 'CREATED' }], errors: [] },
      },
    });
    expect(started.stderr()).toBe('');
    // The process is `node scripts/start.mjs`: no loader flag, so it runs that build's server.js.
    const argv = readFileSync(`/proc/${started.child.pid}/cmdline`, 'utf8').split('\0');
    expect(argv.slice(1, -1)).toEqual(npmStartArgs());
    await started.stop();
    started = undefined;
  }, 120_000);

  it('builds again when the build was made from other sources, and keeps the new fingerprint', () => {
    writeFileSync(path.join(out, STAMP_FILE), 'sources of another checkout\n');
    const result = spawnSync(process.execPath, [...npmStartArgs(), '--build'], {
      env: { ...process.env, CONTACT_GATEWAY_DIST: out },
      encoding: 'utf8',
    });
    expect(result.status).toBe(0);
    // Nothing on stdout (the server's log stream): the build reports on stderr.
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/was built from other sources: building it/);
    expect(result.stderr).toMatch(/built .* in [\d.]+ s/);
    expect(builtStamp(out)).toBe(sourceStamp('.'));
    expect(existsSync(path.join(out, 'server.js'))).toBe(true);
    // Nothing left beside it from the build (it was made in a directory of its own, then moved).
    expect(readdirSync(path.dirname(out)).filter((f) => f.includes('.building-'))).toEqual([]);
  }, 240_000);

  it('stops with exit code 1 and says so when the build fails', () => {
    // A build directory that cannot be made (its parent is a file): tsc fails to write.
    const blocked = path.join('.build-test', randomUUID());
    writeFileSync(blocked, 'not a directory');
    try {
      const result = spawnSync(process.execPath, [...npmStartArgs()], {
        env: { ...process.env, CONTACT_GATEWAY_DIST: path.join(blocked, 'dist') },
        encoding: 'utf8',
      });
      expect(result.status).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/is not built: building it/);
      expect(result.stderr).toMatch(/npm start: the build failed \(see above\)/);
    } finally {
      rmSync(blocked, { force: true });
    }
  }, 240_000);

  it('fingerprints every source file by path, size and modification time', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'source-stamp-'));
    try {
      mkdirSync(path.join(root, 'src/a'), { recursive: true });
      mkdirSync(path.join(root, 'scripts'));
      for (const f of [
        'tsconfig.json',
        'tsconfig.build.json',
        'package.json',
        'scripts/build.mjs',
      ]) {
        writeFileSync(path.join(root, f), '{}');
      }
      writeFileSync(path.join(root, 'src/a/x.ts'), 'export const x = 1;');
      const first = sourceStamp(root);
      expect(sourceStamp(root)).toBe(first);
      writeFileSync(path.join(root, 'src/a/x.ts'), 'export const x = 12;');
      const edited = sourceStamp(root);
      expect(edited).not.toBe(first);
      utimesSync(path.join(root, 'src/a/x.ts'), new Date(0), new Date(0));
      const touched = sourceStamp(root);
      expect(touched).not.toBe(edited);
      writeFileSync(path.join(root, 'src/y.json'), '{}');
      const added = sourceStamp(root);
      expect(added).not.toBe(touched);
      writeFileSync(path.join(root, 'tsconfig.build.json'), '{ }');
      const config = sourceStamp(root);
      expect(config).not.toBe(added);
      rmSync(path.join(root, 'src/y.json'));
      expect(sourceStamp(root)).not.toBe(config);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
