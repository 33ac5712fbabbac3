/** Figure 4: priming index PI = TMF − NF for greedy successes vs failures. */
import * as Plot from "@observablehq/plot";
import type { FigureContext } from "./context.ts";
import { fmtCI, jitter } from "./context.ts";
import { COLORS, placeholderSpec, type FigureSpec } from "./render.ts";

export const NAME = "fig4_pi_vs_violation";
const TITLE = "Priming index: attention to the forbidden word vs to the negation";

export function build(ctx: FigureContext): FigureSpec {
  const rows = ctx.data.attention.filter((a) => a.scope === "global" && a.condition === "negative" && Number.isFinite(a.pi));
  if (rows.length === 0) return placeholderSpec(NAME, TITLE, "No attention data (runs/attention_metrics.csv missing or without global rows).");
  const idx = (o: string) => (o === "failure" ? 1 : 0);
  const pts = rows.map((r) => ({ x: idx(r.outcome) + 0.5 * jitter(r.prompt_id), y: r.pi, outcome: r.outcome }));
  const att = ctx.tables.attention;
  const means = (["success", "failure"] as const).map((o) => ({ x: idx(o), ...att.by_outcome[o].pi })).filter((m) => m.n > 0 && m.estimate !== null);
  const corr = att.pi_vs_sampled_violation_correlation;
  return {
    name: NAME,
    title: TITLE,
    subtitle:
      `PI = TMF − NF at the decision step (negative prompt), one dot per prompt. Failure − success: ${fmtCI(att.failure_minus_success.pi, 3)}; ` +
      `Pearson r(PI, sampled violation rate) = ${fmtCI(corr, 2)} (95% prompt-bootstrap CIs).`,
    legend: [
      { label: "Greedy success (X avoided)", color: COLORS.success },
      { label: "Greedy failure (X said)", color: COLORS.failure },
      { label: "Mean ± 95% CI", color: COLORS.ink },
    ],
    plot: {
      height: 400,
      marginLeft: 60,
      marginBottom: 40,
      x: {
        domain: [-0.6, 1.6],
        ticks: [0, 1],
        tickFormat: (v: number) => (v === 0 ? "Greedy success (X avoided)" : "Greedy failure (X said)"),
        label: null,
        tickSize: 0,
      },
      y: { grid: true, label: "↑ Priming index PI = TMF − NF" },
      marks: [
        Plot.ruleY([0], { stroke: "#999999" }),
        Plot.dot(pts, { x: "x", y: "y", r: 3, fill: (d) => (d.outcome === "failure" ? COLORS.failure : COLORS.success), fillOpacity: 0.5 }),
        Plot.ruleX(means, { x: "x", y1: "ci_low", y2: "ci_high", stroke: COLORS.ink, strokeWidth: 2.5 }),
        Plot.ruleY(means, { x1: (d) => d.x - 0.2, x2: (d) => d.x + 0.2, y: "estimate", stroke: COLORS.ink, strokeWidth: 3 }),
        Plot.text(means, { y: "estimate", text: (d) => `${d.estimate!.toFixed(3)} (n=${d.n})`, x: (d) => d.x + 0.22, textAnchor: "start", fill: COLORS.ink, stroke: "white", strokeWidth: 4, fontSize: 11, fontWeight: "bold" }),
      ],
    },
    caption: "PI > 0: the decision step attends more to the quoted target word than to the negation \"Do not use\".",
  };
}
