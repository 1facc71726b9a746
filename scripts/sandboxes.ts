/**
 * Runs the provider sandboxes alone, on fixed loopback ports, for your own development:
 *
 *   npm run sandboxes                      # Notifuse on 127.0.0.1:4101
 *   SANDBOX_NOTIFUSE_PORT=5001 npm run sandboxes
 *
 * Point a gateway (or anything else) at them with the printed variables.
 */

import { startNotifuseSandbox } from '../src/sandbox/notifuse/index.js';
import { SANDBOX_CREDENTIALS } from '../src/sandbox-mode.js';

const host = process.env['SANDBOX_HOST'] ?? '127.0.0.1';
const notifuse = await startNotifuseSandbox({
  ...SANDBOX_CREDENTIALS.notifuse,
  host,
  port: Number(process.env['SANDBOX_NOTIFUSE_PORT'] ?? 4101),
});

console.log(`Notifuse sandbox on ${notifuse.url}  (controls: ${notifuse.url}/__sandbox/requests)`);
console.log(
  `  NOTIFUSE_URL=${notifuse.url} NOTIFUSE_API_KEY=${SANDBOX_CREDENTIALS.notifuse.apiKey} NOTIFUSE_WORKSPACE_ID=${SANDBOX_CREDENTIALS.notifuse.workspaceId}`,
);

const stop = async () => {
  await notifuse.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
