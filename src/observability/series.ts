import type { Metric, Registry } from 'prom-client';

/**
 * Counters and histograms for the per-request path, exposed through prom-client's registry.
 *
 * Why hand-written: prom-client's `inc(labels)` / `observe(labels, v)` (and `labels(...)`
 * children alike) validate the label names, sort them into a hash string and look the series up
 * in an object on every call; that was ~2 % of the gateway's CPU per request (issue #20). Here a
 * caller finds a series by its label values in nested Maps, and an
 * observation is a few additions. prom-client stays in charge of everything else: the registry,
 * the text format, escaping, the scrape. The families register through the documented
 * `registry.registerMetric` and hand the registry, at scrape time, the values prom-client's
 * Counter and Histogram hand it (same shape, same order: series in order of first observation,
 * labels in the order the caller wrote them, cumulative buckets, `+Inf`, `_sum`, `_count`), so the
 * exposition is byte for byte that of prom-client's own metrics (test/unit/observability).
 */

/** The label values of one series, keys in the order they are printed. */
type Key = string | number;

export type SeriesLabels = Readonly<Record<string, string | number>>;

/** prom-client's default buckets (a `Histogram` given none). */
export const DEFAULT_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** A family's values as a prom-client metric's `get()` hands them to the registry. */
export interface Exported<V> {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  values: V[];
}

interface FamilyOptions {
  name: string;
  help: string;
  registers: Registry[];
}

abstract class Family<S> {
  readonly name: string;
  readonly help: string;
  abstract readonly type: 'counter' | 'histogram';
  readonly aggregator: 'sum' = 'sum';
  /** Every series, in order of creation (that of first observation). */
  protected readonly list: S[] = [];
  /**
   * By the values of the caller's keys (its label values, possibly fewer than the labels when
   * one determines another), one Map per key: no key string is built per observation.
   */
  private readonly root = new Map<unknown, unknown>();

  constructor(options: FamilyOptions) {
    this.name = options.name;
    this.help = options.help;
    for (const registry of options.registers) {
      // prom-client reads a metric through `get()` (and `getForPromString()` when present).
      registry.registerMetric(this as unknown as Metric);
    }
  }

  protected abstract create(labels: SeriesLabels): S;

  /** The series under these key values, if it was observed. */
  at(a: Key): S | undefined {
    return this.root.get(a) as S | undefined;
  }

  at2(a: Key, b: Key): S | undefined {
    return (this.root.get(a) as Map<Key, S> | undefined)?.get(b);
  }

  at3(a: Key, b: Key, c: Key): S | undefined {
    return (
      (this.root.get(a) as Map<Key, Map<Key, S>> | undefined)?.get(b) as Map<Key, S> | undefined
    )?.get(c);
  }

  /**
   * A new series with these labels under these key values (as many as `at`, `at2` or `at3` is
   * given), to call once that found none, and to observe at once: the exposition lists series
   * in order of creation, as prom-client lists them in order of first observation.
   */
  add(labels: SeriesLabels, ...keys: Key[]): S {
    const series = this.create(labels);
    let map = this.root;
    for (let i = 0; i < keys.length - 1; i++) {
      let next = map.get(keys[i]) as Map<unknown, unknown> | undefined;
      if (!next) {
        next = new Map();
        map.set(keys[i], next);
      }
      map = next;
    }
    map.set(keys[keys.length - 1], series);
    this.list.push(series);
    return series;
  }

  /** What prom-client's metrics hand the registry: the family and its values. */
  protected exported<V>(values: V[]): Promise<Exported<V>> {
    const { name, help, type, aggregator } = this;
    return Promise.resolve({ name, help, type, aggregator, values });
  }

  reset(): void {
    this.root.clear();
    this.list.length = 0;
  }
}

export class CounterSeries {
  value = 0;
  constructor(readonly labels: SeriesLabels) {}

  inc(value = 1): void {
    if (!(value >= 0) || !Number.isFinite(value)) {
      throw new TypeError(`Not a valid counter increment: ${value}`);
    }
    this.value += value;
  }
}

export class FastCounter extends Family<CounterSeries> {
  readonly type = 'counter';

  protected create(labels: SeriesLabels): CounterSeries {
    return new CounterSeries(labels);
  }

  get(): Promise<Exported<{ value: number; labels: SeriesLabels }>> {
    return this.exported(this.list.map(({ value, labels }) => ({ value, labels })));
  }
}

export class HistogramSeries {
  sum = 0;
  count = 0;
  /** Observations per bucket (not cumulative); those above the last bound are in none. */
  readonly counts: Float64Array;

  constructor(
    readonly labels: SeriesLabels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) {
      throw new TypeError(`Value is not a valid number: ${value}`);
    }
    this.sum += value;
    this.count += 1;
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]!) {
        this.counts[i]! += 1;
        return;
      }
    }
  }
}

interface ExportValue {
  labels: Record<string, string | number>;
  sharedLabels: SeriesLabels;
  value: number;
  metricName: string;
  exemplar?: null;
}

export class FastHistogram extends Family<HistogramSeries> {
  readonly type = 'histogram';
  readonly upperBounds: readonly number[];

  constructor(options: FamilyOptions & { buckets?: readonly number[] }) {
    super(options);
    this.upperBounds = options.buckets ?? DEFAULT_BUCKETS;
  }

  protected create(labels: SeriesLabels): HistogramSeries {
    return new HistogramSeries(labels, this.upperBounds);
  }

  /** What prom-client's `Histogram.getForPromString()` returns for the same observations. */
  getForPromString(): Promise<Exported<ExportValue>> {
    const bucketName = `${this.name}_bucket`;
    const values: ExportValue[] = [];
    for (const series of this.list) {
      let acc = 0;
      this.upperBounds.forEach((le, i) => {
        acc += series.counts[i]!;
        values.push({
          labels: { le },
          value: acc,
          metricName: bucketName,
          exemplar: null,
          sharedLabels: series.labels,
        });
      });
      values.push(
        {
          labels: { le: '+Inf' },
          value: series.count,
          metricName: bucketName,
          exemplar: null,
          sharedLabels: series.labels,
        },
        {
          labels: {},
          value: series.sum,
          metricName: `${this.name}_sum`,
          sharedLabels: series.labels,
        },
        {
          labels: {},
          value: series.count,
          metricName: `${this.name}_count`,
          sharedLabels: series.labels,
        },
      );
    }
    return this.exported(values);
  }

  /** As prom-client's `Histogram.get()`: the series' labels spread into each value's. */
  async get(): Promise<Exported<Omit<ExportValue, 'sharedLabels'>>> {
    const data = await this.getForPromString();
    return {
      ...data,
      values: data.values.map(({ sharedLabels, labels, ...rest }) => ({
        ...rest,
        labels: { ...labels, ...sharedLabels },
      })),
    };
  }
}
