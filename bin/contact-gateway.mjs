#!/usr/bin/env node
// contact-gateway command line: `contact-gateway import <file> [options]` (see docs/import.md).
// Runs the built CLI (dist/cli/main.js) when there is one, else the TypeScript source through tsx,
// so it works from a fresh clone (`npm run import -- file.csv`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = new URL('../dist/cli/main.js', import.meta.url);
let main;
if (existsSync(fileURLToPath(built))) {
  ({ main } = await import(built.href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(new URL('../src/cli/main.ts', import.meta.url).href));
}
try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`contact-gateway: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
