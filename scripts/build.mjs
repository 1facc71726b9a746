// `npm run build`: compile src/ with tsc (tsconfig.build.json) into dist/ (or the directory given
// as the first argument), then copy the files src/ loads at run time that are not TypeScript
// (e.g. the Dotdigital OpenAPI document its sandbox validates against). Run the result with
// `npm run start:prod` (node dist/server.js): no tsx, no esbuild. `npm start` (scripts/start.mjs)
// runs this when the build is missing or older than the sources: the build holds the fingerprint
// of the sources it was made from (`.source-stamp`, taken before compiling, so a file changed
// meanwhile makes the next start build again). It is made in a directory beside the target and
// put in place when complete, so a failed or interrupted build leaves the previous one whole.
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { builtStamp, STAMP_FILE, sourceStamp } from './source-stamp.mjs';

const out = path.resolve(process.argv[2] ?? 'dist');
const SKIP = new Set(['biome.json']);
const started = performance.now();

const stamp = sourceStamp('.');
const building = `${out}.building-${process.pid}`;
rmSync(building, { recursive: true, force: true });
try {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', building], {
    stdio: 'inherit',
  });
  let copied = 0;
  for (const entry of readdirSync('src', { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name.endsWith('.ts') || SKIP.has(entry.name)) {
      continue;
    }
    const from = path.join(entry.parentPath, entry.name);
    cpSync(from, path.join(building, path.relative('src', from)));
    copied += 1;
  }
  writeFileSync(path.join(building, STAMP_FILE), `${stamp}\n`);
  rmSync(out, { recursive: true, force: true });
  try {
    renameSync(building, out);
  } catch (err) {
    // Another build (a second `npm start` at the same moment) put its own in place meanwhile:
    // made from the same sources, it serves as well; from other ones, this build fails.
    if (builtStamp(out) !== stamp) {
      throw err;
    }
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `built ${path.relative('.', out) || '.'}/ in ${seconds} s (${copied} asset(s) copied from src/)`,
  );
} finally {
  rmSync(building, { recursive: true, force: true });
}
