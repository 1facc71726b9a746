import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/**
 * The server's entry imports src/runtime/graphql-mode.ts first: graphql-js is evaluated in its
 * production mode (plain `instanceof` type checks), and `NODE_ENV` is left as the user set it.
 * Run in a fresh process: this test process loaded graphql-js long ago.
 */
function probe(nodeEnv: string | undefined): { instanceOf: string; nodeEnv: string | null } {
  const script = `
    await import('./src/runtime/graphql-mode.ts');
    const { createRequire } = await import('node:module');
    const require = createRequire(process.cwd() + '/src/server.ts');
    const { instanceOf } = require('graphql/jsutils/instanceOf.js');
    console.log(JSON.stringify({ instanceOf: String(instanceOf), nodeEnv: process.env.NODE_ENV ?? null }));
  `;
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'] ?? '' };
  if (nodeEnv !== undefined) {
    env['NODE_ENV'] = nodeEnv;
  }
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script],
    {
      env,
      encoding: 'utf8',
    },
  );
  return JSON.parse(out.trim().split('\n').at(-1)!) as {
    instanceOf: string;
    nodeEnv: string | null;
  };
}

const PLAIN =
  /^function instanceOf\(value, constructor\) \{\s*return value instanceof constructor;\s*\}$/;

describe('graphql-js runs in production mode in the server process', () => {
  it.each([
    ['unset', undefined, null],
    ['development', 'development', 'development'],
    ['test', 'test', 'test'],
    ['production', 'production', 'production'],
  ])('NODE_ENV %s: plain instanceof, and NODE_ENV afterwards as it was', (_label, given, after) => {
    const seen = probe(given);
    expect(seen.instanceOf).toMatch(PLAIN);
    expect(seen.nodeEnv).toBe(after);
  });

  it('is the first import of the entry point', async () => {
    const { readFile } = await import('node:fs/promises');
    const server = await readFile(new URL('../../src/server.ts', import.meta.url), 'utf8');
    const firstImport = server
      .split('\n')
      .find((line) => /^import\s/.test(line) && !/^import type/.test(line));
    expect(firstImport).toBe("import './runtime/graphql-mode.js';");
  });
});
