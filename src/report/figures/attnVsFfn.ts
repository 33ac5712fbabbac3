/** Figure 6: per-layer contribution of attention and FFN sub-layers to P(X), negative prompt. */
import * as Plot from "@observablehq/plot";
import type { FigureContext } from "./context.ts";
import { COLORS, placeholderSpec, type FigureSpec } from "./render.ts";

export const NAME = "fig6_attn_vs_ffn";
const TITLE = "Attention vs FFN: which sub-layers push X up or down";

const OUTCOME_LABEL: Record<string, string> = {
  success: "Greedy success (X avoided)",
  failure: "Greedy failure (X said)",
};

export function build(ctx: FigureContext): FigureSpec {
  const s = ctx.tables.decomposition.series
    .filter((r) => r.condition === "negative" && r.contrib.estimate !== null)
    .map((r) => ({ ...r, y: r.contrib.estimate, lo: r.contrib.ci_low, hi: r.contrib.ci_high }));
  if (s.length === 0) return placeholderSpec(NAME, TITLE, "No decomposition data (runs/ffn_attn_decomp.csv missing).");
  const color = (c: string) => (c === "attn" ? COLORS.attn : COLORS.ffn);
  const outcomes = ["success", "failure"].filter((o) => s.some((r) => r.outcome === o));
  return {
    name: NAME,
    title: TITLE,
    subtitle:
      "Change in P(next token starts X) (logit lens at the decision position, negative prompt) made by each layer's attention output (P(h_in + attn) − P(h_in)) and FFN output (P(h_out) − P(h_in + attn)); mean with 95% prompt-bootstrap band.",
    legend: [
      { label: "Attention sub-layer", color: COLORS.attn, kind: "line" },
      { label: "FFN sub-layer", color: COLORS.ffn, kind: "line" },
      { label: "95% CI", color: COLORS.attn, kind: "band" },
    ],
    plot: {
      height: 380,
      marginLeft: 72,
      marginBottom: 44,
      marginTop: 30,
      fx: { domain: outcomes, tickFormat: (o: string) => OUTCOME_LABEL[o], label: null, padding: 0.08 },
      x: { label: "Layer →", labelAnchor: "center", labelOffset: 36 },
      y: { grid: true, nice: true, labelAnchor: "center", labelOffset: 56, label: "Δ P(X) from sub-layer" },
      marks: [
        Plot.frame({ stroke: "#dddddd" }),
        Plot.ruleY([0], { stroke: "#999999" }),
        Plot.areaY(s, { fx: "outcome", x: "layer", y1: "lo", y2: "hi", z: "component", fill: (d) => color(d.component), fillOpacity: 0.2 }),
        Plot.lineY(s, { fx: "outcome", x: "layer", y: "y", z: "component", stroke: (d) => color(d.component), strokeWidth: 2 }),
        Plot.dot(s, { fx: "outcome", x: "layer", y: "y", fill: (d) => color(d.component), r: 2.2 }),
      ],
    },
    caption: "Positive values raise the probability of X at that layer; negative values suppress it.",
  };
}
