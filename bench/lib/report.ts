/** bench/RESULTS.md from the measured figures. */
import type { BatchRow } from '../parts/batching.js';
import type { HopResult, HopVariant } from '../parts/hop.js';
import type { MemoryResult } from '../parts/memory.js';
import type { LoadStats } from '../parts/throughput.js';
import type { Machine, Quiet } from './machine.js';
import { fmt, spread } from './stats.js';

export interface ReportInput {
  machine: Machine;
  pinned: boolean;
  knobs: Record<string, unknown>;
  quiet: { before: Quiet; after: Quiet };
  seconds: number;
  hop: HopResult[];
  trivial: LoadStats[];
  upsertLoad: LoadStats[];
  batch: BatchRow[];
  memory: MemoryResult | null;
  /** the same for the BENCH_COMPARE tree */
  memoryAlt: MemoryResult | null;
}

export const TARGETS = {
  hopP50Ratio: 1.02,
  hopP99Ratio: 1.1,
  hopAddedMs: 0.3,
  bulkHeapMb: 32,
  /** "no RSS trend": RSS of the last quarter of the repeats within this of the second quarter */
  rssDriftMb: 4,
  heapDriftMb: 1,
  trivialRatio: 0.9,
};

const DESCRIPTION: Record<HopVariant, string> = {
  direct: 'undici → sandbox (no hop)',
  'bare-proxy': 'node:http proxy + undici (floor)',
  'yoga-pass': 'bare Yoga, resolver + undici',
  gateway: 'the gateway',
  'gateway-alt': 'the gateway from BENCH_COMPARE',
};

const met = (ok: boolean) => (ok ? '**met**' : '**missed**');

function ratios(h: HopResult, a: HopVariant, b: HopVariant, key: 'roundP50' | 'roundP99') {
  return h.variants[a]![key].map((v, i) => v / h.variants[b]![key][i]!);
}

export interface Verdict {
  target: string;
  measured: string;
  ok: boolean;
}

