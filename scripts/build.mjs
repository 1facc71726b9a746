// `npm run build`: compile src/ with tsc (tsconfig.build.json) into dist/ (or the directory given
// as the first argument), then copy the files src/ loads at run time that are not TypeScript
// (e.g. the Dotdigital OpenAPI document its sandbox validates against). Run the result with
// `npm run start:prod` (node dist/server.js): no tsx, no esbuild.
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const out = process.argv[2] ?? 'dist';
const SKIP = new Set(['biome.json']);
const started = performance.now();

rmSync(out, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', out], {
  stdio: 'inherit',
});
let copied = 0;
for (const entry of readdirSync('src', { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || entry.name.endsWith('.ts') || SKIP.has(entry.name)) {
    continue;
  }
  const from = path.join(entry.parentPath, entry.name);
  cpSync(from, path.join(out, path.relative('src', from)));
  copied += 1;
}
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(`built ${out}/ in ${seconds} s (${copied} asset(s) copied from src/)`);
