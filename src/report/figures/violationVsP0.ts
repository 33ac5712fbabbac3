/**
 * Figure 1: violation rate vs P0 bin with bootstrap CIs, n per bin, the logistic fit and the isotonic
 * fit. Every curve (the fit, its band, the isotonic steps, the prior-work reference) spans only the
 * P0 range of the prompts in the fit; sparse bins are drawn hollow.
 */
import * as Plot from "@observablehq/plot";
import { sigmoid } from "../../stats/logistic.ts";
import { spanGrid } from "../support.ts";
import { binDots, sparseLegend } from "./binMarks.ts";
import type { FigureContext } from "./context.ts";
import { fmtCI } from "./context.ts";
import { COLORS, placeholderSpec, type FigureSpec } from "./render.ts";

export const NAME = "fig1_violation_vs_p0";
const TITLE = "Violation rate vs semantic pressure P0";

export function build(ctx: FigureContext): FigureSpec {
  const { logistic, violation_by_bin: vb } = ctx.tables;
  const neg = vb.negative.filter((b) => b.n_prompts > 0 && b.estimate !== null);
  if (neg.length === 0) return placeholderSpec(NAME, TITLE, "No behaviour data (runs/behavior.csv has no negative-condition rows).");
  const base = vb.baseline.filter((b) => b.n_prompts > 0 && b.estimate !== null);
  const at = (b: { p0_mean: number | null; p0_mid: number }) => b.p0_mean ?? b.p0_mid;
  // Step-after through each block's left end, closed at the last block's right end.
  const iso = logistic.isotonic;
  const steps = iso.map((b) => ({ x: b.p0_min, y: b.rate }));
  if (iso.length) steps.push({ x: iso[iso.length - 1].p0_max, y: iso[iso.length - 1].rate });
  // Curves only where there are prompts: the observed P0 range of the fit.
  const grid = logistic.observed_p0 ? spanGrid(logistic.observed_p0) : [];
  const prior = grid.map((x) => ({ x, y: sigmoid(logistic.prior_work.intercept + logistic.prior_work.slope * x) }));
  const curve = logistic.curve.filter((c) => c.rate !== null && c.ci_low !== null && c.ci_high !== null);
  const fitted = logistic.intercept.estimate !== null && logistic.slope.estimate !== null;
  const fine = fitted ? grid.map((x) => ({ x, y: sigmoid(logistic.intercept.estimate! + logistic.slope.estimate! * x) })) : [];
  const range = logistic.observed_p0 ? `${logistic.observed_p0.min.toFixed(2)}–${logistic.observed_p0.max.toFixed(2)}` : "none";
  const edges = ctx.edges;
  return {
    name: NAME,
    title: TITLE,
    subtitle:
      `Share of sampled answers containing X under "Do not use the word X", by P0 bin (mean P0 of the bin on x; 95% prompt-bootstrap CIs). ` +
      `Logistic fit: intercept ${fmtCI(logistic.intercept)}, slope ${fmtCI(logistic.slope)}; ${logistic.n_prompts} prompts, ${logistic.n_samples} samples; ` +
      `curves drawn over the observed P0 range ${range} only.`,
    legend: [
      { label: "Negative prompt (bin mean ± 95% CI)", color: COLORS.negative, kind: "dot" },
      { label: "Logistic fit (95% band)", color: COLORS.negative, kind: "line" },
      { label: "Isotonic fit", color: COLORS.ink, kind: "line" },
      { label: "Prior work σ(−2.40 + 2.27·P0)", color: COLORS.prior, kind: "dash" },
      { label: "Baseline prompt: rate of saying X", color: COLORS.baseline, kind: "dot" },
      ...sparseLegend([...neg, ...base], COLORS.negative),
    ],
    plot: {
      height: 420,
      marginLeft: 56,
      marginBottom: 44,
      marginTop: 28,
      x: { domain: [edges[0], edges[edges.length - 1]], ticks: edges, label: "P0 = P_sem(X | baseline prompt) →", labelAnchor: "center", labelOffset: 36 },
      y: { domain: [0, 100], percent: true, grid: true, label: "↑ Samples containing X (%)" },
      marks: [
        Plot.areaY(curve, { x: "p0", y1: "ci_low", y2: "ci_high", fill: COLORS.negative, fillOpacity: 0.13, ariaDescription: "logistic fit band" }),
        Plot.lineY(fine, { x: "x", y: "y", stroke: COLORS.negative, strokeWidth: 2.2, ariaDescription: "logistic fit" }),
        Plot.lineY(prior, { x: "x", y: "y", stroke: COLORS.prior, strokeWidth: 1.6, strokeDasharray: "5,4", ariaDescription: "prior work" }),
        Plot.lineY(steps, { x: "x", y: "y", curve: "step-after", stroke: COLORS.ink, strokeWidth: 1.2, strokeOpacity: 0.8, ariaDescription: "isotonic fit" }),
        Plot.ruleX(base, { x: (d) => at(d) - 0.012, y1: "ci_low", y2: "ci_high", stroke: COLORS.baseline, strokeWidth: 1.5 }),
        ...binDots(base, { x: (d) => at(d) - 0.012, y: "estimate", color: COLORS.baseline, r: 4, label: "baseline bin rate" }),
        Plot.ruleX(neg, { x: at, y1: "ci_low", y2: "ci_high", stroke: COLORS.negative, strokeWidth: 2 }),
        ...binDots(neg, { x: at, y: "estimate", color: COLORS.negative, r: 5, label: "negative bin rate" }),
        Plot.text(vb.negative, { x: "p0_mid", text: (d) => `n=${d.n_prompts}`, frameAnchor: "top", dy: 10, fill: "#444444", stroke: "white", strokeWidth: 4, fontSize: 11 }),
      ],
    },
    caption:
      "Each bin's rate is the sample-weighted share of the 16 (configurable) sampled completions per prompt that contain X; " +
      "the n above each bin counts prompts. The band is the prompt-bootstrap 95% interval of the fitted curve. " +
      "Curves stop at the lowest and highest P0 of the prompts in the fit; hollow markers are bins with too few prompts for a per-bin claim.",
  };
}
