/**
 * The logistic section of tables.json: per-sample violation (negative condition) regressed on P0, with
 * prompt-bootstrap CIs, the isotonic fit beside it, and the fitted curve evaluated only over the P0
 * range of the prompts in the fit (support.ts). Predictions at the quoted P0 values (0.1, 0.5, 0.9)
 * outside that range stay in the table, flagged `in_observed_range: false`, and are not quoted.
 */
import { isotonicBlocks } from "../stats/isotonic.ts";
import { fitLogisticWithCI, type BinomialPoint } from "../stats/logistic.ts";
import { num, type CIBook } from "./ciBook.ts";
import { inRange, observedRange, spanGrid } from "./support.ts";
import type { PromptView } from "./views.ts";

export const PRIOR_WORK = {
  source: "arXiv 2601.08070 (Semantic Gravity Wells), Qwen2.5-7B-Instruct",
  intercept: -2.4,
  slope: 2.27,
  violation_at_p0_0_1: 0.09,
  violation_at_p0_0_9: 0.46,
} as const;

/** P0 values whose predicted violation rate the report quotes (those of the prior work, plus 0.5). */
export const QUOTED_P0 = [0.1, 0.5, 0.9] as const;

/** Points of the fitted curve (and its band) across the observed P0 range. */
const CURVE_POINTS = 41;

export function logisticTable(views: readonly PromptView[], book: CIBook, opts: { B: number; seed: number }) {
  const points: BinomialPoint[] = views
    .filter((v) => v.neg && v.neg.n_samples > 0 && Number.isFinite(v.neg.violation_rate) && Number.isFinite(v.p0))
    .map((v) => ({ x: v.p0, n: v.neg!.n_samples, k: Math.round(v.neg!.violation_rate * v.neg!.n_samples) }));
  const range = observedRange(points.map((p) => p.x));
  const grid = range ? spanGrid(range, CURVE_POINTS) : [];
  const lg = fitLogisticWithCI(points, { B: opts.B, seed: opts.seed, stream: "logistic" }, [...QUOTED_P0, ...grid]);
  const coef = (name: "intercept" | "slope") => {
    const c = lg[name];
    const e = book.add(`logistic.${name}`, "negative", c);
    return { ...e, se: num(c.se), wald_low: num(c.waldLow), wald_high: num(c.waldHigh) };
  };
  const pred = (i: number) => lg.predictions[i];
  return {
    model: "P(violation) = sigmoid(intercept + slope · P0), per sample, negative condition",
    intercept: coef("intercept"),
    slope: coef("slope"),
    converged: lg.fit.converged,
    iterations: lg.fit.iterations,
    log_likelihood: num(lg.fit.logLik),
    n_prompts: lg.fit.nUnits,
    n_samples: lg.fit.nSamples,
    bootstrap_non_converged: lg.nonConverged,
    bootstrap_B: lg.B,
    /** Resamples whose P0 values do not vary (no slope to fit): excluded from the CIs and counted. */
    bootstrap_singular: lg.nSingular,
    /** P0 range of the prompts in the fit: the curve is drawn, and quoted, only inside it. */
    observed_p0: range ? { min: range.min, max: range.max } : null,
    predicted: QUOTED_P0.map((x, i) => ({
      p0: x,
      in_observed_range: inRange(x, range),
      ...book.add("logistic.predicted", `p0=${x}`, pred(i)),
    })),
    curve: grid.map((x, i) => {
      const p = pred(QUOTED_P0.length + i);
      return { p0: x, rate: num(p.estimate), ci_low: num(p.low), ci_high: num(p.high) };
    }),
    isotonic: isotonicBlocks(points.map((p) => ({ x: p.x, y: p.k / p.n, w: p.n }))).map((b) => ({
      p0_min: b.xMin,
      p0_max: b.xMax,
      rate: b.y,
      n_prompts: b.count,
    })),
    prior_work: PRIOR_WORK,
  };
}

export type LogisticTable = ReturnType<typeof logisticTable>;
