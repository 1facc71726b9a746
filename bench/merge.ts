/**
 * `node --import tsx bench/merge.ts a.json b.json …`: one bench/RESULTS.md (and latency.svg) from
 * the parts of several runs, each written with `BENCH_JSON=<file>` (e.g. `BENCH_PARTS=hop,throughput,rss`
 * in one run and `BENCH_PARTS=batching,memory` in another, so that a part that failed or was cut
 * short on a busy machine is measured again alone). Ratios stay within the run that measured them.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type ReportInput, renderResults } from './lib/report.js';
import { renderChart } from './lib/svg.js';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node --import tsx bench/merge.ts <run.json>…');
  process.exit(2);
}
const runs = files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as ReportInput);
const first = runs[0]!;
const last = runs[runs.length - 1]!;
const byName = <T extends { name: string }>(lists: T[][]) => [
  ...new Map(lists.flat().map((x) => [x.name, x])).values(),
];
const merged: ReportInput = {
  ...first,
  knobs: { ...first.knobs, parts: [...new Set(runs.flatMap((r) => r.knobs['parts'] as string[]))] },
  quiet: { before: first.quiet.before, after: last.quiet.after },
  seconds: runs.reduce((s, r) => s + r.seconds, 0),
  specs: byName(runs.map((r) => r.specs)),
  hop: runs.flatMap((r) => r.hop),
  trivial: runs.flatMap((r) => r.trivial),
  upsertLoad: runs.flatMap((r) => r.upsertLoad),
  distinctLoad: runs.flatMap((r) => r.distinctLoad ?? []),
  rss: runs.flatMap((r) => r.rss),
  batch: runs.flatMap((r) => r.batch),
  memory: runs.flatMap((r) => r.memory),
  // A server measured again in a later run after its batch failed: the measurement stands.
  memoryFailed: runs
    .flatMap((r) => r.memoryFailed ?? [])
    .filter((f) => !runs.some((r) => r.memory.some((m) => m.server === f.server))),
  peerVersions: runs.find((r) => r.peerVersions)?.peerVersions ?? null,
  peerCheck: runs.find((r) => r.peerCheck)?.peerCheck ?? null,
  runs: runs.map(
    (r) =>
      `${(r.knobs['parts'] as string[]).join(', ')}: ${r.machine.date.slice(0, 16).replace('T', ' ')} UTC, ${Math.round(r.seconds)} s, commit ${r.machine.commit}, 1-min load ${r.quiet.before.load1} before, ${r.quiet.after.load1} after`,
  ),
};
const here = fileURLToPath(new URL('.', import.meta.url));
writeFileSync(`${here}RESULTS.md`, renderResults(merged));
if (merged.hop.length > 0) {
  writeFileSync(`${here}latency.svg`, renderChart(merged.hop));
}
console.log(`wrote bench/RESULTS.md${merged.hop.length > 0 ? ' and bench/latency.svg' : ''}`);
