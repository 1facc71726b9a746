/**
 * Where one sequential upsert's time goes, per server: before the provider call, the call itself,
 * after it, and the GC pauses that delayed requests (before the call or after its answer).
 *
 *   node --import tsx bench/segments.ts                      # the gateway, 20 ms upstream
 *   DATABASE_URL=postgres://… node --import tsx bench/segments.ts   # plus the gateway on PostgreSQL
 *   SEGMENTS_DELAY=0 SEGMENTS_N=2000 node --import tsx bench/segments.ts
 *
 * Each server runs as `npm start` runs it (bench/lib/suts.ts), with the floor (a bare node:http
 * proxy) beside it. The timings come from Node's and undici's own diagnostics channels in the
 * server's process (bench/lib/probe.mjs `segmentsStart`/`segmentsStop`), so the code measured is
 * the code shipped. The first quarter of the requests is left out (warm-up). The figures read as
 * the cost of a request after `SEGMENTS_DELAY` ms of idle: after 20 ms here every step costs
 * several times what it costs back to back (see docs/architecture.md, "Per-request costs").
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { type Child, hasTaskset, type ServerReady, startChild } from './lib/child.js';
import { probe, upsertOk } from './lib/client.js';
import { dropDatabases, gatewaySpecs, type Store, startSut } from './lib/suts.js';
import { GRAPHQL_HEADERS, plannedDirectCall, UPSERT_BODY } from './parts/hop.js';
import type { SandboxInfo } from './servers/sandboxes.js';

const delayMs = Number(process.env['SEGMENTS_DELAY'] ?? 20);
const n = Number(process.env['SEGMENTS_N'] ?? 400);
const databaseUrl = process.env['DATABASE_URL'] || null;
const stores: Store[] = databaseUrl ? ['embedded', 'postgres'] : ['embedded'];
const cpu = hasTaskset() ? { server: 0, client: 1 } : null;

interface Row {
  pre: number;
  upstream: number;
  post: number;
  gc: number;
}

const pct = (values: number[], p: number) => {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? Number.NaN;
};
const ms = (v: number) => v.toFixed(3);

const runDir = mkdtempSync(join(os.tmpdir(), 'contact-gateway-segments-'));
const children: Array<Child<unknown>> = [];
try {
  const sb = await startChild<SandboxInfo[]>('sandboxes', 'sandboxes.ts', {
    env: { BENCH_SANDBOXES: 'NOTIFUSE' },
    ...(cpu ? { cpu: cpu.client } : {}),
  });
  children.push(sb as Child<unknown>);
  await sb.call('latency', { ms: delayMs });
  const notifuse = sb.ready.find((s) => s.provider === 'NOTIFUSE')!;
  const ctx = { runDir, databaseUrl, cpuProf: '', ...(cpu ? { cpu: cpu.server } : {}) };
  const servers: Array<{ name: string; child: Child<ServerReady>; path: string }> = [];
  for (const spec of gatewaySpecs(stores)) {
    const child = await startSut(spec, ctx, { phase: 'segments', env: notifuse.env, fresh: true });
    children.push(child as Child<unknown>);
    servers.push({ name: spec.name, child, path: '/graphql' });
  }
  // The floor makes the adapter's exact request (from a dry run), as in `npm run bench`.
  const direct = await plannedDirectCall(`http://127.0.0.1:${servers[0]!.child.ready.port}`);
  const floor = await startChild<{ port: number }>('bare-proxy', 'bare.ts', {
    env: {
      BENCH_UPSTREAM: JSON.stringify({ url: notifuse.url, ...direct }),
      BENCH_UPSTREAM_CONNECTIONS: '1',
    },
    ...(cpu ? { cpu: cpu.server } : {}),
  });
  children.push(floor as Child<unknown>);
  servers.unshift({
    name: 'bare-proxy (floor)',
    child: floor as unknown as Child<ServerReady>,
    path: '/proxy',
  });
  console.log(
    `sequential upsertContact, Notifuse sandbox delay ${delayMs} ms, ${n} requests per server (first quarter left out); ms`,
  );
  console.log('');
  console.log(
    '| server | client p50 | before the call p50 | the call p50 | after the call p50 | before + after p50 | requests a GC pause delayed | those pauses, p50 / max |',
  );
  console.log('|---|--:|--:|--:|--:|--:|--:|--:|');
  for (const s of servers) {
    const client = probe({
      name: s.name,
      origin: `http://127.0.0.1:${s.child.ready.port}`,
      path: s.path,
      headers: GRAPHQL_HEADERS,
      body: UPSERT_BODY,
      check: upsertOk,
    });
    const latencies: number[] = [];
    await s.child.call('segmentsStart');
    for (let i = 0; i < n; i += 1) {
      latencies.push(await client.once());
    }
    const { rows } = await s.child.call<{ rows: Row[] }>('segmentsStop');
    await client.close();
    const kept = rows.slice(Math.floor(rows.length / 4));
    const paused = kept.filter((r) => r.gc > 0).map((r) => r.gc);
    const p50 = (of: (r: Row) => number) => ms(pct(kept.map(of), 0.5));
    const delayed = paused.length ? `${ms(pct(paused, 0.5))} / ${ms(Math.max(...paused))}` : '–';
    console.log(
      `| ${s.name} | ${ms(pct(latencies.slice(Math.floor(n / 4)), 0.5))} | ${p50((r) => r.pre)} | ${p50((r) => r.upstream)} | ${p50((r) => r.post)} | ${p50((r) => r.pre + r.post)} | ${paused.length} of ${kept.length} | ${delayed} |`,
    );
  }
} finally {
  await Promise.all(children.map((c) => c.stop()));
  await dropDatabases(databaseUrl);
  rmSync(runDir, { recursive: true, force: true });
}
