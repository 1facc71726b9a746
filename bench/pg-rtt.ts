/**
 * What one PostgreSQL round trip costs on this machine, back to back and after the idle a
 * sequential upsert leaves between its store calls (the provider's answer delay): a named
 * `SELECT $1` through `pg`'s pool, as the gateway's store sends its statements.
 *
 *   DATABASE_URL=postgres://… taskset -c 0 node --import tsx bench/pg-rtt.ts   [RTT_N=300 RTT_IDLE=0,20]
 *
 * `RTT_PIN_BACKEND=<cpu>` pins the server process serving the connection to that core (`taskset
 * -p`; the server must be on this machine): 0 is the gateway's core under `npm run bench`, 1 the
 * probe's and the sandboxes'. Unpinned, the kernel places it.
 *
 * Pinned to core 0 (where `npm run bench` runs the gateway), the figure is the floor under the
 * gateway-pg rows: a known contact's upsert makes two such round trips (a look-up before the
 * provider call, the save after it), so at 20 ms it cannot come closer to the floor than two of
 * these after 20 ms of idle, whatever the gateway's own code costs.
 */
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

const url = process.env['DATABASE_URL'];
if (!url) {
  process.stderr.write('bench/pg-rtt.ts needs DATABASE_URL\n');
  process.exit(2);
}
const n = Number(process.env['RTT_N'] ?? 300);
const idles = (process.env['RTT_IDLE'] ?? '0,20,0,20').split(',').map(Number);
const pool = new pg.Pool({ connectionString: url, max: 1, min: 1 });
const statement = { name: 'rtt', text: 'SELECT $1::int AS x', values: [1] };

async function run(idleMs: number, count: number): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < count; i += 1) {
    if (idleMs > 0) {
      await sleep(idleMs);
    }
    const start = performance.now();
    await pool.query(statement);
    ms.push(performance.now() - start);
  }
  return ms.sort((a, b) => a - b);
}

const at = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!.toFixed(3);

const pin = process.env['RTT_PIN_BACKEND'];
if (pin) {
  const { rows } = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  execFileSync('taskset', ['-p', '-c', pin, String(rows[0]!.pid)], { stdio: 'ignore' });
  console.log(`server process ${rows[0]!.pid} pinned to core ${pin}`);
}
await run(0, 2000);
console.log('| idle before each round trip | p50 ms | p90 ms | p99 ms |');
console.log('|--:|--:|--:|--:|');
for (const idle of idles) {
  const sorted = await run(idle, n);
  console.log(`| ${idle} ms | ${at(sorted, 0.5)} | ${at(sorted, 0.9)} | ${at(sorted, 0.99)} |`);
}
await pool.end();