export function verdicts(r: ReportInput): Verdict[] {
  const out: Verdict[] = [];
  for (const h of r.hop) {
    const g = h.variants.gateway;
    const f = h.variants['bare-proxy'];
    if (h.delayMs > 0) {
      out.push({
        target: `gateway p50 ≤ ${TARGETS.hopP50Ratio}× floor at ${h.delayMs} ms`,
        measured: fmt.ratio(g.p50 / f.p50),
        ok: g.p50 / f.p50 <= TARGETS.hopP50Ratio,
      });
      out.push({
        target: `gateway p99 ≤ ${TARGETS.hopP99Ratio}× floor at ${h.delayMs} ms`,
        measured: fmt.ratio(g.p99 / f.p99),
        ok: g.p99 / f.p99 <= TARGETS.hopP99Ratio,
      });
    } else {
      out.push({
        target: `gateway ≤ ${TARGETS.hopAddedMs} ms over the floor at 0 ms (p50)`,
        measured: `+${fmt.ms(g.p50 - f.p50)} ms (p99 +${fmt.ms(g.p99 - f.p99)} ms)`,
        ok: g.p50 - f.p50 <= TARGETS.hopAddedMs,
      });
    }
  }
  if (r.batch.length > 0) {
    const off = r.batch
      .filter((b) => !b.label.endsWith('(alt)'))
      .flatMap((b) =>
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
  if (r.memory) {
    const m = r.memory;
    const peak = (m.peakHeap - m.baselineHeap) / 2 ** 20;
    out.push({
      target: `${m.n.toLocaleString('en-US')}-contact upsertContacts ≤ ${TARGETS.bulkHeapMb} MB heap growth (peak)`,
      measured: `${peak.toFixed(1)} MB peak, ${fmt.mb(m.retainedHeap - m.baselineHeap)} MB retained`,
      ok: peak <= TARGETS.bulkHeapMb,
    });
    if (m.repeats >= 20) {
      out.push({
        target: `no RSS trend over ${m.repeats} repeats (drift ≤ ${TARGETS.rssDriftMb} MB RSS, ≤ ${TARGETS.heapDriftMb} MB heap)`,
        measured: `RSS ${signedMb(m.rssDrift)} MB, heap ${signedMb(m.heapDrift)} MB`,
        ok:
          m.rssDrift / 2 ** 20 <= TARGETS.rssDriftMb &&
          m.heapDrift / 2 ** 20 <= TARGETS.heapDriftMb,
      });
    }
  }
  const bare = r.trivial.find((t) => t.name === 'bare-yoga');
  const gw = r.trivial.find((t) => t.name === 'gateway');
  if (bare && gw) {
    out.push({
      target: `trivial query ≥ ${TARGETS.trivialRatio}× bare Yoga (req/s)`,
      measured: fmt.ratio(gw.rps / bare.rps),
      ok: gw.rps / bare.rps >= TARGETS.trivialRatio,
    });
  }
  return out;
}

function signedMb(bytes: number): string {
  const mb = bytes / 2 ** 20;
  return `${mb >= 0 ? '+' : ''}${mb.toFixed(1)}`;
}

function hopSection(h: HopResult): string {
  const f = h.variants['bare-proxy'];
  const rows = h.order.map((v) => {
    const s = h.variants[v]!;
    return `| ${v} | ${DESCRIPTION[v]} | ${s.n} | ${fmt.ms(s.p50)} | ${fmt.ms(s.p90)} | ${fmt.ms(s.p99)} | ${fmt.ms(s.mean)} | ${fmt.ratio(s.p50 / f.p50)} | ${fmt.ratio(s.p99 / f.p99)} | ${s.p50 - f.p50 >= 0 ? '+' : ''}${fmt.ms(s.p50 - f.p50)} |`;
  });
  const g = h.variants.gateway;
  const y = h.variants['yoga-pass'];
  const d = h.variants.direct;
  return [
    `### Sandbox delay ${h.delayMs} ms`,
    '',
    `${h.rounds} rounds × ${h.block} sequential requests per variant (plus one warm-up round, discarded); latencies in ms, client-side hrtime from request start to the last body byte.`,
    '',
    '| variant | path | n | p50 | p90 | p99 | mean | p50 vs floor | p99 vs floor | p50 added (ms) |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|',
    ...rows,
    '',
    ...(h.variants['gateway-alt']
      ? [
          `**BENCH_COMPARE**: gateway-alt / gateway p50 ${fmt.ratio(h.variants['gateway-alt'].p50 / g.p50)} (per round ${spread(ratios(h, 'gateway-alt', 'gateway', 'roundP50'))}), p99 ${fmt.ratio(h.variants['gateway-alt'].p99 / g.p99)}; gateway-alt over the floor: p50 ${fmt.ratio(h.variants['gateway-alt'].p50 / f.p50)} (+${fmt.ms(h.variants['gateway-alt'].p50 - f.p50)} ms), p99 ${fmt.ratio(h.variants['gateway-alt'].p99 / f.p99)}.`,
          '',
        ]
      : []),
    `Per-round gateway/floor ratios: p50 ${spread(ratios(h, 'gateway', 'bare-proxy', 'roundP50'))}, p99 ${spread(ratios(h, 'gateway', 'bare-proxy', 'roundP99'))}. ` +
      `Where the time goes (p50): HTTP hop ${fmt.ms(f.p50 - d.p50)} ms (bare proxy − direct), Yoga ${fmt.ms(y.p50 - f.p50)} ms (pass-through − bare proxy), the gateway's own work ${fmt.ms(g.p50 - y.p50)} ms (gateway − pass-through).`,
    '',
  ].join('\n');
}

function loadTable(stats: LoadStats[], baselines: string[]): string {
  const head = `| server | requests | req/s | per-round req/s | p50 ms | p99 ms | server CPU µs/req | ${baselines.map((b) => `req/s vs ${b}`).join(' | ')} |`;
  const sep = `|---|--:|--:|---|--:|--:|--:|${baselines.map(() => '--:|').join('')}`;
  const rows = stats.map((s) => {
    const vs = baselines.map((b) => {
      const base = stats.find((x) => x.name === b);
      return base ? fmt.ratio(s.rps / base.rps) : '–';
    });
    return `| ${s.name} | ${fmt.int(s.requests)} | ${fmt.int(s.rps)} | ${s.roundRps.map(fmt.int).join(', ')} | ${fmt.ms(s.p50)} | ${fmt.ms(s.p99)} | ${fmt.int(s.cpuUs)} | ${vs.join(' | ')} |`;
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

function memorySection(m: MemoryResult): string {
  const mb = (b: number) => fmt.mb(b);
  return [
    `| measure | value |`,
    `|---|--:|`,
    `| one upsertContacts of ${m.n.toLocaleString('en-US')} new contacts, ${m.providers} | ${fmt.int(m.bulkMs)} ms |`,
    `| heap before (after full GC) | ${mb(m.baselineHeap)} MB |`,
    `| heap peak while it ran (sampled every 2 ms and before every GC) | ${mb(m.peakHeap)} MB (**+${mb(m.peakHeap - m.baselineHeap)} MB**) |`,
    `| largest heap right after a GC while it ran (${Object.entries(m.gcs)
      .map(([k, n]) => `${n} ${k}`)
      .join(', ')}) | ${mb(m.liveHeap)} MB (+${mb(m.liveHeap - m.baselineHeap)} MB) |`,
    `| heap after (full GC; the identity map now holds ${m.n.toLocaleString('en-US')} more contacts) | ${mb(m.retainedHeap)} MB (+${mb(m.retainedHeap - m.baselineHeap)} MB) |`,
    `| RSS before → peak | ${mb(m.baselineRss)} → ${mb(m.peakRss)} MB |`,
    ...(m.repeats >= 20
      ? [
          `| ${m.repeats} repeats of one upsertContacts of the same ${m.repeatN} contacts, ${m.providers} | ${fmt.int(m.repeatMs)} ms each |`,
          `| RSS: first → last repeat | ${mb(m.rss[0]!)} → ${mb(m.rss[m.rss.length - 1]!)} MB |`,
          `| RSS drift (median of last quarter − median of second quarter) | ${signedMb(m.rssDrift)} MB |`,
          `| RSS slope over the second half | ${(m.rssSlope / 1024).toFixed(1)} KB per repeat |`,
          `| heap after full GC, every 10 repeats: first → last | ${mb(m.heap[0]!)} → ${mb(m.heap[m.heap.length - 1]!)} MB |`,
          `| heap drift (same quarters) | ${signedMb(m.heapDrift)} MB |`,
        ]
      : []),
  ].join('\n');
}

export function renderResults(r: ReportInput): string {
  const m = r.machine;
  const v = verdicts(r);
  const runners = (q: Quiet) =>
    q.others.length > 0 ? `${q.others.length} vitest process(es) running` : 'no test runner seen';
  const out: string[] = [
    '# Benchmark results',
    '',
    `\`npm run bench\` (bench/index.ts), ${m.date.slice(0, 16).replace('T', ' ')} UTC, ${Math.round(r.seconds)} s.`,
    '',
    '| machine | |',
    '|---|---|',
    `| CPU | ${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB |`,
    `| OS | ${m.os} |`,
    `| Node | ${m.node} |`,
    `| packages | ${Object.entries(m.versions)
      .map(([k, ver]) => `${k} ${ver}`)
      .join(', ')} |`,
    `| commit | ${m.commit} |`,
    `| placement | ${r.pinned ? 'servers under test on core 0 (taskset), probe / autocannon and sandboxes on core 1' : 'not pinned (no taskset)'}; each server and the sandboxes in their own process |`,
    `| quiet? | 1-min load before: ${r.quiet.before.load1}, ${runners(r.quiet.before)}; after: ${r.quiet.after.load1} (includes the bench's own two busy cores), ${runners(r.quiet.after)} |`,
    '',
    '## Targets',
    '',
    '| target | measured | |',
    '|---|---|---|',
    ...v.map((x) => `| ${x.target} | ${x.measured} | ${met(x.ok)} |`),
    '',
  ];
  if (r.hop.length > 0) {
    out.push(
      '## 1. Hop overhead: one `upsertContact` to Notifuse',
      '',
      "The same GraphQL request (`upsertContact(input) { outcomes { status } }`, one contact) sent one at a time to the gateway (Notifuse only), to a bare Yoga whose resolver makes the one upstream call with undici, and to a bare node:http proxy that parses the body and makes that call; `direct` sends the adapter's exact body (taken from a dry run, checked against what the sandbox recorded) straight to the sandbox. Same sandbox, same undici Pool options, variants interleaved in blocks and rotated every round.",
      '',
      '![latency distributions](latency.svg)',
      '',
      ...r.hop.map(hopSection),
    );
  }
  if (r.trivial.length > 0 || r.upsertLoad.length > 0) {
    const k = r.knobs as { connections: number; loadSeconds: number; loadRounds: number };
    out.push(
      '## 2. Throughput under autocannon',
      '',
      `${k.connections} connections, ${k.loadRounds} rounds × ${k.loadSeconds} s per server (plus a warm-up round, discarded), servers rotated every round; every body checked. Latencies are autocannon's per-response times.`,
      '',
    );
    if (r.trivial.length > 0) {
      const alt = r.trivial.some((t) => t.name === 'gateway-alt') ? ['gateway'] : [];
      out.push(
        'Trivial query `{ __typename }`:',
        '',
        loadTable(r.trivial, ['bare-yoga', ...alt]),
        '',
      );
    }
    if (r.upsertLoad.length > 0) {
      out.push(
        '`upsertContact` (Notifuse, sandbox delay 0 ms):',
        '',
        loadTable(r.upsertLoad, [
          'bare-proxy',
          'yoga-pass',
          ...(r.upsertLoad.some((t) => t.name === 'gateway-alt') ? ['gateway'] : []),
        ]),
        '',
      );
    }
  }
  if (r.batch.length > 0) {
    out.push(
      '## 3. Batching: provider calls per `upsertContacts`',
      '',
      "One `upsertContacts` of N new contacts to all four providers; each cell is write calls the sandbox recorded / the minimum ⌈N/Bₚ⌉ (Salesforce MC has no bulk route: B = 1). Dotdigital's import polls and Salesforce MC's token call are counted apart. Provider rate limits off (`DOTDIGITAL_RATE_PER_SECOND=0`, `SFMC_RATE_PER_SECOND=0`, `DIGITAL_ONBOARDING_RATE_PER_SECOND=0`), `MAX_BATCH_INPUTS` raised to the largest N; every item checked CREATED/UPDATED at every provider, and the recorded calls equal `summary.upstreamRequests`. The last row sends every contact twice in one request (the second copy with another first name).",
      '',
      batchSection(r.batch),
      '',
    );
  }
  if (r.memory) {
    out.push(
      '## 4. Memory',
      '',
      'A fresh gateway process (`--expose-gc`), all four providers, rate limits off, Dotdigital import polls every 20 ms (`DOTDIGITAL_IMPORT_POLL_INTERVAL_MS=20`, so that repeats are not paced by the poll). Requests select `items { contact { id } outcomes { provider status } } summary`. Sandboxes run in another process and are not counted.',
      '',
      memorySection(r.memory),
      '',
      ...(r.memoryAlt
        ? ['The gateway from BENCH_COMPARE:', '', memorySection(r.memoryAlt), '']
        : []),
    );
  }
  out.push('## Knobs', '', '```json', JSON.stringify(r.knobs), '```', '');
  return out.join('\n');
}
