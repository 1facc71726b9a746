/** Small statistics helpers: percentiles (nearest rank on sorted copies), ratios, trends. */

export function sorted(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

/** Nearest-rank percentile of an ascending array, `p` in [0, 100]. */
export function percentile(asc: readonly number[], p: number): number {
  if (asc.length === 0) {
    return Number.NaN;
  }
  const rank = Math.ceil((p / 100) * asc.length);
  return asc[Math.min(asc.length - 1, Math.max(0, rank - 1))]!;
}

export function median(values: readonly number[]): number {
  return percentile(sorted(values), 50);
}

export function mean(values: readonly number[]): number {
  return values.reduce((s, v) => s + v, 0) / values.length;
}

/** Least-squares slope of `ys` against their index. */
/**
 * How far a series that repeats with `period` (a sawtooth: RSS grows between the full GCs the
 * memory part forces every `period` repeats) moved: the median of its last whole periods minus
 * the median of as many whole periods before them, the first period left out as warm-up. Both
 * medians cover every phase of the period equally, so where the series stops within its period
 * does not shift the result (quarters of 50 repeats did: 13 readings each, different phases).
 * Fewer than three whole periods: the last quarter minus the second.
 */
export function periodDrift(xs: readonly number[], period: number): number {
  const cycles = Math.floor(xs.length / period);
  const k = Math.floor((cycles - 1) / 2);
  if (k < 1) {
    return quarterDrift(xs);
  }
  const end = cycles * period;
  const late = xs.slice(end - k * period, end);
  const early = xs.slice(end - 2 * k * period, end - k * period);
  return median(late) - median(early);
}

/** The median of a series' last quarter minus that of its second quarter (0 when empty). */
export function quarterDrift(xs: readonly number[]): number {
  const q = (from: number, to: number) =>
    median(xs.slice(Math.floor(xs.length * from), Math.floor(xs.length * to)));
  return xs.length > 0 ? q(0.75, 1) - q(0.25, 0.5) : 0;
}

export function slope(ys: readonly number[]): number {
  const n = ys.length;
  if (n < 2) {
    return 0;
  }
  const mx = (n - 1) / 2;
  const my = mean(ys);
  let num = 0;
  let den = 0;
  ys.forEach((y, x) => {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  });
  return num / den;
}

/** Figures for the report; a figure that could not be measured (NaN, ∞) prints as `–`. */
const finite =
  (f: (v: number) => string) =>
  (v: number): string =>
    Number.isFinite(v) ? f(v) : '–';

export const fmt = {
  ms: finite((v) => (Math.abs(v) >= 10 ? v.toFixed(2) : v.toFixed(3))),
  ratio: finite((v) => `${v.toFixed(3)}×`),
  mb: finite((bytes) => (bytes / (1024 * 1024)).toFixed(1)),
  int: finite((v) => Math.round(v).toLocaleString('en-US')),
};

/** `[min–max]` of per-round ratios: how much the figure moved between rounds. */
export function spread(values: readonly number[], digits = 3): string {
  if (values.length === 0) {
    return '–';
  }
  const s = sorted(values);
  return `${s[0]!.toFixed(digits)}–${s[s.length - 1]!.toFixed(digits)}`;
}

/**
 * The order variants run in during `round`: as given in round 0 (the warm-up), then a fresh
 * permutation per round, seeded (`BENCH_SEED`, default 1) so a run can be repeated. A rotation
 * (A/B/C, B/C/A, …) keeps who runs right before whom: on 2026-12-07 the embedded gateway of one
 * checkout, always run after bare Yoga, trailed the identical code of another, always run after the
 * in-memory gateway, by 6–11 % in throughput in three runs of three (shuffled: level). A fresh
 * order each round spreads such neighbour effects over every variant.
 */
export function roundOrder<T>(items: readonly T[], round: number, seed = benchSeed()): T[] {
  const out = [...items];
  if (round === 0) {
    return out;
  }
  // mulberry32, seeded per round.
  let state = (Math.imul(seed, 0x9e3779b1) + Math.imul(round, 0x85ebca6b)) >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** `BENCH_SEED` (an integer), default 1. */
export function benchSeed(): number {
  const n = Number(process.env['BENCH_SEED'] ?? 1);
  return Number.isInteger(n) ? n : 1;
}
