/**
 * The mechanistic sections of tables.json, one function per table: attention routing, logit lens,
 * attention-vs-FFN decomposition and activation patching (with the patching subset stated in words).
 * Per-bin cells carry `n_prompts` and `sparse` (support.ts).
 */
import { Condition, Outcome, type AttentionRow, type DecompRow, type LogitLensRow, type PatchRow } from "../schemas.ts";
import { binCount, binLabel, binMid } from "../stats/bins.ts";
import { mean } from "../stats/bootstrap.ts";
import type { CIBook, Estimate } from "./ciBook.ts";
import { patchSubsetTable, type PatchRule } from "./patchSubset.ts";
import { isSparse } from "./support.ts";
import { BANDS, bandOf, bandRange, groupBy, type Band, type PromptView } from "./views.ts";

const OUTCOMES = Outcome.options;
const CONDITIONS = Condition.options;
const ATTN_METRICS = ["iar", "nf", "tmf", "pi"] as const;
type AttnMetric = (typeof ATTN_METRICS)[number];

/** `attention`: routing metrics (global scope, negative condition) by outcome, their difference, by bin × outcome. */
export function attentionTable(rows: readonly AttentionRow[], views: readonly PromptView[], book: CIBook, edges: readonly number[]) {
  const viewOf = new Map(views.map((v) => [v.prompt_id, v]));
  const globalNeg = rows.filter((a) => a.scope === "global" && a.condition === "negative");
  const byOutcome = Object.fromEntries(
    OUTCOMES.map((o) => {
      const rs = globalNeg.filter((a) => a.outcome === o);
      return [o, Object.fromEntries(ATTN_METRICS.map((m) => [m, book.mean(`attention.${m}`, `outcome=${o}`, rs.map((r) => r[m]))]))];
    }),
  ) as Record<Outcome, Record<AttnMetric, Estimate>>;
  const diff = Object.fromEntries(
    ATTN_METRICS.map((m) => [
      m,
      book.stat(`attention.${m}.failure_minus_success`, "all", globalNeg, (s) => {
        const f = s.filter((r) => r.outcome === "failure").map((r) => r[m]);
        const g = s.filter((r) => r.outcome === "success").map((r) => r[m]);
        return mean(f) - mean(g);
      }),
    ]),
  ) as Record<AttnMetric, Estimate>;
  const byBin: { metric: AttnMetric; bin: number; p0_mid: number; outcome: Outcome; n_prompts: number; sparse: boolean; mean: Estimate }[] = [];
  for (const m of ATTN_METRICS)
    for (let b = 0; b < binCount(edges); b++)
      for (const o of OUTCOMES) {
        const rs = globalNeg.filter((a) => a.outcome === o && viewOf.get(a.prompt_id)?.bin === b);
        byBin.push({
          metric: m, bin: b, p0_mid: binMid(b, edges), outcome: o, n_prompts: rs.length, sparse: isSparse(rs.length),
          mean: book.mean(`attention.${m}`, `bin${b}.outcome=${o}`, rs.map((r) => r[m])),
        });
      }
  const piViolation = globalNeg
    .map((a) => ({ pi: a.pi, vr: viewOf.get(a.prompt_id)?.neg?.violation_rate }))
    .filter((x): x is { pi: number; vr: number } => Number.isFinite(x.vr));
  return {
    scope: "global (all layers and heads), decision step, negative condition",
    n_prompts: globalNeg.length,
    by_outcome: byOutcome,
    failure_minus_success: diff,
    pi_vs_sampled_violation_correlation: book.stat("attention.pi_violation_pearson", "all", piViolation, (s) =>
      pearson(s.map((x) => x.pi), s.map((x) => x.vr)),
    ),
    by_bin_outcome: byBin,
  };
}

interface LayerCell {
  condition: Condition;
  outcome: Outcome;
  layer: number;
}

/** Rows grouped by (condition, outcome, layer), groups in first-seen order. */
function byCell<R extends LayerCell>(rows: readonly R[]): { cell: LayerCell; rows: R[] }[] {
  return [...groupBy(rows, (r) => `${r.condition}|${r.outcome}|${r.layer}`).values()].map((rs) => ({
    cell: { condition: rs[0].condition, outcome: rs[0].outcome, layer: rs[0].layer },
    rows: rs,
  }));
}

const byConditionOutcomeLayer = (a: LayerCell, b: LayerCell) => a.condition.localeCompare(b.condition) || a.outcome.localeCompare(b.outcome) || a.layer - b.layer;

/** `logit_lens`: mass of S(X)'s first tokens at the decision position, per condition × outcome × layer. */
export function logitLensTable(rows: readonly LogitLensRow[], book: CIBook) {
  const series = byCell(rows).map(({ cell: { condition, outcome, layer }, rows: rs }) => ({
    condition,
    outcome,
    layer,
    mass: book.mean("logit_lens.mass", `${condition}.${outcome}.layer${layer}`, rs.map((r) => r.mass)),
  }));
  series.sort(byConditionOutcomeLayer);
  const last = rows.reduce((m, r) => Math.max(m, r.layer), -2); // no spread: 145k rows at paper scale overflow the stack
  return {
    layer_note: "layer l = output of block l (0..n_layers-1, as in every CSV), layer -1 = the embeddings, before block 0; mass of the first tokens of S(X) at the decision position",
    n_layers_plus_embeddings: last + 2,
    final_layer: series.filter((s) => s.layer === last).map((s) => ({ condition: s.condition, outcome: s.outcome, mass: s.mass })),
    series,
  };
}

