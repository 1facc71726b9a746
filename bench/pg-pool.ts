/**
 * What the PostgreSQL pool's size does to a loaded store: `POOL_WORKERS` (32) loops, each claiming
 * a known contact and saving it as a sequential upsert does (the gateway's own identity store,
 * `openStores` as the server opens it), for every size in `POOL_SIZES`, in one process pinned
 * where the caller pins it. Prints the loop's rate, this process's CPU and the PostgreSQL server
 * processes' CPU per claim and save (their `/proc/<pid>/stat` times: the server must be on this
 * machine), and the claim's and save's p50.
 *
 *   DATABASE_URL=postgres://… taskset -c 0 node --import tsx bench/pg-pool.ts   [POOL_SIZES=2,4,10 POOL_N=8000 POOL_WORKERS=32]
 *
 * Each size gets its own schema (dropped after). `POOL_DISTINCT=1` gives every loop its own
 * contact (default: all write one, as part 2 of `npm run bench` does).
 */
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { openStores } from '../src/store/open.js';
import { postgresCpuUs } from './lib/machine.js';
import { percentile, sorted } from './lib/stats.js';

const url = process.env['DATABASE_URL'];
if (!url) {
  process.stderr.write('bench/pg-pool.ts needs DATABASE_URL\n');
  process.exit(2);
}
const sizes = (process.env['POOL_SIZES'] ?? '2,4,10').split(',').map(Number);
const n = Number(process.env['POOL_N'] ?? 8000);
const workers = Number(process.env['POOL_WORKERS'] ?? 32);
const distinct = process.env['POOL_DISTINCT'] === '1';
const database = new URL(url).pathname.slice(1) || 'postgres';

async function run(poolSize: number) {
  const schema = `pool_bench_${process.pid}_${poolSize}`;
  // As the server opens them: the storage settings `DATABASE_URL` and `DATABASE_POOL_SIZE` give.
  const { storage } = loadConfig({ DATABASE_URL: url, DATABASE_POOL_SIZE: String(poolSize) });
  const stores = await openStores(storage, { schema });
  const now = () => new Date().toISOString();
  const emails = Array.from({ length: workers }, (_, w) =>
    distinct ? `loop-${w}@bench.example.com` : 'probe@bench.example.com',
  );
  for (const email of new Set(emails)) {
    const { record } = await stores.identity.claim({ email }, now());
    await stores.identity.save({ ...record, view: { email, firstName: 'Probe' } });
  }
  const claims: number[] = [];
  const saves: number[] = [];
  const loop = async (email: string) => {
    for (let i = 0; i < n / workers; i += 1) {
      let t = performance.now();
      const { record } = await stores.identity.claim({ email }, now());
      claims.push(performance.now() - t);
      const written = now();
      t = performance.now();
      await stores.identity.save({
        ...record,
        view: { ...record.view, email, firstName: `Probe ${i}` },
        records: { NOTIFUSE: { provider: 'NOTIFUSE', remoteId: email, syncedAt: written } },
        updatedAt: written,
      });
      saves.push(performance.now() - t);
    }
  };
  const server0 = postgresCpuUs(database) ?? Number.NaN;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  await Promise.all(emails.map(loop));
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const server = (postgresCpuUs(database) ?? Number.NaN) - server0;
  await stores.close();
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
  const count = claims.length;
  return {
    poolSize,
    rate: count / seconds,
    clientUs: (cpu.user + cpu.system) / count,
    serverUs: server / count,
    claimP50: percentile(sorted(claims), 50),
    saveP50: percentile(sorted(saves), 50),
  };
}

const rows = [];
for (const size of sizes) {
  rows.push(await run(size));
}
const lines = [
  `${workers} loops, ${n} claims and saves per pool size, ${distinct ? 'one contact per loop' : 'one contact'}`,
  '',
  '| pool | claims and saves / s | this process µs each | PostgreSQL server µs each | claim p50 ms | save p50 ms |',
  '|--:|--:|--:|--:|--:|--:|',
  ...rows.map(
    (r) =>
      `| ${r.poolSize} | ${r.rate.toFixed(0)} | ${r.clientUs.toFixed(0)} | ${r.serverUs.toFixed(0)} | ${r.claimP50.toFixed(3)} | ${r.saveP50.toFixed(3)} |`,
  ),
];
process.stdout.write(`${lines.join('\n')}\n`);
