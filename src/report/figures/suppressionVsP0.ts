/** Figure 2: relative suppression R = (P0 − P1)/P0 against P0, per prompt and per bin. */
import * as Plot from "@observablehq/plot";
import { binDots, sparseLegend } from "./binMarks.ts";
import type { FigureContext } from "./context.ts";
import { COLORS, placeholderSpec, type FigureSpec } from "./render.ts";

export const NAME = "fig2_suppression_vs_p0";
const TITLE = "How much the prohibition suppresses X, by pressure";

export function build(ctx: FigureContext): FigureSpec {
  const pts = ctx.views.filter((v) => Number.isFinite(v.rel) && Number.isFinite(v.p0));
  if (pts.length === 0) return placeholderSpec(NAME, TITLE, "No P_sem data (runs/psem.csv is empty).");
  const bins = ctx.tables.suppression.by_bin.filter((b) => b.n > 0 && b.rel_suppression.estimate !== null);
  const lo = Math.max(-1, pts.reduce((m, p) => Math.min(m, p.rel), 0));
  const clipped = pts.filter((p) => p.rel < lo).length;
  const edges = ctx.edges;
  const o = ctx.tables.suppression.overall;
  return {
    name: NAME,
    title: TITLE,
    subtitle:
      `Relative suppression R = (P0 − P1) / P0, where P1 = P_sem(X | negative prompt). Mean R = ${o.rel_suppression.estimate?.toFixed(2) ?? "n/a"}; ` +
      `P1 < P0 for ${((o.share_p1_below_p0.estimate ?? 0) * 100).toFixed(0)}% of ${o.n} prompts.` +
      (clipped ? ` ${clipped} prompt(s) with R < −1 drawn at the bottom edge.` : ""),
    legend: [
      { label: "Prompt, greedy answer avoided X", color: COLORS.success },
      { label: "Prompt, greedy answer said X", color: COLORS.failure },
      { label: "Bin mean ± 95% CI", color: COLORS.ink },
      ...sparseLegend(bins, COLORS.ink),
    ],
    plot: {
      height: 400,
      marginLeft: 56,
      marginBottom: 44,
      x: { domain: [edges[0], edges[edges.length - 1]], ticks: edges, label: "P0 = P_sem(X | baseline prompt) →", labelAnchor: "center", labelOffset: 36 },
      y: { domain: [lo, 1], grid: true, label: "↑ Relative suppression R", clamp: true },
      marks: [
        Plot.ruleY([0], { stroke: "#999999" }),
        Plot.dot(pts, {
          x: "p0",
          y: "rel",
          r: 3,
          fill: (d) => (d.outcome === "failure" ? COLORS.failure : COLORS.success),
          fillOpacity: 0.55,
        }),
        Plot.ruleX(bins, { x: (d) => d.p0.estimate ?? d.p0_mid, y1: (d) => d.rel_suppression.ci_low, y2: (d) => d.rel_suppression.ci_high, stroke: COLORS.ink, strokeWidth: 2 }),
        ...binDots(bins, { x: (d) => d.p0.estimate ?? d.p0_mid, y: (d) => d.rel_suppression.estimate, color: COLORS.ink, r: 5.5, label: "bin mean R" }),
      ],
    },
    caption: "R = 1 means the prohibition removed all probability of X; R < 0 means it made X more likely. Hollow bin means: too few prompts for a per-bin claim.",
  };
}
