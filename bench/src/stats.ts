/**
 * The few statistics the benchmarks report. Benchmarks on a shared two-core machine are noisy, so
 * every number is the median of several runs, shown beside its spread rather than alone.
 */

/** The value below which `p` percent of `values` lie, interpolated between the closest ranks. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError('no values');
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile ${p} is not in 0..100`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  const lowValue = sorted[low] as number;
  const highValue = sorted[high] as number;
  return lowValue + (highValue - lowValue) * (rank - low);
}

/** The middle value; the mean of the two middle ones for an even count. */
export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Several runs of one measurement, reduced to what the tables show. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  /** `(max - min) / median`: 0.1 means the runs were within 10 % of each other. */
  spread: number;
  runs: number[];
}

/** Summarises the runs of one measurement (at least one). */
export function summarize(runs: readonly number[]): Summary {
  const mid = median(runs);
  const min = Math.min(...runs);
  const max = Math.max(...runs);
  return { median: mid, min, max, spread: mid === 0 ? 0 : (max - min) / mid, runs: [...runs] };
}

/** `value / baseline`, or `undefined` when there is no baseline to divide by. */
export function ratio(value: number, baseline: number | undefined): number | undefined {
  return baseline === undefined || baseline === 0 ? undefined : value / baseline;
}
