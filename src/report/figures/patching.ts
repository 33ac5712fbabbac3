/** Figure 7: activation patching ΔP by layer and P0 bin, residual stream and attention output. */
import * as Plot from "@observablehq/plot";
import { MIN_BIN_PROMPTS } from "../support.ts";
import { binDots, sparseLegend } from "./binMarks.ts";
import type { FigureContext } from "./context.ts";
import { COLORS, placeholderSpec, type FigureSpec } from "./render.ts";

export const NAME = "fig7_patching";
const TITLE = "Activation patching: restoring baseline activations layer by layer";

const SITE_LABEL: Record<string, string> = {
  resid: "Residual stream (last position)",
  attn: "Attention output (last position)",
};

export function build(ctx: FigureContext): FigureSpec {
  const p = ctx.tables.patching;
  const byBin = p.by_bin_layer.filter((r) => r.delta_p.estimate !== null).map((r) => ({ ...r, y: r.delta_p.estimate }));
  const all = p.by_layer.filter((r) => r.delta_p.estimate !== null).map((r) => ({ ...r, y: r.delta_p.estimate, lo: r.delta_p.ci_low, hi: r.delta_p.ci_high }));
  if (all.length === 0) return placeholderSpec(NAME, TITLE, "No patching data (runs/patching_results.csv missing or empty).");
  const bins = [...new Set(byBin.map((r) => r.bin))].sort((a, b) => a - b);
  const labelOf = new Map(byBin.map((r) => [r.bin, r.label]));
  const nOf = new Map(byBin.map((r) => [r.bin, r.n_prompts]));
  const sparseBin = new Set(byBin.filter((r) => r.sparse).map((r) => r.bin));
  const full = byBin.filter((r) => !r.sparse);
  const thin = byBin.filter((r) => r.sparse);
  const binColor = (b: number) => COLORS.bins[Math.min(COLORS.bins.length - 1, b)];
  const sites = ["resid", "attn"].filter((s) => all.some((r) => r.site === s));
  return {
    name: NAME,
    title: TITLE,
    subtitle:
      `ΔP = P_sem(X) after patching one layer's output at the last position from the baseline run into the negative run, minus P_sem(X) of the negative run. ` +
      `${p.n_prompts} patched prompts (${p.n_by_outcome.success ?? 0} greedy successes, ${p.n_by_outcome.failure ?? 0} failures); ` +
      `subset threshold T = ${p.subset.threshold.toFixed(2)}, passed by ${p.subset.n_passed_threshold} of ${p.subset.n_candidates} prompts (the report's patching-subset note says how they were chosen).`,
    legend: [
      ...bins.map((b) => ({
        label: `P0 ${labelOf.get(b)} (n=${nOf.get(b)}${sparseBin.has(b) ? `, < ${MIN_BIN_PROMPTS}: sparse` : ""})`,
        color: binColor(b),
        kind: sparseBin.has(b) ? ("dash" as const) : ("line" as const),
      })),
      ...sparseLegend(byBin, COLORS.ink),
      { label: "All prompts (95% CI band)", color: COLORS.ink, kind: "line" as const },
    ],
    plot: {
      height: 380,
      marginLeft: 72,
      marginBottom: 44,
      marginTop: 30,
      fx: { domain: sites, tickFormat: (s: string) => SITE_LABEL[s] ?? s, label: null, padding: 0.08 },
      x: { label: "Patched layer →", labelAnchor: "center", labelOffset: 36 },
      y: { grid: true, nice: true, labelAnchor: "center", labelOffset: 56, label: "ΔP (patched − negative)" },
      marks: [
        Plot.frame({ stroke: "#dddddd" }),
        Plot.ruleY([0], { stroke: "#999999" }),
        Plot.lineY(full, { fx: "site", x: "layer", y: "y", z: "bin", stroke: (d) => binColor(d.bin), strokeWidth: 1.6, ariaDescription: "bin ΔP" }),
        Plot.lineY(thin, { fx: "site", x: "layer", y: "y", z: "bin", stroke: (d) => binColor(d.bin), strokeWidth: 1.2, strokeDasharray: "4,3", ariaDescription: "bin ΔP, sparse" }),
        ...binDots(thin, { fx: "site", x: "layer", y: "y", color: (d) => binColor(d.bin), r: 3, label: "bin ΔP" }),
        Plot.areaY(all, { fx: "site", x: "layer", y1: "lo", y2: "hi", fill: COLORS.ink, fillOpacity: 0.12 }),
        Plot.lineY(all, { fx: "site", x: "layer", y: "y", stroke: COLORS.ink, strokeWidth: 2.4 }),
      ],
    },
    caption:
      "ΔP > 0: the baseline activation at that layer restores the pull towards X that the prohibition removed. " +
      "Dashed lines with hollow markers are P0 bins with too few patched prompts for a per-bin claim. " +
      p.subset.statement,
  };
}
