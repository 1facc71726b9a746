/**
 * The server process evaluates graphql-js in its production mode, whatever `NODE_ENV` says.
 * graphql-js picks its internal `instanceOf` once, when its module is evaluated: outside
 * `NODE_ENV=production` every type check that fails (`isObjectType(t)` on a scalar …, a few
 * hundred per request) also reads both constructors' names to detect a second copy of graphql in
 * `node_modules` — a development aid, and ~2 % of the CPU of an upsert. The lockfile holds one
 * copy. `NODE_ENV` is put back as it was before any other module reads it, so the gateway's own
 * production switch (`NODE_ENV=production`: no suggestions …) is unchanged. Must be the first
 * import of the entry point (`src/server.ts`); tests keep graphql-js's development checks.
 */
import { savedNodeEnv } from './graphql-mode-begin.js';
import 'graphql';

if (savedNodeEnv === undefined) {
  delete process.env['NODE_ENV'];
} else {
  process.env['NODE_ENV'] = savedNodeEnv;
}
