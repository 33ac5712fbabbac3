/**
 * The comparison's figures, one colour per run: violation vs P0 with each run's bins, CIs and
 * logistic fit (over its observed P0 range only); logit-lens mass and patching ΔP against relative
 * depth (depth.ts), so models of different depths overlay; each run's first ΔP sign change marked.
 */
import * as Plot from "@observablehq/plot";
import { binDots, sparseLegend } from "../report/figures/binMarks.ts";
import { placeholderSpec, type FigureSpec, type LegendItem } from "../report/figures/render.ts";
import type { RunSummary } from "./runSummary.ts";

/** Run colours, in label order (A, B, …); repeats after six runs. */
export const RUN_COLORS = ["#3a6fb0", "#d6453d", "#2e9e5b", "#e08a1e", "#7b5ea7", "#8c564b"] as const;
export const runColor = (i: number): string => RUN_COLORS[i % RUN_COLORS.length];

const runName = (r: RunSummary) => `${r.label}: ${r.name}`;
const known = <T extends { estimate: number | null }>(xs: readonly T[]) => xs.filter((x) => x.estimate !== null);
const PLOT_BOX = { height: 400, marginLeft: 64, marginBottom: 44, marginTop: 24 } as const;

function violationVsP0(runs: readonly RunSummary[], edges: readonly number[]): FigureSpec {
  const name = "compare_violation_vs_p0";
  const title = "Violation rate vs semantic pressure P0, by run";
  if (!runs.some((r) => known(r.violation_by_bin).length)) return placeholderSpec(name, title, "No run has behaviour data under the negative prompt.");
  const marks: Plot.Markish[] = [];
  const legend: LegendItem[] = [];
  runs.forEach((r, i) => {
    const c = runColor(i);
    // Runs side by side within a bin, so their error bars do not hide each other.
    const dx = (i - (runs.length - 1) / 2) * 0.01;
    const bins = known(r.violation_by_bin).filter((b) => b.n_prompts > 0).map((b) => ({ ...b, x: (b.p0_mean ?? b.p0_mid) + dx }));
    const curve = r.logistic.curve.filter((p) => p.rate !== null && p.ci_low !== null && p.ci_high !== null);
    marks.push(
      Plot.areaY(curve, { x: "p0", y1: "ci_low", y2: "ci_high", fill: c, fillOpacity: 0.1, ariaDescription: `${r.label} logistic band` }),
      Plot.lineY(curve, { x: "p0", y: "rate", stroke: c, strokeWidth: 2, ariaDescription: `${r.label} logistic fit` }),
      Plot.ruleX(bins, { x: "x", y1: "ci_low", y2: "ci_high", stroke: c, strokeWidth: 1.6 }),
      ...binDots(bins, { x: "x", y: "estimate", color: c, r: 4.5, label: `${r.label} bin rate` }),
    );
    const sl = r.logistic.slope;
    legend.push({ label: `${runName(r)} (slope ${sl.estimate?.toFixed(2) ?? "n/a"})`, color: c, kind: "line" });
  });
  legend.push(...sparseLegend(runs.flatMap((r) => r.violation_by_bin.filter((b) => b.n_prompts > 0)), "#555555"));
  return {
    name,
    title,
    subtitle: "Share of sampled answers containing X under the prohibition, per P0 bin (dots, 95% prompt-bootstrap CIs), and each run's logistic fit with its 95% band, drawn over that run's observed P0 range only.",
    legend,
    plot: {
      ...PLOT_BOX,
      x: { domain: [edges[0], edges[edges.length - 1]], ticks: edges, label: "P0 = P_sem(X | baseline prompt) →", labelAnchor: "center", labelOffset: 36 },
      y: { domain: [0, 100], percent: true, grid: true, label: "↑ Samples containing X (%)" },
      marks,
    },
    caption: "Each run's P0 is its own model's: in a paired comparison a prompt can sit in different bins for different models.",
  };
}

