#!/usr/bin/env node
// contact-gateway command line: `contact-gateway import <file> [options]` (see docs/import.md).
// In a checkout (src/ present) it runs the TypeScript source through tsx, so it works from a fresh
// clone without a build (`npm run import -- file.csv`) and never runs a stale dist/; where only the
// build is shipped (the Docker image) it runs dist/cli/main.js.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const source = new URL('../src/cli/main.ts', import.meta.url);
let main;
if (existsSync(fileURLToPath(source))) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(source.href));
} else {
  ({ main } = await import(new URL('../dist/cli/main.js', import.meta.url).href));
}
try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`contact-gateway: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
