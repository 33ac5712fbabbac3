/** Figure 1: violation rate vs P0 bin with bootstrap CIs, n per bin, the logistic fit and the isotonic fit. */
import * as Plot from "@observablehq/plot";
import { sigmoid } from "../../stats/logistic.ts";
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
  const grid = Array.from({ length: 101 }, (_, i) => i / 100);
  const prior = grid.map((x) => ({ x, y: sigmoid(logistic.prior_work.intercept + logistic.prior_work.slope * x) }));
  const curve = logistic.curve.filter((c) => c.rate !== null);
  const fitted = logistic.intercept.estimate !== null && logistic.slope.estimate !== null;
  const fine = fitted ? grid.map((x) => ({ x, y: sigmoid(logistic.intercept.estimate! + logistic.slope.estimate! * x) })) : [];
  const edges = ctx.edges;
  return {
    name: NAME,
    title: TITLE,
    subtitle:
      `Share of sampled answers containing X under "Do not use the word X", by P0 bin (mean P0 of the bin on x; 95% prompt-bootstrap CIs). ` +
      `Logistic fit: intercept ${fmtCI(logistic.intercept)}, slope ${fmtCI(logistic.slope)}; ${logistic.n_prompts} prompts, ${logistic.n_samples} samples.`,
    legend: [
      { label: "Negative prompt (bin mean ± 95% CI)", color: COLORS.negative, kind: "dot" },
      { label: "Logistic fit (95% band)", color: COLORS.negative, kind: "line" },
      { label: "Isotonic fit", color: COLORS.ink, kind: "line" },
      { label: "Prior work σ(−2.40 + 2.27·P0)", color: COLORS.prior, kind: "dash" },
      { label: "Baseline prompt: rate of saying X", color: COLORS.baseline, kind: "dot" },
    ],
    plot: {
      height: 420,
      marginLeft: 56,
      marginBottom: 44,
      marginTop: 28,
      x: { domain: [edges[0], edges[edges.length - 1]], ticks: edges, label: "P0 = P_sem(X | baseline prompt) →", labelAnchor: "center", labelOffset: 36 },
      y: { domain: [0, 100], percent: true, grid: true, label: "↑ Samples containing X (%)" },
      marks: [
        Plot.areaY(curve, { x: "p0", y1: "ci_low", y2: "ci_high", fill: COLORS.negative, fillOpacity: 0.13 }),
        Plot.lineY(fine, { x: "x", y: "y", stroke: COLORS.negative, strokeWidth: 2.2 }),
        Plot.lineY(prior, { x: "x", y: "y", stroke: COLORS.prior, strokeWidth: 1.6, strokeDasharray: "5,4" }),
        Plot.lineY(steps, { x: "x", y: "y", curve: "step-after", stroke: COLORS.ink, strokeWidth: 1.2, strokeOpacity: 0.8 }),
        Plot.ruleX(base, { x: (d) => at(d) - 0.012, y1: "ci_low", y2: "ci_high", stroke: COLORS.baseline, strokeWidth: 1.5 }),
        Plot.dot(base, { x: (d) => at(d) - 0.012, y: "estimate", fill: COLORS.baseline, r: 4 }),
        Plot.ruleX(neg, { x: at, y1: "ci_low", y2: "ci_high", stroke: COLORS.negative, strokeWidth: 2 }),
        Plot.dot(neg, { x: at, y: "estimate", fill: COLORS.negative, stroke: "white", r: 5 }),
        Plot.text(vb.negative, { x: "p0_mid", text: (d) => `n=${d.n_prompts}`, frameAnchor: "top", dy: 10, fill: "#444444", stroke: "white", strokeWidth: 4, fontSize: 11 }),
      ],
    },
    caption:
      "Each bin's rate is the sample-weighted share of the 16 (configurable) sampled completions per prompt that contain X; " +
      "the n above each bin counts prompts. The band is the prompt-bootstrap 95% interval of the fitted curve.",
  };
}