/** `decomposition`: attention and FFN contributions to P(first token of X), per layer and per band. */
export function decompositionTable(rows: readonly DecompRow[], book: CIBook, nLayers: number) {
  const series = byCell(rows).flatMap(({ cell: { condition, outcome, layer }, rows: rs }) =>
    (["attn", "ffn"] as const).map((component) => ({
      condition,
      outcome,
      layer,
      component,
      contrib: book.mean(`decomp.${component}`, `${condition}.${outcome}.layer${layer}`, rs.map((r) => (component === "attn" ? r.attn_contrib : r.ffn_contrib))),
    })),
  );
  series.sort((a, b) => byConditionOutcomeLayer(a, b) || a.component.localeCompare(b.component));
  const byBand: { condition: Condition; outcome: Outcome; band: Band; layers: [number, number]; attn: Estimate; ffn: Estimate }[] = [];
  for (const c of CONDITIONS)
    for (const o of OUTCOMES)
      for (const band of BANDS) {
        const inBand = rows.filter((r) => r.condition === c && r.outcome === o && bandOf(r.layer, nLayers) === band);
        const perPrompt = [...groupBy(inBand, (r) => r.prompt_id).values()];
        if (perPrompt.length === 0) continue;
        byBand.push({
          condition: c, outcome: o, band, layers: bandRange(band, nLayers),
          attn: book.mean("decomp.attn_band_sum", `${c}.${o}.${band}`, perPrompt.map((rs) => rs.reduce((a, r) => a + r.attn_contrib, 0))),
          ffn: book.mean("decomp.ffn_band_sum", `${c}.${o}.${band}`, perPrompt.map((rs) => rs.reduce((a, r) => a + r.ffn_contrib, 0))),
        });
      }
  return {
    note: "contribution to P(first token of X) at the decision position: attn = P(h_in + attn_out) - P(h_in), ffn = P(h_out) - P(h_in + attn_out); band values are per-prompt sums over the band's layers",
    by_band: byBand,
    series,
  };
}

export interface PatchingOptions {
  edges: readonly number[];
  nLayers: number;
  patchRule: PatchRule;
}

/** `patching`: ΔP and the next-token flip rate by site × band, ΔP by site × layer and site × bin × layer. */
export function patchingTable(rows: readonly PatchRow[], views: readonly PromptView[], book: CIBook, opts: PatchingOptions) {
  const { edges, nLayers } = opts;
  const viewOf = new Map(views.map((v) => [v.prompt_id, v]));
  const byBand: { site: string; band: Band; layers: [number, number]; delta_p: Estimate; next_token_flip_rate: Estimate }[] = [];
  for (const site of ["resid", "attn"] as const)
    for (const band of BANDS) {
      const per = [...groupBy(rows.filter((r) => r.site === site && bandOf(r.layer, nLayers) === band), (r) => r.prompt_id).values()];
      if (per.length === 0) continue;
      byBand.push({
        site, band, layers: bandRange(band, nLayers),
        delta_p: book.mean("patching.delta_p", `${site}.${band}`, per.map((rs) => mean(rs.map((r) => r.delta_p)))),
        next_token_flip_rate: book.mean("patching.next_token_flip_rate", `${site}.${band}`, per.map((rs) => mean(rs.map((r) => r.next_token_flip)))),
      });
    }
  const byLayer = [...groupBy(rows, (r) => `${r.site}|${r.layer}`).values()].map((rs) => {
    const { site, layer } = rs[0];
    return { site, layer, delta_p: book.mean("patching.delta_p", `${site}.layer${layer}`, rs.map((r) => r.delta_p)) };
  });
  // A row's bin is its prompt's bin by the configured edges; the CSV's own bin only when the prompt is unknown.
  const binOfRow = (r: PatchRow) => viewOf.get(r.prompt_id)?.bin ?? r.bin;
  const byBinLayer = [...groupBy(rows, (r) => `${r.site}|${binOfRow(r)}|${r.layer}`).values()].map((rs) => {
    const { site, layer } = rs[0];
    const bin = binOfRow(rs[0]);
    const n = new Set(rs.map((r) => r.prompt_id)).size;
    return {
      site, bin, label: binLabel(bin, edges), layer, n_prompts: n, sparse: isSparse(n),
      delta_p: book.mean("patching.delta_p", `${site}.bin${bin}.layer${layer}`, rs.map((r) => r.delta_p)),
    };
  });
  const bySiteLayer = (a: { site: string; layer: number }, b: { site: string; layer: number }) => a.site.localeCompare(b.site) || a.layer - b.layer;
  byLayer.sort(bySiteLayer);
  byBinLayer.sort((a, b) => bySiteLayer(a, b) || a.bin - b.bin);
  return {
    note: "ΔP = P_sem(negative run with layer l's output at the last position patched from the baseline run) - P_sem(negative run)",
    n_prompts: new Set(rows.map((r) => r.prompt_id)).size,
    n_by_outcome: Object.fromEntries(OUTCOMES.map((o) => [o, new Set(rows.filter((r) => r.outcome === o).map((r) => r.prompt_id)).size])),
    n_layers: nLayers,
    subset: patchSubsetTable(views, rows, opts.patchRule),
    by_band: byBand,
    by_layer: byLayer,
    by_bin_layer: byBinLayer,
  };
}

/** Pearson correlation (NaN when either side is constant). */
export function pearson(x: readonly number[], y: readonly number[]): number {
  const n = x.length;
  if (n < 2) return NaN;
  const mx = mean(x);
  const my = mean(y);
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : NaN;
}
