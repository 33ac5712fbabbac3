/**
 * Two runs on different prompts, compared by P0 bin (pure): nothing pairs a prompt of one run with a
 * prompt of the other, so each resample draws each run's prompts independently (a two-sample
 * bootstrap) and the difference B − A is taken per resample. Per bin: the sample-weighted violation
 * rate under the prohibition; overall: the logistic intercept and slope, refitted per resample.
 */
import { quantileSorted, type BootstrapOptions, type Interval } from "../stats/bootstrap.ts";
import { binCount, binLabel } from "../stats/bins.ts";
import { Prng } from "../util/prng.ts";
import type { CIBook, Estimate } from "../report/ciBook.ts";
import { isSparse } from "../report/support.ts";
import type { PromptView } from "../report/views.ts";
import { binomialPoint, coefficients } from "./paired.ts";

/** Bootstrap of a vector statistic of two independent samples: each resample redraws both. */
export function twoSampleBootstrap<A, B>(
  a: readonly A[],
  b: readonly B[],
  stat: (sa: readonly A[], sb: readonly B[]) => readonly number[],
  opts: BootstrapOptions,
): Interval[] {
  const est = stat(a, b);
  const n = a.length + b.length;
  if (a.length === 0 || b.length === 0) return est.map((estimate) => ({ estimate, low: NaN, high: NaN, n, valid: 0 }));
  const rng = new Prng(opts.seed, opts.stream ?? "");
  const cols: number[][] = est.map(() => []);
  const sa: A[] = new Array(a.length);
  const sb: B[] = new Array(b.length);
  for (let r = 0; r < opts.B; r++) {
    for (let i = 0; i < a.length; i++) sa[i] = a[rng.int(a.length)];
    for (let i = 0; i < b.length; i++) sb[i] = b[rng.int(b.length)];
    stat(sa, sb).forEach((v, c) => {
      if (Number.isFinite(v)) cols[c].push(v);
    });
  }
  const tail = (1 - (opts.level ?? 0.95)) / 2;
  return est.map((estimate, c) => {
    const s = Float64Array.from(cols[c]).sort();
    return { estimate, low: quantileSorted(s, tail), high: quantileSorted(s, 1 - tail), n, valid: s.length };
  });
}

/** Sample-weighted violation rate under the prohibition over some prompts (NaN when none has samples). */
export function weightedViolation(vs: readonly PromptView[]): number {
  let k = 0;
  let n = 0;
  for (const v of vs) {
    if (!v.neg || !(v.neg.n_samples > 0) || !Number.isFinite(v.neg.violation_rate)) continue;
    k += v.neg.violation_rate * v.neg.n_samples;
    n += v.neg.n_samples;
  }
  return n > 0 ? k / n : NaN;
}

export interface BinDifference {
  bin: number;
  label: string;
  n_a: number;
  n_b: number;
  /** Either run has fewer than MIN_BIN_PROMPTS prompts in the bin: shown, never claimed. */
  sparse: boolean;
  difference: Estimate;
}

export interface UnpairedDifferences {
  by_bin: BinDifference[];
  logistic: { slope_difference: Estimate; intercept_difference: Estimate };
}

/** Runs A and B compared by P0 bin and by their logistic fits; intervals recorded in `book` under `group`. */
export function unpairedDifferences(a: readonly PromptView[], b: readonly PromptView[], edges: readonly number[], book: CIBook, group: string): UnpairedDifferences {
  const opts = (stream: string) => ({ B: book.B, seed: book.seed, stream: `${stream}|${group}` });
  const by_bin = Array.from({ length: binCount(edges) }, (_, bin) => {
    const va = a.filter((v) => v.bin === bin);
    const vb = b.filter((v) => v.bin === bin);
    const [d] = twoSampleBootstrap(va, vb, (sa, sb) => [weightedViolation(sb) - weightedViolation(sa)], opts(`unpaired.violation.bin${bin}`));
    return {
      bin, label: binLabel(bin, edges), n_a: va.length, n_b: vb.length, sparse: isSparse(va.length) || isSparse(vb.length),
      difference: book.add("unpaired.violation_rate.b_minus_a", `${group}.bin${bin}`, d),
    };
  });
  const pa = a.map(binomialPoint).filter((p) => p !== null);
  const pb = b.map(binomialPoint).filter((p) => p !== null);
  const [interceptDiff, slopeDiff] = twoSampleBootstrap(
    pa,
    pb,
    (sa, sb) => {
      const [ia, sla] = coefficients(sa);
      const [ib, slb] = coefficients(sb);
      return [ib - ia, slb - sla];
    },
    opts("unpaired.logistic"),
  );
  return {
    by_bin,
    logistic: {
      slope_difference: book.add("unpaired.logistic.slope.b_minus_a", group, slopeDiff),
      intercept_difference: book.add("unpaired.logistic.intercept.b_minus_a", group, interceptDiff),
    },
  };
}
