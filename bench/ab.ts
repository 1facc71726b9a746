/**
 * CPU per `upsertContact` of two checkouts' gateways, A/B in ONE process, for changes smaller than
 * what `npm run bench` resolves on a shared machine (its servers are separate processes measured
 * at different moments; here the blocks alternate within seconds and share every disturbance):
 *
 *   node --import tsx bench/ab.ts before=/path/to/checkout after=.      [AB_N=300 AB_ROUNDS=20 AB_CLIENTS=16 AB_DELAY=0 AB_WARM=2000]
 *   node --import tsx bench/ab.ts embedded=. memory=.#memory            # what the embedded store costs
 *   DATABASE_URL=postgres://… node --import tsx bench/ab.ts before=<checkout>#pg after=.#pg   # on PostgreSQL
 *
 * Each checkout's `createGateway` (its own modules, its own `node_modules`), the embedded store
 * in a fresh data directory and the default log level (JSON lines to stdout: redirect it), behind
 * its own node:http server; one Notifuse sandbox (0 ms) and an undici client in the same process.
 * Blocks of AB_N upserts alternate A/B (order swapped every round) after a 2,000-request warm-up;
 * the figure is the process's CPU per request (client and sandbox included, the same for both),
 * and the per-round ratio B/A.
 */
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Pool } from 'undici';
import { dropDatabases, freshDatabase } from './lib/suts.js';
import { UPSERT_BODY } from './parts/hop.js';

const N = Number(process.env['AB_N'] ?? 300);
const ROUNDS = Number(process.env['AB_ROUNDS'] ?? 20);
const CLIENTS = Number(process.env['AB_CLIENTS'] ?? 16);
/**
 * Upserts each variant serves before the measured rounds (`AB_WARM`). 2,000 is not always steady
 * state: on 2026-12-07 an A/B of compiled operations read 0.67–0.72 in its first four rounds and
 * 0.89–1.00 in the rest (the code before still being optimized); read the later rounds, or raise it.
 */
const WARM = Number(process.env['AB_WARM'] ?? 2000);
/** The sandbox's answer delay (ms): 20 with 32 clients is part 2's load of `npm run bench`. */
const DELAY_MS = Number(process.env['AB_DELAY'] ?? 0);

const checkouts = process.argv.slice(2).map((arg) => {
  const [name, spec] = arg.split('=');
  // `name=<checkout>#memory`: that checkout with createGateway's in-memory stores (what the store
  // costs); `#pg`: with `DATABASE_URL` (a fresh database per variant, dropped at the end).
  const [root, store] = (spec ?? '').split('#');
  return {
    name: name ?? '',
    root: resolve(root ?? ''),
    memory: store === 'memory',
    pg: store === 'pg',
  };
});
if (checkouts.length !== 2 || checkouts.some((c) => !c.name)) {
  process.stderr.write('usage: node --import tsx bench/ab.ts A=<checkout> B=<checkout>\n');
  process.exit(2);
}

// Modules of another checkout are typed loosely: their exports may differ from this one's.
type Loaded = Record<string, (...args: unknown[]) => unknown>;
const load = (root: string, path: string) => import(join(root, path)) as Promise<Loaded>;

const mode = await load(checkouts[0]!.root, 'src/sandbox-mode.ts');
const first = await load(checkouts[0]!.root, 'src/config.ts');
const running = (await mode['startSandboxes']!(first['loadConfig']!({ LOG_LEVEL: 'silent' }), {
  only: ['NOTIFUSE'],
})) as {
  sandboxes: Array<{ sandbox: { url: string; controls: { setLatency(ms: number): void } } }>;
};
const sandbox = running.sandboxes[0]!.sandbox;
sandbox.controls.setLatency(DELAY_MS);
const descriptors = (mode['SANDBOXES'] as unknown as Array<{
  provider: string;
  env(url: string): Record<string, string>;
}>)!;
const sandboxEnv = descriptors.find((d) => d.provider === 'NOTIFUSE')!.env(sandbox.url);

interface Variant {
  name: string;
  pool: Pool;
  cpu: number[];
}
const variants: Variant[] = [];
const databaseUrl = process.env['DATABASE_URL'] ?? '';
if (checkouts.some((c) => c.pg) && !databaseUrl) {
  process.stderr.write('a #pg variant needs DATABASE_URL\n');
  process.exit(2);
}
for (const { name, root, memory, pg } of checkouts) {
  let pgUrl: string | null = null;
  if (pg) {
    const db = `ab_${name.replace(/\W/g, '_').toLowerCase()}`;
    await freshDatabase(databaseUrl, db);
    const url = new URL(databaseUrl);
    url.pathname = `/${db}`;
    pgUrl = url.toString();
  }
  const config = (await load(root, 'src/config.ts'))['loadConfig']!({
    ...sandboxEnv,
    ...(pgUrl ? { DATABASE_URL: pgUrl } : {}),
    GATEWAY_DATA_DIR: mkdtempSync(join(tmpdir(), `ab-${name}-`)),
    HOST: '127.0.0.1',
    PORT: '0',
  }) as { logLevel: string; storage: unknown; server: unknown };
  const logger = (await load(root, 'src/logger.ts'))['createLogger']!(
    config.logLevel,
    undefined,
    'json',
  );
  const stores = memory
    ? undefined
    : await (await load(root, 'src/store/open.ts'))['openStores']!(config.storage);
  const gateway = (await load(root, 'src/app.ts'))['createGateway']!(config, {
    logger,
    ...(stores ? { stores } : {}),
  }) as {
    listener: unknown;
  };
  const server = (await load(root, 'src/http-server/server-options.ts'))['createHttpServer']!(
    gateway.listener,
    config.server,
  ) as import('node:http').Server;
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  variants.push({
    name,
    pool: new Pool(`http://127.0.0.1:${port}`, { connections: CLIENTS }),
    cpu: [],
  });
}

/** CPU µs of this process per request over `n` upserts to `v` (every answer checked). */
async function block(v: Variant, n: number): Promise<number> {
  let left = n;
  const start = process.cpuUsage();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (left-- > 0) {
        const res = await v.pool.request({
          path: '/graphql',
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: UPSERT_BODY,
        });
        const text = await res.body.text();
        if (res.statusCode !== 200 || !text.includes('"status"')) {
          throw new Error(`${v.name}: ${res.statusCode} ${text.slice(0, 200)}`);
        }
      }
    }),
  );
  const used = process.cpuUsage(start);
  return (used.user + used.system) / n;
}

for (const v of variants) {
  await block(v, WARM);
}
for (let round = 0; round < ROUNDS; round += 1) {
  for (const v of round % 2 ? [...variants].reverse() : variants) {
    v.cpu.push(await block(v, N));
  }
}
/** The per-round ratios of the second half of the rounds, apart (drift from warm-up shows here). */
const secondHalf = (xs: number[]) => xs.slice(Math.floor(xs.length / 2));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const [a, b] = variants as [Variant, Variant];
const ratios = b.cpu.map((x, i) => x / a.cpu[i]!);
for (const v of variants) {
  process.stderr.write(
    `${v.name}: ${median(v.cpu).toFixed(0)} µs/req median, ${Math.min(...v.cpu).toFixed(0)} min (process CPU: client, sandbox and gateway)\n`,
  );
}
process.stderr.write(
  `${b.name}/${a.name} per round: median ${median(ratios).toFixed(3)} (${ratios.map((r) => r.toFixed(2)).join(' ')}); second half's median ${median(secondHalf(ratios)).toFixed(3)}\n`,
);
await dropDatabases(databaseUrl || null).catch(() => undefined);
process.exit(0);
