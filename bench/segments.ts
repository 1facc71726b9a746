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
import { fileURLToPath } from 'node:url';
import { type Child, hasTaskset, pinRunner, type ServerReady, startChild } from './lib/child.js';
import { probe } from './lib/client.js';
import { dropDatabases, gatewaySpecs, type Store, startSut } from './lib/suts.js';
import { gatewayTarget, plannedDirectCall, warmUp } from './parts/hop.js';
import type { SandboxInfo } from './servers/sandboxes.js';

const delayMs = Number(process.env['SEGMENTS_DELAY'] ?? 20);
const n = Number(process.env['SEGMENTS_N'] ?? 400);
/** Sequential requests each server serves at 0 ms first, not recorded (as `npm run bench`: steady state). */
const warm = Number(process.env['SEGMENTS_WARM'] ?? 3000);
const databaseUrl = process.env['DATABASE_URL'] || null;
/** `SEGMENTS_STORES=embedded,memory`: the gateway variants measured (default: embedded, and postgres with `DATABASE_URL`). */
const stores = (
  process.env['SEGMENTS_STORES'] ?? (databaseUrl ? 'embedded,postgres' : 'embedded')
).split(',') as Store[];
const cpu = hasTaskset() ? { server: 0, client: 1 } : null;
// The probe (this process) on the client's core, as `npm run bench` runs it.
if (cpu) {
  pinRunner(cpu.client, fileURLToPath(import.meta.url));
}
/** `SEGMENTS_CPU_PROF=<dir>`: a V8 CPU profile of each gateway (sampled every 50 µs) into <dir>/<name>-segments. */
const cpuProf = process.env['SEGMENTS_CPU_PROF'] ?? '';
/** Requests of the allocation pass (0: none); `SEGMENTS_ALLOC_TOP`: allocating functions listed per server. */
const allocN = Number(process.env['SEGMENTS_ALLOC_N'] ?? 300);
const allocTop = Number(process.env['SEGMENTS_ALLOC_TOP'] ?? 0);
/**
 * `SEGMENTS_ALLOC=all` (default): every allocation; `old`: what no scavenge collected (promoted, or
 * allocated in the old generation); `live`: what is still in the heap after the pass.
 */
/** `SEGMENTS_WINDOW=100`: also the p50s of every 100 requests in order (0: not shown). */
const windowN = Number(process.env['SEGMENTS_WINDOW'] ?? 0);
/**
 * `SEGMENTS_API_KEY=1`: every gateway runs with one API key (`GATEWAY_API_KEYS`, so its key limit
 * counts each request, in PostgreSQL on the PostgreSQL gateways) and the probe sends it, as a
 * deployment serving other machines runs; by default the bench's gateways serve the anonymous
 * loopback caller, whom no key limit counts. The limit is raised to 1,000,000 a minute so the
 * bench's thousands of requests pass (the PostgreSQL gateways then take 50 points a statement,
 * `leaseBlock`; 6 at the default 600 a minute).
 */
const apiKey =
  process.env['SEGMENTS_API_KEY'] === '1' ? 'segments-bench-key-0123456789abcdef' : null;
const keyEnv: Record<string, string> = apiKey
  ? {
      GATEWAY_API_KEYS: JSON.stringify([
        { name: 'bench', key: apiKey, scopes: ['contacts:read', 'contacts:write'] },
      ]),
      GATEWAY_RATE_LIMIT_PER_MINUTE: '1000000',
    }
  : {};
const keyHeaders: Record<string, string> = apiKey ? { authorization: `Bearer ${apiKey}` } : {};
const allocKind = (process.env['SEGMENTS_ALLOC'] ?? 'all') as 'all' | 'old' | 'live';
const ALLOC_TEXT = {
  all: 'allocated',
  old: 'allocated and not collected by a scavenge (promoted, or allocated in the old generation)',
  live: 'left in the heap (retained)',
};

interface Allocations {
  total: number;
  byFunction: Array<{ name: string; bytes: number }>;
  byOwner: Array<{ name: string; bytes: number }>;
}

interface Row {
  pre: number;
  upstream: number;
  post: number;
  gc: number;
  /** the kinds of the GC pauses that delayed it (`minor`, `major`, `incremental`, …) */
  gcKinds: string[];
}

const pct = (values: number[], p: number) => {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? Number.NaN;
};
const ms = (v: number) => v.toFixed(3);
/** The p50 of one segment over `rows`, as printed. */
const p50Of = (rows: Row[], of: (r: Row) => number) => ms(pct(rows.map(of), 0.5));

