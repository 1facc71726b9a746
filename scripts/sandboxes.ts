/**
 * Runs the provider sandboxes alone, on fixed loopback ports, for your own development:
 *
 *   npm run sandboxes                      # Notifuse on 127.0.0.1:4101, Dotdigital on 4102, …
 *   SANDBOX_NOTIFUSE_PORT=5001 npm run sandboxes
 *
 * Point a gateway (or anything else) at them with the printed variables.
 */

import type { StartedSandbox } from '../src/sandbox/shared/server.js';
import { SANDBOXES } from '../src/sandbox-mode.js';

const host = process.env['SANDBOX_HOST'] ?? '127.0.0.1';
const running: StartedSandbox[] = [];
const env: string[] = [];

for (const d of SANDBOXES) {
  const port = Number(process.env[`SANDBOX_${d.envName}_PORT`] ?? d.defaultPort);
  const sandbox = await d.start(host, port);
  running.push(sandbox);
  console.log(
    `${d.provider} sandbox on ${sandbox.url}  (controls: ${sandbox.url}/__sandbox/requests)`,
  );
  env.push(...Object.entries(d.env(sandbox.url)).map(([k, v]) => `${k}=${v}`));
}
console.log('\nPoint a gateway at them:\n');
console.log(`  ${env.join(' \\\n  ')} \\\n  npm start`);

const stop = async () => {
  await Promise.all(running.map((s) => s.close()));
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
