/** bench/latency.svg: the hop latencies as cumulative distributions, one panel per sandbox delay. */
import type { HopResult, HopVariant } from '../parts/hop.js';
import { percentile, sorted } from './stats.js';

const COLORS: Record<string, string> = {
  direct: '#7f7f7f',
  'bare-proxy': '#1f77b4',
  'yoga-pass': '#ff7f0e',
  gateway: '#d62728',
  'gateway-pg': '#9467bd',
  'gateway-mem': '#e377c2',
  'gateway-alt': '#8c564b',
  'gateway-alt-pg': '#bcbd22',
  'gateway-alt-mem': '#c5b0d5',
  peer: '#2ca02c',
};
const colorOf = (v: HopVariant) => COLORS[v] ?? '#17becf';

const W = 480;
const H = 380;
const M = { left: 52, right: 16, top: 34, bottom: 44 };

/** 1-2-5 ticks of a log axis between lo and hi. */
function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e += 1) {
    for (const m of [1, 2, 5]) {
      const t = m * 10 ** e;
      if (t >= lo && t <= hi) {
        ticks.push(t);
      }
    }
  }
  if (ticks.length >= 4) {
    return ticks;
  }
  // A narrow range (e.g. 20–35 ms): evenly spaced round values instead.
  const raw = (hi - lo) / 5;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((k) => k * pow).find((v) => v >= raw) ?? raw;
  const even: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi; t += step) {
    even.push(Number(t.toPrecision(6)));
  }
  return even;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

function panel(h: HopResult, x0: number): string {
  const all = h.order.map((v) => sorted(h.variants[v]!.samples));
  // Log scale: sub-millisecond medians and multi-millisecond tails in one panel.
  const xmin = Math.min(...all.map((s) => percentile(s, 0.1))) / 1.15;
  const xmax = Math.max(...all.map((s) => percentile(s, 99.5))) * 1.15;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const lx = (ms: number) => Math.log10(Math.min(Math.max(ms, xmin), xmax));
  const sx = (ms: number) =>
    x0 + M.left + ((lx(ms) - Math.log10(xmin)) / (Math.log10(xmax) - Math.log10(xmin))) * pw;
  const sy = (q: number) => M.top + (1 - q) * ph;
  const parts: string[] = [];
  parts.push(
    `<text x="${x0 + M.left + pw / 2}" y="20" text-anchor="middle" font-weight="bold">sandbox delay ${h.delayMs} ms</text>`,
  );
  // grid and axes
  for (const t of logTicks(xmin, xmax)) {
    const x = sx(t);
    parts.push(`<line x1="${x}" y1="${M.top}" x2="${x}" y2="${M.top + ph}" stroke="#eee"/>`);
    parts.push(
      `<text x="${x}" y="${M.top + ph + 16}" text-anchor="middle">${Number(t.toFixed(3))}</text>`,
    );
  }
  for (const q of [0, 0.25, 0.5, 0.75, 0.9, 1]) {
    const y = sy(q);
    parts.push(
      `<line x1="${x0 + M.left}" y1="${y}" x2="${x0 + M.left + pw}" y2="${y}" stroke="#eee"/>`,
    );
    parts.push(`<text x="${x0 + M.left - 6}" y="${y + 4}" text-anchor="end">${q}</text>`);
  }
  parts.push(
    `<rect x="${x0 + M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`,
  );
  parts.push(
    `<text x="${x0 + M.left + pw / 2}" y="${H - 8}" text-anchor="middle">latency (ms, log scale; slowest 0.5% off the right edge)</text>`,
  );
  // one CDF per variant
  h.order.forEach((v, i) => {
    const s = all[i]!;
    const n = s.length;
    const points: string[] = [];
    const stride = Math.max(1, Math.floor(n / 600));
    for (let k = 0; k < n; k += stride) {
      points.push(`${sx(s[k]!).toFixed(1)},${sy((k + 1) / n).toFixed(1)}`);
    }
    points.push(`${sx(s[n - 1]!).toFixed(1)},${sy(1).toFixed(1)}`);
    parts.push(
      `<polyline fill="none" stroke="${colorOf(v)}" stroke-width="1.8" points="${points.join(' ')}"/>`,
    );
  });
  // legend with p50 / p99
  h.order.forEach((v, i) => {
    const s = h.variants[v]!;
    const y = M.top + ph - 2 - (h.order.length - i) * 15;
    const x = x0 + M.left + pw - 236;
    parts.push(`<rect x="${x}" y="${y - 9}" width="10" height="10" fill="${colorOf(v)}"/>`);
    parts.push(
      `<text x="${x + 14}" y="${y}">${esc(v)}: p50 ${s.p50.toFixed(3)}, p99 ${s.p99.toFixed(3)}</text>`,
    );
  });
  return parts.join('\n');
}

export function renderChart(hops: readonly HopResult[]): string {
  const width = W * hops.length;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${H}" viewBox="0 0 ${width} ${H}" font-family="sans-serif" font-size="11" role="img">`,
    '<title>upsertContact latency per path (direct, bare proxy, Yoga pass-through, gateway variants, peer): cumulative distributions at each sandbox delay</title>',
    `<rect width="${width}" height="${H}" fill="#fff"/>`,
    `<text x="8" y="${H / 2}" transform="rotate(-90 8 ${H / 2})" text-anchor="middle" dy="8">fraction of requests ≤ x</text>`,
    ...hops.map((h, i) => panel(h, i * W)),
    '</svg>',
    '',
  ].join('\n');
}
