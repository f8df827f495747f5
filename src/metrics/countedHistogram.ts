import type { Metric, Registry } from 'prom-client';

/** One line of the exposition, as prom-client's registry reads a metric's `get()`. */
interface ExposedValue {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

/**
 * A Prometheus histogram with one label that takes an observation `count` times at once, kept in typed
 * arrays. The health part learns of probes in bulk (every few seconds, per checker: so many probes done,
 * the latest duration): prom-client's Histogram costs a label hash and a bucket search per observation,
 * i.e. per health check on the daemon's main thread; here it is one bucket search per checker and look.
 * Exposed as prom-client exposes a histogram: cumulative `_bucket{le,LABEL}`, `+Inf`, `_sum`, `_count`.
 */
export class CountedHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, { buckets: Float64Array; sum: number; count: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelName: string,
    private readonly upperBounds: readonly number[],
    registry: Registry,
  ) {
    // The registry reads name, help, type and get(); prom-client's own classes are not needed for that.
    registry.registerMetric(this as unknown as Metric);
  }

  /** `count` observations of `value` for the label value `label`; not finite or negative: ignored. */
  observe(label: string, value: number, count = 1): void {
    if (!Number.isFinite(value) || value < 0 || !(count > 0)) return;
    let s = this.series.get(label);
    if (!s) {
      s = { buckets: new Float64Array(this.upperBounds.length), sum: 0, count: 0 };
      this.series.set(label, s);
    }
    const i = this.upperBounds.findIndex((b) => value <= b);
    if (i >= 0) s.buckets[i]! += count;
    s.sum += value * count;
    s.count += count;
  }

  get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: ExposedValue[] }> {
    const values: ExposedValue[] = [];
    for (const [label, s] of this.series) {
      let cumulative = 0;
      this.upperBounds.forEach((le, i) => {
        cumulative += s.buckets[i]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { le, [this.labelName]: label }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', [this.labelName]: label }, value: s.count });
      values.push({ metricName: `${this.name}_sum`, labels: { [this.labelName]: label }, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: { [this.labelName]: label }, value: s.count });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  reset(): void {
    this.series.clear();
  }
}
