import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  FastCounter,
  FastHistogram,
  type SeriesLabels,
} from '../../../src/observability/series.js';

/** A fixed pseudo-random sequence (no flakiness, many values, bucket edges included). */
function* sequence(n: number): Generator<number> {
  let x = 12345;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    yield x / 2147483648;
  }
}

describe('series: the exposition of prom-client metrics', () => {
  it('histograms: same text as prom-client for the same observations (default and own buckets)', async () => {
    const theirs = new Registry();
    const ours = new Registry();
    const bucketsOf = [
      undefined,
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    ];
    const families = bucketsOf.map((buckets, i) => ({
      theirs: new Histogram({
        name: `h${i}`,
        help: `Help "${i}" \\ with\nescapes`,
        labelNames: ['operationType', 'method', 'statusCode'],
        ...(buckets ? { buckets } : {}),
        registers: [theirs],
      }),
      ours: new FastHistogram({
        name: `h${i}`,
        help: `Help "${i}" \\ with\nescapes`,
        ...(buckets ? { buckets } : {}),
        registers: [ours],
      }),
    }));
    const labelSets: SeriesLabels[] = [
      { method: 'POST', statusCode: 200, operationType: 'mutation' },
      { method: 'GET', statusCode: 200, operationType: 'query' },
      { method: 'POST', statusCode: 400, operationType: 'unknown' },
      { method: 'POST', statusCode: 200, operationType: 'a "quoted"\\value' },
    ];
    const edges = [0, 0.005, 0.01, 0.1, 1, 10, 120, 121, 1e-9];
    let i = 0;
    for (const r of sequence(2000)) {
      const labels = labelSets[Math.floor(r * 997) % labelSets.length]!;
      const value = i % 7 === 0 ? edges[i % edges.length]! : r * r * 150;
      for (const f of families) {
        f.theirs.observe({ ...labels }, value);
        const { method, statusCode, operationType } = labels as Record<string, string>;
        (
          f.ours.at3(operationType!, statusCode!, method!) ??
          f.ours.add({ ...labels }, operationType!, statusCode!, method!)
        ).observe(value);
      }
      i += 1;
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.getMetricsAsJSON()).toEqual(await theirs.getMetricsAsJSON());
  });

  it('counters: same text as prom-client', async () => {
    const theirs = new Registry();
    const ours = new Registry();
    const c1 = new Counter({
      name: 'c',
      help: 'h',
      labelNames: ['provider', 'status'],
      registers: [theirs],
    });
    const c2 = new FastCounter({ name: 'c', help: 'h', registers: [ours] });
    for (const r of sequence(500)) {
      const labels = {
        provider: r < 0.5 ? 'emarsys' : 'salesforce',
        status: r < 0.3 ? 'OK' : 'FAILED',
      };
      c1.inc(labels);
      (
        c2.at2(labels.provider, labels.status) ?? c2.add(labels, labels.provider, labels.status)
      ).inc();
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it("an empty family shows its help and type only, as prom-client's", async () => {
    const theirs = new Registry();
    const ours = new Registry();
    new Histogram({ name: 'h', help: 'x', labelNames: ['a'], registers: [theirs] });
    new Counter({ name: 'c', help: 'y', labelNames: ['a'], registers: [theirs] });
    new FastHistogram({ name: 'h', help: 'x', registers: [ours] });
    new FastCounter({ name: 'c', help: 'y', registers: [ours] });
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });
});