const runDir = mkdtempSync(join(os.tmpdir(), 'contact-gateway-segments-'));
const children: Array<Child<unknown>> = [];
try {
  const sb = await startChild<SandboxInfo[]>('sandboxes', 'sandboxes.ts', {
    env: { BENCH_SANDBOXES: 'NOTIFUSE' },
    ...(cpu ? { cpu: cpu.client } : {}),
  });
  children.push(sb as Child<unknown>);
  const notifuse = sb.ready.find((s) => s.provider === 'NOTIFUSE')!;
  const ctx = { runDir, databaseUrl, cpuProf, ...(cpu ? { cpu: cpu.server } : {}) };
  const servers: Array<{ name: string; child: Child<ServerReady>; path: string }> = [];
  // `SEGMENTS_COMPARE=<checkout>`: its gateways too (`SEGMENTS_COMPARE_STORES`, default embedded),
  // as `BENCH_COMPARE` does.
  const compare = process.env['SEGMENTS_COMPARE'] ?? '';
  const specs = [
    ...gatewaySpecs(stores),
    ...(compare
      ? gatewaySpecs(
          (process.env['SEGMENTS_COMPARE_STORES'] ?? 'embedded').split(',') as Store[],
          compare,
          compare,
        )
      : []),
  ];
  // `SEGMENTS_ENV="NAME=value …"`: settings for this checkout's gateways only (not the compared
  // ones), e.g. to compare a setting against the default in one run (SEGMENTS_COMPARE=.).
  const extraEnv = Object.fromEntries(
    (process.env['SEGMENTS_ENV'] ?? '')
      .split(' ')
      .filter(Boolean)
      .map((kv) => {
        const eq = kv.indexOf('=');
        if (eq < 1) {
          throw new Error(`SEGMENTS_ENV: "${kv}" is not NAME=value`);
        }
        return [kv.slice(0, eq), kv.slice(eq + 1)];
      }),
  );
  const own = gatewaySpecs(stores).length;
  for (const [i, spec] of specs.entries()) {
    const child = await startSut(spec, ctx, {
      phase: 'segments',
      env: i < own ? { ...notifuse.env, ...keyEnv, ...extraEnv } : { ...notifuse.env, ...keyEnv },
      fresh: true,
      nodeFlags: [
        ...(cpuProf ? ['--cpu-prof-interval=50'] : []),
        // `SEGMENTS_NODE_FLAGS`: for this checkout's gateways only, as `SEGMENTS_ENV`.
        ...(i < own ? (process.env['SEGMENTS_NODE_FLAGS'] ?? '').split(' ').filter(Boolean) : []),
      ],
    });
    children.push(child as Child<unknown>);
    servers.push({ name: spec.name, child, path: '/graphql' });
  }
  // The floor makes the adapter's exact request (from a dry run), as in `npm run bench`.
  const direct = await plannedDirectCall(
    `http://127.0.0.1:${servers[0]!.child.ready.port}`,
    keyHeaders,
  );
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
  const targets = servers.map((s) => {
    const target = gatewayTarget(s.name, `http://127.0.0.1:${s.child.ready.port}`);
    return {
      ...target,
      path: s.path,
      headers: s.path === '/graphql' ? { ...target.headers, ...keyHeaders } : target.headers,
    };
  });
  if (warm > 0) {
    await warmUp(targets, {
      n: warm,
      setDelay: async (ms) => {
        await sb.call('latency', { ms });
      },
      log: () => undefined,
    });
  }
  await sb.call('latency', { ms: delayMs });
  await sb.call('clear');
  console.log(
    `sequential upsertContact, Notifuse sandbox delay ${delayMs} ms, ${n} requests per server (first quarter left out); ms`,
  );
  console.log('');
  console.log(
    '| server | client p50 | before the call p50 | the call p50 | after the call p50 | before + after p50 | requests a GC pause delayed | those pauses, p50 / max |',
  );
  console.log('|---|--:|--:|--:|--:|--:|--:|--:|');
  const allocated: Array<{ name: string; perRequest: Allocations }> = [];
  const windows: string[] = [];
  const tails: string[] = [];
  const gcKinds: string[] = [];
  for (const [k, s] of servers.entries()) {
    const client = probe(targets[k]!);
    const latencies: number[] = [];
    await s.child.call('segmentsStart');
    for (let i = 0; i < n; i += 1) {
      latencies.push(await client.once());
    }
    const { rows } = await s.child.call<{ rows: Row[] }>('segmentsStop');
    if (allocN > 0) {
      // A separate pass: the sampling heap profiler costs time of its own.
      await s.child.call('allocStart', {
        collected: { all: true, old: 'old', live: false }[allocKind],
      });
      for (let i = 0; i < allocN; i += 1) {
        await client.once();
      }
      const a = await s.child.call<Allocations>('allocStop', { top: Math.max(allocTop, 10) });
      const per = (e: { name: string; bytes: number }) => ({
        name: e.name,
        bytes: e.bytes / allocN,
      });
      allocated.push({
        name: s.name,
        perRequest: {
          total: a.total / allocN,
          byFunction: a.byFunction.map(per),
          byOwner: a.byOwner.map(per),
        },
      });
    }
    await client.close();
    if (windowN > 0) {
      // p50 per window of requests, in order: a step in the middle of a run shows here.
      const parts: string[] = [];
      for (let i = 0; i + windowN <= rows.length; i += windowN) {
        const w = rows.slice(i, i + windowN);
        const lat = latencies.slice(i, i + windowN);
        parts.push(`${ms(pct(lat, 0.5))} (${p50Of(w, (r) => r.pre)}+${p50Of(w, (r) => r.post)})`);
      }
      windows.push(`${s.name}: ${parts.join(' ')}`);
    }
    const kept = rows.slice(Math.floor(rows.length / 4));
    const paused = kept.filter((r) => r.gc > 0).map((r) => r.gc);
    const p50 = (of: (r: Row) => number) => p50Of(kept, of);
    const delayed = paused.length ? `${ms(pct(paused, 0.5))} / ${ms(Math.max(...paused))}` : '–';
    const kinds = new Map<string, number>();
    for (const kind of kept.flatMap((r) => r.gcKinds)) {
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
    gcKinds.push(`${s.name}: ${[...kinds].map(([k, c]) => `${k} ${c}`).join(', ') || 'none'}`);
    const tail = (values: number[]) => `${ms(pct(values, 0.99))} / ${ms(Math.max(...values))}`;
    tails.push(
      `| ${s.name} | ${tail(latencies.slice(Math.floor(n / 4)))} | ${tail(kept.map((r) => r.pre))} | ${tail(kept.map((r) => r.upstream))} | ${tail(kept.map((r) => r.post))} |`,
    );
    console.log(
      `| ${s.name} | ${ms(pct(latencies.slice(Math.floor(n / 4)), 0.5))} | ${p50((r) => r.pre)} | ${p50((r) => r.upstream)} | ${p50((r) => r.post)} | ${p50((r) => r.pre + r.post)} | ${paused.length} of ${kept.length} | ${delayed} |`,
    );
  }
  console.log('');
  console.log(`the GC pauses that delayed them, by kind: ${gcKinds.join('; ')}`);
  console.log('');
  console.log('tails of the same requests (p99 / max), ms:');
  console.log('');
  console.log('| server | client | before the call | the call | after the call |');
  console.log('|---|--:|--:|--:|--:|');
  for (const t of tails) {
    console.log(t);
  }
  if (windows.length > 0) {
    console.log('');
    console.log(
      `client p50 (before + after the call p50) per window of ${windowN} requests, in order; ms:`,
    );
    for (const w of windows) {
      console.log(w);
    }
  }
  if (allocated.length > 0) {
    const kb = (bytes: number) => (bytes / 1024).toFixed(1);
    console.log('');
    console.log(
      `${ALLOC_TEXT[allocKind]} per request (V8's sampling heap profiler over ${allocN} more requests), KB:`,
    );
    console.log('');
    console.log('| server | in all | the largest owners (package or file) |');
    console.log('|---|--:|---|');
    for (const a of allocated) {
      const owners = a.perRequest.byOwner
        .slice(0, 6)
        .map((o) => `${o.name} ${kb(o.bytes)}`)
        .join(', ');
      console.log(`| ${a.name} | ${kb(a.perRequest.total)} | ${owners} |`);
    }
    for (const a of allocTop > 0 ? allocated : []) {
      console.log('');
      console.log(`${a.name}: the ${allocTop} largest allocating functions, KB per request`);
      for (const f of a.perRequest.byFunction.slice(0, allocTop)) {
        console.log(`  ${kb(f.bytes).padStart(6)}  ${f.name}`);
      }
    }
  }
} finally {
  await Promise.all(children.map((c) => c.stop()));
  await dropDatabases(databaseUrl);
  rmSync(runDir, { recursive: true, force: true });
}
