/**
 * Summarises V8 CPU profiles (`BENCH_CPU_PROF=dir npm run bench` writes one per gateway process):
 *
 *   node --import tsx bench/profile.ts <file.cpuprofile>… [--top 30] [--last SECONDS]
 *
 * Prints self time by function and by package / source file, and inclusive ("total") time of the
 * gateway's own functions, so the hot spots are visible without opening DevTools.
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const args = process.argv.slice(2);
const topIndex = args.indexOf('--top');
const top = topIndex >= 0 ? Number(args[topIndex + 1]) : 30;
/** `--last S`: only the samples of the profile's last S seconds (e.g. a run's measured phase after its warm-up). */
const lastIndex = args.indexOf('--last');
const lastUs = lastIndex >= 0 ? Number(args[lastIndex + 1]) * 1e6 : Number.POSITIVE_INFINITY;
const files = args.filter(
  (a, i) =>
    !a.startsWith('--') &&
    (topIndex < 0 || i !== topIndex + 1) &&
    (lastIndex < 0 || i !== lastIndex + 1),
);
if (files.length === 0) {
  console.error(
    'usage: node --import tsx bench/profile.ts <file.cpuprofile>… [--top N] [--last SECONDS]',
  );
  process.exit(2);
}

/** Where a frame comes from: a package, a file of ours, node internals, or V8. */
function origin(url: string): string {
  if (url === '') {
    return '(v8 / native)';
  }
  if (url.startsWith('node:')) {
    return url;
  }
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 14).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const src = url.indexOf('/src/');
  return src >= 0 ? url.slice(src + 1) : url.replace(/^file:\/\//, '');
}

for (const file of files) {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    for (const c of n.children ?? []) {
      parent.set(c, n.id);
    }
  }
  // Self time per node from samples × time deltas (µs).
  const self = new Map<number, number>();
  const from = p.endTime - lastUs;
  let at = p.startTime;
  p.samples.forEach((id, i) => {
    at += p.timeDeltas[i] ?? 0;
    if (at >= from) {
      self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
    }
  });
  const total = [...self.values()].reduce((s, v) => s + v, 0);
  const idle = [...self.entries()]
    .filter(([id]) =>
      /^\((idle|program|garbage collector)\)$/.test(byId.get(id)!.callFrame.functionName),
    )
    .map(([id, t]) => [byId.get(id)!.callFrame.functionName, t] as const);
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  const fnSelf = new Map<string, number>();
  const originSelf = new Map<string, number>();
  const ownTotal = new Map<string, number>();
  for (const [id, t] of self) {
    const f = byId.get(id)!.callFrame;
    add(fnSelf, `${f.functionName || '(anonymous)'}  ${origin(f.url)}:${f.lineNumber + 1}`, t);
    add(originSelf, origin(f.url), t);
    // inclusive time of src/ functions: charge every distinct src frame on the stack once
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const cf = byId.get(cur)!.callFrame;
      if (cf.url.includes('/src/') && !cf.url.includes('/node_modules/')) {
        const key = `${cf.functionName || '(anonymous)'}  ${origin(cf.url)}:${cf.lineNumber + 1}`;
        if (!seen.has(key)) {
          seen.add(key);
          add(ownTotal, key, t);
        }
      }
    }
  }
  const pct = (t: number) => `${((100 * t) / total).toFixed(1).padStart(5)}%`;
  const list = (title: string, m: Map<string, number>, n: number) => {
    console.log(`\n${title}`);
    for (const [k, t] of [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n)) {
      console.log(`  ${pct(t)}  ${(t / 1000).toFixed(0).padStart(6)} ms  ${k}`);
    }
  };
  console.log(`\n=== ${file}: ${(total / 1e6).toFixed(1)} s sampled`);
  console.log(`  ${idle.map(([k, t]) => `${k} ${pct(t).trim()}`).join(', ')}`);
  list('self time by package / file', originSelf, top);
  list('self time by function', fnSelf, top);
  list('inclusive time of src/ functions', ownTotal, top);
}
