/** bench/RESULTS.md from the measured figures. */
import type { BatchRow } from '../parts/batching.js';
import type { HopResult } from '../parts/hop.js';
import type { MemoryResult } from '../parts/memory.js';
import type { LoadStats } from '../parts/throughput.js';
import type { Machine, Quiet } from './machine.js';
import { fmt, spread } from './stats.js';
import type { SutSpec } from './suts.js';

/** Resident memory of a server after it started (and after a restart on the same data). */
export interface StartupRss {
  server: string;
  first: number;
  /** ms from process start to the port accepting connections */
  firstStartMs: number;
  restart?: number;
  restartStartMs?: number;
  /** process CPU while idle (every server idle at once), ms per minute */
  idleCpuMsPerMin?: number | undefined;
}

export interface ReportInput {
  machine: Machine;
  pinned: boolean;
  knobs: Record<string, unknown> & {
    connections: number;
    loadDelayMs: number;
    loadSeconds: number;
    loadRounds: number;
    compare: string;
  };
  quiet: { before: Quiet; after: Quiet };
  seconds: number;
  specs: SutSpec[];
  hop: HopResult[];
  trivial: LoadStats[];
  upsertLoad: LoadStats[];
  /** Part 2's `distinct` load (absent in runs before it existed). */
  distinctLoad?: LoadStats[];
  rss: StartupRss[];
  batch: BatchRow[];
  memory: MemoryResult[];
  /** servers whose batch failed (the error), the others still measured */
  memoryFailed?: Array<{ server: string; error: string }>;
  peerVersions: Record<string, string> | null;
  peerCheck: string | null;
  /** when merged from several runs (bench/merge.ts): one line per run */
  runs?: string[];
}

/** The goals of issue #20, for the gateway's default configuration (and PostgreSQL). */
export const GOALS = {
  addedMsAt0: 1.0,
  p50RatioAtDelay: 1.05,
  p99RatioAtDelay: 1.15,
  throughputVsFloor: 0.6,
  rssMb: 200,
  bulkHeapMb: 64,
  cpuVsYogaPass: 1.5,
  /** "no RSS trend": RSS of the last whole GC periods of the repeats within this of the ones before (`periodDrift`) */
  rssDriftMb: 4,
  heapDriftMb: 1,
};

const BASE_DESCRIPTION: Record<string, string> = {
  direct: 'undici → sandbox (no hop)',
  'bare-proxy': 'node:http proxy + undici (the floor)',
  'yoga-pass': 'bare Yoga, resolver + undici',
};

const mbOf = (bytes: number) => bytes / 2 ** 20;
const met = (ok: boolean) => (ok ? '**met**' : '**missed**');
const signed = (v: number, digits = 2) => `${v >= 0 ? '+' : ''}${v.toFixed(digits)}`;

/** Columns of the summary: the floor, the peer, then every gateway (the other checkout first). */
function columns(r: ReportInput): string[] {
  const names = r.specs.map((s) => s.name);
  const gateways = names.filter((n) => n.startsWith('gateway'));
  const order: string[] = [];
  for (const suffix of ['', '-pg', '-mem']) {
    for (const base of ['gateway-alt', 'gateway']) {
      if (gateways.includes(`${base}${suffix}`)) {
        order.push(`${base}${suffix}`);
      }
    }
  }
  return ['bare-proxy', ...(names.includes('peer') ? ['peer'] : []), ...order];
}

function heading(name: string, r: ReportInput): string {
  const store = name.endsWith('-pg') ? 'PostgreSQL' : name.endsWith('-mem') ? 'memory store' : '';
  if (name === 'bare-proxy') {
    return 'floor (node:http + undici)';
  }
  if (name === 'peer') {
    return 'peer (Hive Gateway + Mesh)';
  }
  const alt = name.startsWith('gateway-alt');
  const who = alt ? (r.knobs['compareLabel'] as string) || 'BENCH_COMPARE' : 'this checkout';
  return `${who}${store ? `, ${store}` : ', default (embedded store)'}`;
}

