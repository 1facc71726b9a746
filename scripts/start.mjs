// `npm start`: the gateway on compiled JavaScript (dist/server.js, what `npm run start:prod` runs),
// built first when dist/ is missing or was built from other sources than the checkout's
// (scripts/source-stamp.mjs): the first start after `npm ci` or a change under src/ compiles
// (`npm run build`, ~10 s with tsc on two cores), later ones check the fingerprint (~5 ms).
// Run from the compiled JavaScript, the process holds ~50 MB less than under the tsx loader
// (which keeps every module's transformed source and source map) and opens its port ~1 s sooner.
// `npm run dev` still runs src/ through tsx, reloading on changes.
//
//   node scripts/start.mjs            # build if needed, then serve (in this process)
//   node scripts/start.mjs --build    # only bring the build up to date
//
// `CONTACT_GATEWAY_DIST` puts the build elsewhere (default dist/ of the checkout; a directory
// inside the checkout, so that the compiled code finds node_modules).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { builtStamp, sourceStamp } from './source-stamp.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = path.resolve(root, process.env.CONTACT_GATEWAY_DIST || 'dist');
const have = builtStamp(out);
if (have !== sourceStamp(root)) {
  // On stderr, as the build's own output: stdout carries the server's log lines.
  console.error(
    `${path.relative(root, out)}/ ${have === null ? 'is not built' : 'was built from other sources'}: building it (npm run build) …`,
  );
  try {
    execFileSync(process.execPath, [path.join(root, 'scripts/build.mjs'), out], {
      cwd: root,
      stdio: ['ignore', 2, 2],
    });
  } catch {
    // tsc said why above (a type error stops the build; tsx would have run the code anyway).
    console.error(
      'npm start: the build failed (see above); the previous build, if any, is unchanged. `npm run dev` runs src/ through tsx without building.',
    );
    process.exit(1);
  }
}
if (!process.argv.includes('--build')) {
  await import(pathToFileURL(path.join(out, 'server.js')).href);
}
