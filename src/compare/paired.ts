/**
 * Two runs on the same prompts, compared prompt by prompt (pure): every difference is run B minus run
 * A over the prompts both ran, with a 95% percentile CI from one bootstrap over those prompts (a
 * resample draws a prompt with both of its runs, so what the prompts share cancels). The logistic
 * slopes are refitted on each resample for both runs, so the slope difference has a paired CI too.
 */
import { fitLogistic, type BinomialPoint } from "../stats/logistic.ts";
import { bootstrapVector } from "../stats/bootstrap.ts";
import type { CIBook, Estimate } from "../report/ciBook.ts";
import type { PromptView } from "../report/views.ts";

export interface PromptPair {
  prompt_id: string;
  a: PromptView;
  b: PromptView;
}

export interface Pairing {
  pairs: PromptPair[];
  only_a: number;
  only_b: number;
}

/** Prompts in both runs (by prompt id, which hashes question, target and category), in id order. */
export function pairPrompts(a: readonly PromptView[], b: readonly PromptView[]): Pairing {
  const bOf = new Map(b.map((v) => [v.prompt_id, v]));
  const pairs = a.filter((v) => bOf.has(v.prompt_id)).map((v) => ({ prompt_id: v.prompt_id, a: v, b: bOf.get(v.prompt_id)! }));
  pairs.sort((x, y) => (x.prompt_id < y.prompt_id ? -1 : x.prompt_id > y.prompt_id ? 1 : 0));
  return { pairs, only_a: a.length - pairs.length, only_b: b.length - pairs.length };
}

/** A prompt's negative-condition samples as the logistic fit takes them (null without samples). */
export function binomialPoint(v: PromptView): BinomialPoint | null {
  const n = v.neg?.n_samples ?? 0;
  if (!v.neg || n <= 0 || !Number.isFinite(v.neg.violation_rate) || !Number.isFinite(v.p0)) return null;
  return { x: v.p0, n, k: Math.round(v.neg.violation_rate * n) };
}

/** [intercept, slope] of the fit, NaN when it did not converge (such resamples are left out of the CIs). */
export function coefficients(points: readonly BinomialPoint[]): [number, number] {
  const f = fitLogistic(points);
  return f.converged ? [f.intercept, f.slope] : [NaN, NaN];
}

const pointsOf = (ps: readonly PromptPair[], side: "a" | "b") =>
  ps.map((p) => binomialPoint(p[side])).filter((x): x is BinomialPoint => x !== null);

/** Per-prompt quantities compared as paired means (B − A). */
const QUANTITIES: Record<string, (v: PromptView) => number> = {
  p0: (v) => v.p0,
  p1: (v) => v.p1,
  rel_suppression: (v) => v.rel,
  violation_rate: (v) => v.neg?.violation_rate ?? NaN,
  greedy_violation: (v) => v.neg?.greedy_violation ?? NaN,
};

export interface PairedDifferences {
  n_prompts: number;
  /** Mean over the shared prompts of (B − A) for P0, P1, R, the sampled and greedy violation rates. */
  mean_difference: Record<keyof typeof QUANTITIES, Estimate>;
  /** Share of shared prompts whose negative greedy outcome is the same in both runs. */
  outcome_agreement: Estimate;
  logistic: { slope_a: Estimate; slope_b: Estimate; slope_difference: Estimate; intercept_difference: Estimate };
}

/** Every paired difference of runs A and B over their shared prompts; intervals recorded in `book` under `group`. */
export function pairedDifferences(pairs: readonly PromptPair[], book: CIBook, group: string): PairedDifferences {
  const mean_difference = Object.fromEntries(
    Object.entries(QUANTITIES).map(([k, f]) => [k, book.mean(`paired.${k}.b_minus_a`, group, pairs.map((p) => f(p.b) - f(p.a)))]),
  ) as PairedDifferences["mean_difference"];
  const agree = pairs.filter((p) => p.a.outcome && p.b.outcome).map((p) => (p.a.outcome === p.b.outcome ? 1 : 0));
  const [slopeA, slopeB, slopeDiff, interceptDiff] = bootstrapVector(
    pairs,
    (s) => {
      const [ia, sa] = coefficients(pointsOf(s, "a"));
      const [ib, sb] = coefficients(pointsOf(s, "b"));
      return [sa, sb, sb - sa, ib - ia];
    },
    { B: book.B, seed: book.seed, stream: `paired.logistic|${group}` },
  );
  return {
    n_prompts: pairs.length,
    mean_difference,
    outcome_agreement: book.mean("paired.outcome_agreement", group, agree),
    logistic: {
      slope_a: book.add("paired.logistic.slope_a", group, slopeA),
      slope_b: book.add("paired.logistic.slope_b", group, slopeB),
      slope_difference: book.add("paired.logistic.slope.b_minus_a", group, slopeDiff),
      intercept_difference: book.add("paired.logistic.intercept.b_minus_a", group, interceptDiff),
    },
  };
}
