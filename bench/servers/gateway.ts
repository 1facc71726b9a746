/**
 * The gateway with `createGateway`'s in-memory stores (`gateway-mem`; no user runs it, it shows
 * what the store costs), otherwise served as `src/server.ts` serves it: configured from the
 * environment the runner gives it, `createHttpServer(gateway.listener, config.server)` on `PORT`.
 * bench/lib/probe.mjs (preloaded) answers the runner's commands.
 *
 * `BENCH_SRC_ROOT`: the source tree to build the gateway from (this checkout, or another one:
 * see BENCH_COMPARE).
 */
import { pathToFileURL } from 'node:url';

const root = process.env['BENCH_SRC_ROOT']
  ? pathToFileURL(`${process.env['BENCH_SRC_ROOT'].replace(/\/+$/, '')}/`).href
  : new URL('../../', import.meta.url).href;
const { createGateway } = (await import(`${root}src/app.js`)) as typeof import('../../src/app.js');
const { loadConfig } = (await import(
  `${root}src/config.js`
)) as typeof import('../../src/config.js');
const { createLogger } = (await import(
  `${root}src/logger.js`
)) as typeof import('../../src/logger.js');
const { createHttpServer } = (await import(
  `${root}src/http-server/server-options.js`
)) as typeof import('../../src/http-server/server-options.js');

const config = loadConfig(process.env);
const gateway = createGateway(config, {
  logger: createLogger(config.logLevel, undefined, 'json'),
});
const server = createHttpServer(gateway.listener, config.server);
server.listen(config.port, config.host);
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
