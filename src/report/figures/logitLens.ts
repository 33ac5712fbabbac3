/** Figure 5: logit-lens mass of X by layer, baseline vs negative prompt, greedy success vs failure. */
import * as Plot from "@observablehq/plot";
import type { FigureContext } from "./context.ts";
import { COLORS, placeholderSpec, type FigureSpec } from "./render.ts";

export const NAME = "fig5_logit_lens";
const TITLE = "Logit lens: when X becomes the next-token candidate";

const OUTCOME_LABEL: Record<string, string> = {
  success: "Greedy success (X avoided)",
  failure: "Greedy failure (X said)",
};

export function build(ctx: FigureContext): FigureSpec {
  const s = ctx.tables.logit_lens.series
    .filter((r) => r.mass.estimate !== null)
    .map((r) => ({ ...r, y: r.mass.estimate, lo: r.mass.ci_low, hi: r.mass.ci_high, key: `${r.condition}|${r.outcome}` }));
  if (s.length === 0) return placeholderSpec(NAME, TITLE, "No logit-lens data (runs/logit_lens.csv missing).");
  const color = (c: string) => (c === "negative" ? COLORS.negative : COLORS.baseline);
  const outcomes = ["success", "failure"].filter((o) => s.some((r) => r.outcome === o));
  return {
    name: NAME,
    title: TITLE,
    subtitle:
      "Mass of the first tokens of X's surface forms after applying the final norm and unembedding to each layer's residual stream at the decision position; mean over prompts with 95% prompt-bootstrap band.",
    legend: [
      { label: "Baseline prompt", color: COLORS.baseline, kind: "line" },
      { label: "Negative prompt (\"Do not use X\")", color: COLORS.negative, kind: "line" },
      { label: "95% CI", color: COLORS.negative, kind: "band" },
    ],
    plot: {
      height: 380,
      marginLeft: 72,
      marginBottom: 44,
      marginTop: 30,
      fx: { domain: outcomes, tickFormat: (o: string) => OUTCOME_LABEL[o], label: null, padding: 0.08 },
      x: { label: "Layer (output of block; −1 = embeddings) →", labelAnchor: "center", labelOffset: 36 },
      y: { grid: true, nice: true, labelAnchor: "center", labelOffset: 56, label: "P(next token starts X)", zero: true },
      marks: [
        Plot.frame({ stroke: "#dddddd" }),
        Plot.areaY(s, { fx: "outcome", x: "layer", y1: "lo", y2: "hi", z: "key", fill: (d) => color(d.condition), fillOpacity: 0.18 }),
        Plot.lineY(s, { fx: "outcome", x: "layer", y: "y", z: "key", stroke: (d) => color(d.condition), strokeWidth: 2 }),
      ],
    },
    caption: "Outcome is the greedy answer under the negative prompt; both conditions of a prompt share its outcome label.",
  };
}