function logitLensByDepth(runs: readonly RunSummary[]): FigureSpec {
  const name = "compare_logit_lens_depth";
  const title = "Logit lens against relative depth";
  const rows = runs.flatMap((r, i) => known(r.logit_lens).map((p) => ({ ...p, run: r.label, i, key: `${r.label}|${p.condition}` })));
  if (!rows.length) return placeholderSpec(name, title, "No run has logit-lens data (runs/logit_lens.csv).");
  const color = (d: { i: number }) => runColor(d.i);
  const neg = rows.filter((d) => d.condition === "negative");
  const base = rows.filter((d) => d.condition === "baseline");
  return {
    name,
    title,
    subtitle: "Mass of X's first tokens at the decision position after the final norm and unembedding, mean over each run's prompts (both outcomes) with 95% band; x = (layer + 1) / n_layers, so 0 is the embeddings and 1 the last block in every model.",
    legend: [
      ...runs.map((r, i) => ({ label: `${runName(r)} (${r.n_layers} layers)`, color: runColor(i), kind: "line" as const })),
      { label: "Negative prompt (solid)", color: "#555555", kind: "line" },
      { label: "Baseline prompt (dashed)", color: "#555555", kind: "dash" },
    ],
    plot: {
      ...PLOT_BOX,
      x: { domain: [0, 1], label: "Relative depth (blocks applied / blocks) →", labelAnchor: "center", labelOffset: 36 },
      y: { grid: true, nice: true, zero: true, label: "↑ P(next token starts X)" },
      marks: [
        Plot.areaY(neg, { x: "depth", y1: "ci_low", y2: "ci_high", z: "key", fill: color, fillOpacity: 0.12 }),
        Plot.lineY(neg, { x: "depth", y: "estimate", z: "key", stroke: color, strokeWidth: 2, ariaDescription: "negative prompt" }),
        Plot.lineY(base, { x: "depth", y: "estimate", z: "key", stroke: color, strokeWidth: 1.5, strokeDasharray: "5,4", ariaDescription: "baseline prompt" }),
      ],
    },
    caption: "Layer −1 (the embeddings) sits at depth 0; the output of block l at (l + 1) / n_layers.",
  };
}

function patchingByDepth(runs: readonly RunSummary[]): FigureSpec {
  const name = "compare_patching_depth";
  const title = "Residual patching ΔP against relative depth";
  const rows = runs.flatMap((r, i) => known(r.patching.resid).map((p) => ({ ...p, run: r.label, i })));
  if (!rows.length) return placeholderSpec(name, title, "No run has residual-stream patching data (runs/patching_results.csv).");
  const color = (d: { i: number }) => runColor(d.i);
  const flips = runs.flatMap((r, i) => (r.patching.sign_changes.resid.length ? [{ i, depth: r.patching.sign_changes.resid[0].depth_crossing }] : []));
  return {
    name,
    title,
    subtitle: "ΔP = P_sem(X) after patching one layer's residual output at the last position from the baseline run into the negative run, minus P_sem(X) of the negative run; mean over each run's patched prompts with 95% band. Diamonds on the zero line: each run's first sign change (interpolated).",
    legend: runs.map((r, i) => ({ label: `${runName(r)} (${r.patching.n_prompts} patched prompts)`, color: runColor(i), kind: "line" as const })),
    plot: {
      ...PLOT_BOX,
      x: { domain: [0, 1], label: "Relative depth (blocks applied / blocks) →", labelAnchor: "center", labelOffset: 36 },
      y: { grid: true, nice: true, label: "↑ ΔP (patched − negative)" },
      marks: [
        Plot.ruleY([0], { stroke: "#999999" }),
        Plot.areaY(rows, { x: "depth", y1: "ci_low", y2: "ci_high", z: "run", fill: color, fillOpacity: 0.12 }),
        Plot.lineY(rows, { x: "depth", y: "estimate", z: "run", stroke: color, strokeWidth: 2 }),
        Plot.dot(rows, { x: "depth", y: "estimate", fill: color, r: 2.5 }),
        Plot.dot(flips, { x: "depth", y: () => 0, symbol: "diamond", r: 6, fill: "white", stroke: color, strokeWidth: 2.5, ariaDescription: "first sign change" }),
      ],
    },
    caption: "Patched layer l is drawn at (l + 1) / n_layers.",
  };
}

export function compareFigures(runs: readonly RunSummary[], edges: readonly number[]): FigureSpec[] {
  return [violationVsP0(runs, edges), logitLensByDepth(runs), patchingByDepth(runs)];
}