function hopCells(h: HopResult, key: 'p50' | 'p99', cols: string[]): string[] {
  const f = h.variants['bare-proxy']!;
  return cols.map((c) => {
    const s = h.variants[c];
    if (!s) {
      return '–';
    }
    if (c === 'bare-proxy') {
      return `${fmt.ms(s[key])} ms`;
    }
    return h.delayMs > 0
      ? `${fmt.ratio(s[key] / f[key])} (${signed(s[key] - f[key])} ms)`
      : `${signed(s[key] - f[key])} ms (${fmt.ratio(s[key] / f[key])})`;
  });
}

function summary(r: ReportInput): string {
  const cols = columns(r);
  const rows: string[][] = [];
  for (const h of r.hop) {
    for (const key of ['p50', 'p99'] as const) {
      rows.push([
        `sequential, ${h.delayMs} ms upstream, ${key} (${h.delayMs > 0 ? 'ratio to the floor, added ms' : 'added ms, ratio'})`,
        ...hopCells(h, key, cols),
      ]);
    }
  }
  if (r.upsertLoad.length > 0) {
    const f = r.upsertLoad.find((s) => s.name === 'bare-proxy');
    const y = r.upsertLoad.find((s) => s.name === 'yoga-pass');
    const at = (c: string) => r.upsertLoad.find((s) => s.name === c);
    rows.push([
      `${r.knobs.connections} clients, ${r.knobs.loadDelayMs} ms upstream: throughput (ratio to the floor; the floor's pool has ${r.knobs.connections} connections)`,
      ...cols.map((c) => {
        const s = at(c);
        return !s
          ? '–'
          : c === 'bare-proxy' || !f
            ? `${fmt.int(s.rps)} req/s`
            : `${fmt.int(s.rps)} req/s (${fmt.ratio(s.rps / f.rps)})`;
      }),
    ]);
    rows.push([
      `${r.knobs.connections} clients: p99`,
      ...cols.map((c) => {
        const s = at(c);
        return s ? `${fmt.ms(s.p99)} ms` : '–';
      }),
    ]);
    rows.push([
      `CPU per upsert under that load (server µs per request; ratio to a bare Yoga pass-through${y ? `, ${fmt.int(y.cpuUs)} µs` : ''})`,
      ...cols.map((c) => {
        const s = at(c);
        return !s
          ? '–'
          : y
            ? `${fmt.int(s.cpuUs)} µs (${fmt.ratio(s.cpuUs / y.cpuUs)})`
            : `${fmt.int(s.cpuUs)} µs`;
      }),
    ]);
  }
  if (r.rss.length > 0) {
    const at = (c: string) => r.rss.find((s) => s.server === c);
    rows.push([
      'resident memory after start',
      ...cols.map((c) => {
        const s = at(c);
        return s ? `${fmt.mb(s.first)} MB` : '–';
      }),
    ]);
    if (r.rss.some((s) => s.restart !== undefined)) {
      rows.push([
        'resident memory after a restart on the same data',
        ...cols.map((c) => {
          const s = at(c);
          return s?.restart !== undefined ? `${fmt.mb(s.restart)} MB` : '–';
        }),
      ]);
    }
    if (r.rss.some((s) => s.server.endsWith('-sandbox'))) {
      rows.push([
        'resident memory after start in sandbox mode, no provider variables (first / restart)',
        ...cols.map((c) => {
          const s = at(`${c}-sandbox`);
          return s
            ? `${fmt.mb(s.first)} / ${s.restart !== undefined ? fmt.mb(s.restart) : '–'} MB`
            : '–';
        }),
      ]);
    }
    if (r.rss.some((s) => s.idleCpuMsPerMin !== undefined)) {
      rows.push([
        'CPU while idle (every server idle at once)',
        ...cols.map((c) => {
          const v = at(c)?.idleCpuMsPerMin;
          return v !== undefined ? `${v.toFixed(1)} ms per minute` : '–';
        }),
      ]);
    }
    rows.push([
      'start: process start → port open (first / restart)',
      ...cols.map((c) => {
        const s = at(c);
        return s && s.firstStartMs > 0
          ? `${fmt.int(s.firstStartMs)}${s.restartStartMs !== undefined ? ` / ${fmt.int(s.restartStartMs)}` : ''} ms`
          : '–';
      }),
    ]);
  }
  if (r.memory.length > 0) {
    const at = (c: string) => r.memory.find((m) => m.server === c);
    const failed = (c: string) => r.memoryFailed?.find((f) => f.server === c);
    const n = r.memory[0]!.n.toLocaleString('en-US');
    rows.push([
      `${n}-contact batch: peak heap growth (calls: writes / minimum)`,
      ...cols.map((c) => {
        const m = at(c);
        if (!m) {
          return failed(c) ? 'failed (section 4)' : '–';
        }
        const writes = m.calls.reduce((s, p) => s + p.writes, 0);
        const min = m.calls.reduce((s, p) => s + p.minimum, 0);
        return `+${fmt.mb(m.peakHeap - m.baselineHeap)} MB (${fmt.int(writes)} / ${fmt.int(min)}${m.providers === 'Notifuse only' ? ', Notifuse only' : ''})`;
      }),
    ]);
    rows.push([
      `${n}-contact batch: time`,
      ...cols.map((c) => {
        const m = at(c);
        return m ? `${fmt.int(m.bulkMs)} ms` : '–';
      }),
    ]);
  }
  return [
    `| measure | ${cols.map((c) => heading(c, r)).join(' | ')} |`,
    `|---|${cols.map(() => '--:|').join('')}`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}

export interface Verdict {
  target: string;
  measured: string;
  ok: boolean;
}

/** The issue's goals for one gateway variant. */
export function verdicts(r: ReportInput, name: string): Verdict[] {
  const out: Verdict[] = [];
  for (const h of r.hop) {
    const g = h.variants[name];
    const f = h.variants['bare-proxy'];
    const p = h.variants['peer'];
    if (!g || !f) {
      continue;
    }
    if (h.delayMs > 0) {
      out.push({
        target: `p50 ≤ ${GOALS.p50RatioAtDelay}× the floor at ${h.delayMs} ms${p ? ', and below the peer' : ''}`,
        measured: `${fmt.ratio(g.p50 / f.p50)}${p ? ` (peer ${fmt.ratio(p.p50 / f.p50)})` : ''}`,
        ok: g.p50 / f.p50 <= GOALS.p50RatioAtDelay && (!p || g.p50 < p.p50),
      });
      out.push({
        target: `p99 ≤ ${GOALS.p99RatioAtDelay}× the floor at ${h.delayMs} ms`,
        measured: `${fmt.ratio(g.p99 / f.p99)}${p ? ` (peer ${fmt.ratio(p.p99 / f.p99)})` : ''}`,
        ok: g.p99 / f.p99 <= GOALS.p99RatioAtDelay,
      });
    } else {
      out.push({
        target: `≤ ${GOALS.addedMsAt0} ms over the floor at 0 ms (p50)${p ? ', and below the peer' : ''}`,
        measured: `${signed(g.p50 - f.p50)} ms${p ? ` (peer ${signed(p.p50 - f.p50)} ms)` : ''}`,
        ok: g.p50 - f.p50 <= GOALS.addedMsAt0 && (!p || g.p50 < p.p50),
      });
    }
  }
  const load = (n: string) => r.upsertLoad.find((s) => s.name === n);
  const g = load(name);
  const f = load('bare-proxy');
  const y = load('yoga-pass');
  const p = load('peer');
  if (g && f) {
    out.push({
      target: `${r.knobs.connections} clients: ≥ ${GOALS.throughputVsFloor}× the floor's throughput${p ? ', above the peer with p99 no worse' : ''}`,
      measured: `${fmt.ratio(g.rps / f.rps)}, p99 ${fmt.ms(g.p99)} ms${p ? ` (peer ${fmt.ratio(p.rps / f.rps)}, p99 ${fmt.ms(p.p99)} ms)` : ''}`,
      ok: g.rps / f.rps >= GOALS.throughputVsFloor && (!p || (g.rps > p.rps && g.p99 <= p.p99)),
    });
  }
  if (g && y) {
    out.push({
      target: `CPU per upsertContact ≤ ${GOALS.cpuVsYogaPass}× a bare Yoga pass-through`,
      measured: `${fmt.ratio(g.cpuUs / y.cpuUs)} (${fmt.int(g.cpuUs)} vs ${fmt.int(y.cpuUs)} µs)`,
      ok: g.cpuUs / y.cpuUs <= GOALS.cpuVsYogaPass,
    });
  }
  const rss = r.rss.find((s) => s.server === name);
  const peerRss = r.rss.find((s) => s.server === 'peer');
  if (rss) {
    const worst = Math.max(rss.first, rss.restart ?? 0);
    out.push({
      target: `RSS after start ≤ ${GOALS.rssMb} MB (first start and restart)${peerRss ? ', below the peer' : ''}`,
      measured: `${fmt.mb(rss.first)} / ${rss.restart !== undefined ? fmt.mb(rss.restart) : '–'} MB${peerRss ? ` (peer ${fmt.mb(peerRss.first)} MB)` : ''}`,
      ok: mbOf(worst) <= GOALS.rssMb && (!peerRss || worst < peerRss.first),
    });
  }
  const sandbox = r.rss.find((s) => s.server === `${name}-sandbox`);
  if (sandbox) {
    const worst = Math.max(sandbox.first, sandbox.restart ?? 0);
    out.push({
      target: `RSS after start in sandbox mode ≤ ${GOALS.rssMb} MB (first start and restart)`,
      measured: `${fmt.mb(sandbox.first)} / ${sandbox.restart !== undefined ? fmt.mb(sandbox.restart) : '–'} MB`,
      ok: mbOf(worst) <= GOALS.rssMb,
    });
  }
  const m = r.memory.find((x) => x.server === name);
  if (m) {
    const peak = mbOf(m.peakHeap - m.baselineHeap);
    const off = m.calls.filter((c) => c.writes !== c.minimum);
    out.push({
      target: `${m.n.toLocaleString('en-US')}-contact batch ≤ ${GOALS.bulkHeapMb} MB peak heap growth, calls = Σ⌈N/Bₚ⌉`,
      measured: `+${peak.toFixed(1)} MB; ${off.length === 0 ? 'calls = minimum' : off.map((c) => `${c.provider} ${c.writes} vs ${c.minimum}`).join(', ')}`,
      ok: peak <= GOALS.bulkHeapMb && off.length === 0,
    });
    if (m.repeats >= 20) {
      out.push({
        target: `no RSS trend over ${m.repeats} repeats (drift ≤ ${GOALS.rssDriftMb} MB RSS, ≤ ${GOALS.heapDriftMb} MB heap)`,
        measured: `RSS ${signed(mbOf(m.rssDrift), 1)} MB, heap ${signed(mbOf(m.heapDrift), 1)} MB`,
        ok: mbOf(m.rssDrift) <= GOALS.rssDriftMb && mbOf(m.heapDrift) <= GOALS.heapDriftMb,
      });
    }
  }
  const rows = r.batch.filter((b) => (name === 'gateway') === !b.label.endsWith('(alt)'));
  if (rows.length > 0 && (name === 'gateway' || name === 'gateway-alt')) {
    const off = rows.flatMap((b) =>
      b.providers
        .filter((p) => p.writes !== p.minimum)
        .map((p) => `${b.label} ${p.provider}: ${p.writes} vs ${p.minimum}`),
    );
    out.push({
      target: 'provider write calls = Σ⌈N/Bₚ⌉ exactly (duplicates coalesced)',
      measured: off.length === 0 ? 'equal in every row' : off.join('; '),
      ok: off.length === 0,
    });
  }
  return out;
}

function hopSection(h: HopResult, describe: (name: string) => string, warm: number): string {
  const f = h.variants['bare-proxy']!;
  const rows = h.order.map((v) => {
    const s = h.variants[v]!;
    return `| ${v} | ${describe(v)} | ${s.n} | ${fmt.ms(s.p50)} | ${fmt.ms(s.p90)} | ${fmt.ms(s.p99)} | ${fmt.ms(s.mean)} | ${fmt.ratio(s.p50 / f.p50)} | ${fmt.ratio(s.p99 / f.p99)} | ${signed(s.p50 - f.p50, 3)} |`;
  });
  const ratios = (a: string, key: 'roundP50' | 'roundP99') =>
    h.variants[a]![key].map((v, i) => v / f[key][i]!);
  const y = h.variants['yoga-pass'];
  const d = h.variants['direct'];
  const spreads = h.order
    .filter((v) => !(v in BASE_DESCRIPTION))
    .map((v) => `${v} p50 ${spread(ratios(v, 'roundP50'))}, p99 ${spread(ratios(v, 'roundP99'))}`);
  return [
    `### Sandbox delay ${h.delayMs} ms`,
    '',
    `${h.rounds} rounds × ${h.block} sequential requests per variant (plus one warm-up round, discarded${warm > 0 ? `, after ${warm.toLocaleString('en-US')} sequential requests per server at 0 ms before part 1, not recorded: steady state, not the JIT's warm-up` : ''}); latencies in ms, client-side hrtime from request start to the last body byte.`,
    '',
    '| variant | path | n | p50 | p90 | p99 | mean | p50 vs floor | p99 vs floor | p50 added (ms) |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|',
    ...rows,
    '',
    `Per-round ratios to the floor: ${spreads.join('; ')}.` +
      (y && d
        ? ` Where the time goes (p50): HTTP hop ${fmt.ms(f.p50 - d.p50)} ms (bare proxy − direct), Yoga ${fmt.ms(y.p50 - f.p50)} ms (pass-through − bare proxy)${h.variants['gateway'] ? `, the gateway's own work ${fmt.ms(h.variants['gateway'].p50 - y.p50)} ms (gateway − pass-through)` : ''}.`
        : ''),
    '',
  ].join('\n');
}

function loadTable(stats: LoadStats[], baselines: string[]): string {
  // The PostgreSQL server's processes share the machine: their CPU per request, where measured.
  const db = stats.some((s) => typeof s.dbCpuUs === 'number');
  const head = `| server | requests | req/s | per-round req/s | p50 ms | p99 ms | server CPU µs/req |${db ? ' PostgreSQL server CPU µs/req |' : ''} ${baselines.map((b) => `req/s vs ${b}`).join(' | ')} |`;
  const sep = `|---|--:|--:|---|--:|--:|--:|${db ? '--:|' : ''}${baselines.map(() => '--:|').join('')}`;
  const rows = stats.map((s) => {
    const vs = baselines.map((b) => {
      const base = stats.find((x) => x.name === b);
      return base ? fmt.ratio(s.rps / base.rps) : '–';
    });
    const dbCell = db ? ` ${typeof s.dbCpuUs === 'number' ? fmt.int(s.dbCpuUs) : '–'} |` : '';
    return `| ${s.name} | ${fmt.int(s.requests)} | ${fmt.int(s.rps)} | ${s.roundRps.map(fmt.int).join(', ')} | ${fmt.ms(s.p50)} | ${fmt.ms(s.p99)} | ${fmt.int(s.cpuUs)} |${dbCell} ${vs.join(' | ')} |`;
  });
  return [head, sep, ...rows].join('\n');
}

const PROVIDER_NAMES: Record<string, string> = {
  NOTIFUSE: 'Notifuse',
  DOTDIGITAL: 'Dotdigital',
  SALESFORCE_MC: 'Salesforce MC',
  DIGITAL_ONBOARDING: 'Digital Onboarding',
};

function batchSection(rows: BatchRow[]): string {
  const providers = rows[0]?.providers.map((p) => p.provider) ?? [];
  const head = `| request | ${providers.map((p) => `${PROVIDER_NAMES[p] ?? p} (B = ${rows[0]!.providers.find((x) => x.provider === p)!.batch})`).join(' | ')} | writes / minimum | other calls | time |`;
  const sep = `|---|${providers.map(() => '--:|').join('')}--:|---|--:|`;
  const body = rows.map((r) => {
    const cells = r.providers.map(
      (p) => `${fmt.int(p.writes)} / ${fmt.int(p.minimum)}${p.writes === p.minimum ? '' : ' ✗'}`,
    );
    const writes = r.providers.reduce((s, p) => s + p.writes, 0);
    const min = r.providers.reduce((s, p) => s + p.minimum, 0);
    const extras = r.providers
      .filter((p) => p.extra > 0)
      .map((p) => `${p.extra} ${p.extraKind}`)
      .join(', ');
    return `| ${r.label} | ${cells.join(' | ')} | ${fmt.int(writes)} / ${fmt.int(min)} | ${extras || '–'} | ${fmt.int(r.ms)} ms |`;
  });
  return [head, sep, ...body].join('\n');
}

function memorySection(ms: MemoryResult[]): string {
  const mb = (b: number) => fmt.mb(b);
  const row = (label: string, cell: (m: MemoryResult) => string) =>
    `| ${label} | ${ms.map(cell).join(' | ')} |`;
  const calls = (m: MemoryResult) =>
    m.calls
      .map(
        (c) =>
          `${PROVIDER_NAMES[c.provider] ?? c.provider} ${fmt.int(c.writes)}/${fmt.int(c.minimum)}${c.extra ? ` (+${c.extra} ${c.extraKind})` : ''}`,
      )
      .join(', ');
  const lines = [
    `| measure | ${ms.map((m) => m.server).join(' | ')} |`,
    `|---|${ms.map(() => '--:|').join('')}`,
    row('providers', (m) => m.providers),
    row(
      `one request of ${ms[0]!.n.toLocaleString('en-US')} new contacts`,
      (m) => `${fmt.int(m.bulkMs)} ms`,
    ),
    row('provider calls (writes / minimum)', calls),
    row('heap before (after full GC)', (m) => `${mb(m.baselineHeap)} MB`),
    row(
      'heap peak while it ran (sampled every 2 ms and before every GC)',
      (m) => `${mb(m.peakHeap)} MB (**+${mb(m.peakHeap - m.baselineHeap)} MB**)`,
    ),
    row(
      'largest heap right after a GC while it ran',
      (m) => `${mb(m.liveHeap)} MB (+${mb(m.liveHeap - m.baselineHeap)} MB)`,
    ),
    row(
      'GCs while it ran',
      (m) =>
        Object.entries(m.gcs)
          .map(([k, n]) => `${n} ${k}`)
          .join(', ') || '–',
    ),
    row(
      'heap after (full GC)',
      (m) => `${mb(m.retainedHeap)} MB (${signed(mbOf(m.retainedHeap - m.baselineHeap), 1)} MB)`,
    ),
    row('RSS before → peak', (m) => `${mb(m.baselineRss)} → ${mb(m.peakRss)} MB`),
  ];
  const repeated = ms.filter((m) => m.repeats >= 20);
  const trend = repeated.map(
    (m) =>
      `${m.server}: ${m.repeats} repeats of one upsertContacts of the same ${m.repeatN} contacts, ${fmt.int(m.repeatMs)} ms each; RSS first → last ${mb(m.rss[0]!)} → ${mb(m.rss[m.rss.length - 1]!)} MB, drift (median of the last whole 10-repeat periods − median of as many before them, bench/lib/stats.ts \`periodDrift\`) ${signed(mbOf(m.rssDrift), 1)} MB, slope over the second half ${(m.rssSlope / 1024).toFixed(1)} KB per repeat; heap after full GC every 10 repeats ${mb(m.heap[0]!)} → ${mb(m.heap[m.heap.length - 1]!)} MB, drift ${signed(mbOf(m.heapDrift), 1)} MB.`,
  );
  return [...lines, '', ...trend].join('\n');
}

function rssSection(r: ReportInput): string {
  return [
    '| server | RSS after start | after a restart on the same data | start → port open (first / restart) | CPU while idle |',
    '|---|--:|--:|--:|--:|',
    ...r.rss.map(
      (s) =>
        `| ${s.server} | ${fmt.mb(s.first)} MB | ${s.restart !== undefined ? `${fmt.mb(s.restart)} MB` : '–'} | ${s.firstStartMs > 0 ? `${fmt.int(s.firstStartMs)} / ${s.restartStartMs !== undefined ? fmt.int(s.restartStartMs) : '–'} ms` : '–'} | ${s.idleCpuMsPerMin !== undefined ? `${s.idleCpuMsPerMin.toFixed(1)} ms/min` : '–'} |`,
    ),
  ].join('\n');
}

export function renderResults(r: ReportInput): string {
  const m = r.machine;
  const describe = (name: string) =>
    BASE_DESCRIPTION[name] ?? r.specs.find((s) => s.name === name)?.describe ?? name;
  const runners = (q: Quiet) =>
    q.others.length > 0 ? `${q.others.length} vitest process(es) running` : 'no test runner seen';
  const gateways = r.specs.filter((s) => s.kind === 'gateway').map((s) => s.name);
  const out: string[] = [
    '# Benchmark results',
    '',
    `\`npm run bench${r.specs.some((s) => s.kind === 'peer') ? ' -- --peer' : ''}\` (bench/index.ts), ${m.date.slice(0, 16).replace('T', ' ')} UTC, ${Math.round(r.seconds)} s.`,
    '',
    '| machine | |',
    '|---|---|',
    `| CPU | ${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB |`,
    `| OS | ${m.os} |`,
    `| Node | ${m.node} |`,
    `| packages | ${Object.entries(m.versions)
      .map(([k, ver]) => `${k} ${ver}`)
      .join(', ')} |`,
    ...(r.peerVersions
      ? [
          `| peer | ${Object.entries(r.peerVersions)
            .map(([k, ver]) => `${k} ${ver}`)
            .join(', ')} (installed outside the project, bench/lib/peer.ts) |`,
        ]
      : []),
    `| commit | ${m.commit}${r.knobs.compare ? `; BENCH_COMPARE: ${r.knobs['compareLabel'] || r.knobs.compare}` : ''} |`,
    `| placement | ${r.pinned ? 'servers under test on core 0 (taskset), probe / autocannon and sandboxes on core 1' : 'not pinned (no taskset)'}; each server and the sandboxes in their own process |`,
    `| quiet? | 1-min load before: ${r.quiet.before.load1}, ${runners(r.quiet.before)}; after: ${r.quiet.after.load1} (includes the bench's own two busy cores), ${runners(r.quiet.after)} |`,
    '',
    ...(r.runs
      ? [
          `Merged from ${r.runs.length} runs of the same checkouts (bench/merge.ts; ratios are within each run):`,
          '',
          ...r.runs.map((line) => `- ${line}`),
          '',
        ]
      : []),
    '## Summary',
    '',
    `The gateway in its default configuration (\`npm start\`: sandbox mode off, the Notifuse provider pointed at the bench's sandbox, the embedded store in a fresh data directory, default log level with the log going to a file), beside the floor, ${r.specs.some((s) => s.kind === 'peer') ? 'the peer, ' : ''}PostgreSQL (\`DATABASE_URL\`, when set) and the in-memory store. One \`upsertContact\` per request; ratios are within this run.`,
    '',
    summary(r),
    '',
    ...(r.peerCheck ? [`The peer's call, checked once at the sandbox: ${r.peerCheck}.`, ''] : []),
    '## Goals (issue #20)',
    '',
  ];
  for (const name of gateways) {
    const v = verdicts(r, name);
    if (v.length === 0) {
      continue;
    }
    out.push(
      `${name} (${describe(name)}):`,
      '',
      '| goal | measured | |',
      '|---|---|---|',
      ...v.map((x) => `| ${x.target} | ${x.measured} | ${met(x.ok)} |`),
      '',
    );
  }
  if (r.hop.length > 0) {
    out.push(
      '## 1. Hop overhead: one `upsertContact` to Notifuse',
      '',
      "The same GraphQL request (`upsertContact(input) { outcomes { status } }`, one contact) sent one at a time to every gateway variant (Notifuse only), to a bare Yoga whose resolver makes the one upstream call with undici, and to a bare node:http proxy that parses the body and makes that call; the peer gets `upsertContact(input: $i) { … on UpsertContactResponse { action } }` with the adapter's body as `$i`; `direct` sends the adapter's exact body (taken from a dry run, checked against what the sandbox recorded) straight to the sandbox. Same sandbox, variants interleaved in blocks, in a fresh order every round (seeded, `BENCH_SEED`).",
      '',
      '![latency distributions](latency.svg)',
      '',
      ...r.hop.map((h) => hopSection(h, describe, Number(r.knobs['hopWarm'] ?? 0))),
    );
  }
  const distinct = r.distinctLoad ?? [];
  if (r.trivial.length > 0 || r.upsertLoad.length > 0 || distinct.length > 0) {
    const k = r.knobs;
    out.push(
      '## 2. Throughput under autocannon',
      '',
      `${k.connections} connections, ${k.loadRounds} rounds × ${k.loadSeconds} s per server (plus a shorter warm-up round, discarded), servers in a fresh order every round (seeded, \`BENCH_SEED\`); every body checked. Latencies are autocannon's per-response times; server CPU is the server process's user + system time over the measured rounds.`,
      '',
    );
    if (r.upsertLoad.length > 0) {
      out.push(
        `\`upsertContact\` (Notifuse, sandbox delay ${r.knobs.loadDelayMs} ms):`,
        '',
        loadTable(r.upsertLoad, ['bare-proxy', 'yoga-pass']),
        '',
      );
    }
    if (distinct.length > 0) {
      out.push(
        `\`upsertContact\` of ${Number(r.knobs['distinctContacts'] ?? 1000).toLocaleString('en-US')} contacts in turn (\`BENCH_LOADS=distinct\`: concurrent requests write different contacts, as a user's clients mostly do; the table above has every client write one contact), sandbox delay ${r.knobs.loadDelayMs} ms:`,
        '',
        loadTable(distinct, ['bare-proxy', 'yoga-pass']),
        '',
      );
    }
    if (r.trivial.length > 0) {
      out.push('Trivial query `{ __typename }`:', '', loadTable(r.trivial, ['bare-yoga']), '');
    }
  }
  if (r.rss.length > 0) {
    out.push(
      '## 3. Resident memory after start',
      '',
      'RSS one settle interval after the port opened, no request served yet; then, after the parts above, the same server started again on the same data directory (or database). `bare-proxy` is the process serving the floor and the bare Yoga.',
      '',
      rssSection(r),
      '',
    );
  }
  if (r.memory.length > 0) {
    out.push(
      `## 4. Memory of a ${r.memory[0]!.n.toLocaleString('en-US')}-contact batch`,
      '',
      'A fresh server process (`--expose-gc`), rate limits off, Dotdigital import polls every 20 ms, per-call deadline, breaker threshold and database timeouts raised (`CALL_DEADLINE_MS`, `BREAKER_THRESHOLD`, `DATABASE_STATEMENT_TIMEOUT_MS`, `DATABASE_CONNECT_TIMEOUT_MS`: on a loaded machine 10,000 queued calls outlast the defaults; this part measures heap and calls). A gateway gets one `upsertContacts` to all four providers (selecting `items { contact { id } outcomes { provider status } } summary`); the peer, which has one provider, one request of aliased `batchImportContacts` to Notifuse, as many contacts per call as the gateway sends. Sandboxes run in another process and are not counted.',
      '',
      memorySection(r.memory),
      '',
      ...(r.memoryFailed ?? []).map((f) => `**${f.server} failed its batch**: ${f.error}`),
      ...(r.memoryFailed?.length ? [''] : []),
    );
  }
  if (r.batch.length > 0) {
    out.push(
      '## 5. Batching: provider calls per `upsertContacts`',
      '',
      "One `upsertContacts` of N new contacts to all four providers; each cell is write calls the sandbox recorded / the minimum ⌈N/Bₚ⌉ (Salesforce MC has no bulk route: B = 1). Dotdigital's import polls and Salesforce MC's token calls and key look-ups are counted apart; every item checked CREATED/UPDATED at every provider, and the recorded calls equal `summary.upstreamRequests`. The last row sends every contact twice in one request (the second copy with another first name).",
      '',
      batchSection(r.batch),
      '',
    );
  }
  out.push('## Knobs', '', '```json', JSON.stringify(r.knobs), '```', '');
  return out.join('\n');
}
