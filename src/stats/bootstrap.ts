/**
 * Prompt-level bootstrap: resample the prompts (the unit of the design) with replacement B times,
 * recompute a statistic, and report the percentile interval. Seeded through util/prng.ts with a
 * stream label per quantity, so every CI is reproducible and independent of the order in which the
 * CIs are computed.
 */
import { Prng } from "../util/prng.ts";

export interface BootstrapOptions {
  /** Number of resamples (cfg.analysis.bootstrapB). */
  B: number;
  seed: number;
  /** Label that separates the random streams of different quantities under one seed. */
  stream?: string;
  /** Central coverage, default 0.95. */
  level?: number;
}

/** A point estimate with a percentile bootstrap interval. */
export interface Interval {
  estimate: number;
  low: number;
  high: number;
  /** Number of resampled units (prompts). */
  n: number;
  /** Resamples whose statistic was finite (the others, e.g. empty groups, are dropped). */
  valid: number;
}

/** Quantile q of an ascending array with linear interpolation (Hyndman–Fan type 7). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  if (n === 1) return sorted[0];
  const h = (n - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

function percentileInterval(stats: number[], level: number): [number, number] {
  const finite = Float64Array.from(stats.filter(Number.isFinite)).sort();
  const a = (1 - level) / 2;
  return [quantileSorted(finite, a), quantileSorted(finite, 1 - a)];
}

/**
 * Bootstrap CI of `stat` over `units`: each resample draws units.length units with replacement.
 * The estimate is `stat(units)` on the original data. Non-finite resample statistics are dropped
 * and counted out of `valid`.
 */
export function bootstrap<T>(units: readonly T[], stat: (sample: readonly T[]) => number, opts: BootstrapOptions): Interval {
  return bootstrapVector(units, (s) => [stat(s)], opts)[0];
}

/**
 * Bootstrap of a vector-valued statistic (e.g. both coefficients of one refit): one resampling
 * pass, one interval per component, each from the resamples where that component is finite.
 */
export function bootstrapVector<T>(
  units: readonly T[],
  stat: (sample: readonly T[]) => readonly number[],
  opts: BootstrapOptions,
): Interval[] {
  const n = units.length;
  if (n === 0) return stat([]).map((estimate) => ({ estimate, low: NaN, high: NaN, n, valid: 0 }));
  const est = stat(units);
  const rng = new Prng(opts.seed, opts.stream ?? "");
  const cols: number[][] = est.map(() => new Array(opts.B));
  const sample: T[] = new Array(n);
  for (let b = 0; b < opts.B; b++) {
    for (let i = 0; i < n; i++) sample[i] = units[rng.int(n)];
    const v = stat(sample);
    for (let c = 0; c < cols.length; c++) cols[c][b] = v[c];
  }
  return est.map((estimate, c) => {
    const [low, high] = percentileInterval(cols[c], opts.level ?? 0.95);
    return { estimate, low, high, n, valid: cols[c].filter(Number.isFinite).length };
  });
}

/**
 * Bootstrap CI of a weighted mean Σwᵢvᵢ / Σwᵢ over units (weights default 1), without allocating
 * per resample: the fast path for the many per-layer and per-bin means of the report.
 */
export function bootstrapMean(values: readonly number[], opts: BootstrapOptions, weights?: readonly number[]): Interval {
  const n = values.length;
  if (weights && weights.length !== n) throw new RangeError("bootstrapMean: weights and values differ in length");
  const v = Float64Array.from(values);
  const w = weights ? Float64Array.from(weights) : null;
  let sw = 0;
  let swv = 0;
  for (let i = 0; i < n; i++) {
    const wi = w ? w[i] : 1;
    sw += wi;
    swv += wi * v[i];
  }
  const estimate = n > 0 && sw > 0 ? swv / sw : NaN;
  if (n === 0) return { estimate, low: NaN, high: NaN, n, valid: 0 };
  const rng = new Prng(opts.seed, opts.stream ?? "");
  const stats: number[] = new Array(opts.B);
  for (let b = 0; b < opts.B; b++) {
    let s = 0;
    let sv = 0;
    if (w) {
      for (let i = 0; i < n; i++) {
        const j = rng.int(n);
        s += w[j];
        sv += w[j] * v[j];
      }
    } else {
      for (let i = 0; i < n; i++) sv += v[rng.int(n)];
      s = n;
    }
    stats[b] = s > 0 ? sv / s : NaN;
  }
  const [low, high] = percentileInterval(stats, opts.level ?? 0.95);
  return { estimate, low, high, n, valid: stats.filter(Number.isFinite).length };
}

/** Plain mean (NaN for an empty list). */
export function mean(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}
