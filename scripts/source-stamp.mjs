// The fingerprint of what `npm run build` compiles: every file under src/ (path, size and
// modification time) and the files that decide how it is compiled. scripts/build.mjs writes it
// into the build (`.source-stamp`); `npm start` (scripts/start.mjs) builds again when the
// fingerprint of the checkout differs from the one in dist/. Reading it stats ~250 files (~5 ms).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** The file in a build that holds the fingerprint of the sources it was built from. */
export const STAMP_FILE = '.source-stamp';

/** What a build depends on, relative to the checkout: a directory stands for every file in it. */
const INPUTS = ['src', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'scripts/build.mjs'];

/** The fingerprint of the sources under `root` (hex). */
export function sourceStamp(root) {
  const files = [];
  for (const input of INPUTS) {
    const at = path.join(root, input);
    if (statSync(at).isDirectory()) {
      for (const entry of readdirSync(at, { recursive: true, withFileTypes: true })) {
        if (entry.isFile()) {
          files.push(path.relative(root, path.join(entry.parentPath, entry.name)));
        }
      }
    } else {
      files.push(input);
    }
  }
  files.sort();
  const hash = createHash('sha256');
  for (const file of files) {
    const s = statSync(path.join(root, file));
    hash.update(`${file}\0${s.size}\0${s.mtimeMs}\n`);
  }
  return hash.digest('hex');
}

/** The fingerprint a build in `out` was made from, or null (none there: not built, or by hand). */
export function builtStamp(out) {
  try {
    return readFileSync(path.join(out, STAMP_FILE), 'utf8').trim();
  } catch {
    return null;
  }
}
