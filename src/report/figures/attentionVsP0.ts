/** Figure 3: IAR, NF and TMF at the decision step against P0 bin, split by greedy outcome. */
import * as Plot from "@observablehq/plot";
import type { Outcome } from "../../schemas.ts";
import { binDots, sparseLegend } from "./binMarks.ts";
import type { FigureContext } from "./context.ts";
import { COLORS, placeholderSpec, type FigureSpec } from "./render.ts";

export const NAME = "fig3_attention_vs_p0";
const TITLE = "Where attention goes at the decision step, by pressure and outcome";

const LABELS: Record<string, string> = {
  iar: "IAR: instruction / (instruction + question)",
  nf: "NF: \"Do not use\" / instruction",
  tmf: "TMF: target mention / instruction",
};

export function build(ctx: FigureContext): FigureSpec {
  const rows = ctx.tables.attention.by_bin_outcome
    .filter((r) => r.metric !== "pi" && r.mean.n > 0 && r.mean.estimate !== null)
    .map((r) => ({ ...r, x: r.p0_mid + (r.outcome === "failure" ? 0.015 : -0.015) }));
  if (rows.length === 0) return placeholderSpec(NAME, TITLE, "No attention data (runs/attention_metrics.csv missing or without global rows).");
  const color = (o: Outcome) => (o === "failure" ? COLORS.failure : COLORS.success);
  const edges = ctx.edges;
  return {
    name: NAME,
    title: TITLE,
    subtitle:
      "Attention mass of the decision step (averaged over layers and heads) on prompt spans of the negative prompt; mean per P0 bin with 95% prompt-bootstrap CIs.",
    legend: [
      { label: "Greedy success (X avoided)", color: COLORS.success },
      { label: "Greedy failure (X said)", color: COLORS.failure },
      ...sparseLegend(rows, COLORS.ink),
    ],
    plot: {
      height: 360,
      marginLeft: 72,
      marginBottom: 44,
      marginTop: 30,
      fx: { domain: ["iar", "nf", "tmf"], tickFormat: (m: string) => LABELS[m], label: null, padding: 0.12 },
      x: { domain: [edges[0], edges[edges.length - 1]], ticks: [0, 0.5, 1], label: "P0 bin centre →", labelAnchor: "center", labelOffset: 36 },
      y: { grid: true, nice: true, labelAnchor: "center", labelOffset: 56, label: "Attention fraction", zero: true },
      marks: [
        Plot.frame({ stroke: "#dddddd" }),
        Plot.lineY(rows, { fx: "metric", x: "x", y: (d) => d.mean.estimate, z: "outcome", stroke: (d) => color(d.outcome), strokeWidth: 1.5 }),
        Plot.ruleX(rows, { fx: "metric", x: "x", y1: (d) => d.mean.ci_low, y2: (d) => d.mean.ci_high, stroke: (d) => color(d.outcome), strokeWidth: 1.5 }),
        ...binDots(rows, { fx: "metric", x: "x", y: (d) => d.mean.estimate, color: (d) => color(d.outcome), r: 4, label: "bin × outcome mean" }),
      ],
    },
    caption: "Outcome is the greedy answer under the negative prompt. Bins with no prompts of an outcome are left out; hollow markers have too few prompts for a per-bin claim.",
  };
}
