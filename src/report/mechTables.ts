/**
 * The mechanistic sections of tables.json: attention routing, logit lens, attention-vs-FFN
 * decomposition and activation patching (with the patching subset stated in words). Per-bin cells
 * carry `n_prompts` and `sparse` (support.ts).
 */
import type { Condition, Outcome } from "../schemas.ts";
import { binLabel, binMid } from "../stats/bins.ts";
import { mean } from "../stats/bootstrap.ts";
import type { CIBook, Estimate } from "./ciBook.ts";
import type { RunData } from "./load.ts";
import { patchSubsetTable, type PatchRule } from "./patchSubset.ts";
import { isSparse } from "./support.ts";
import { BANDS, bandOf, bandRange, groupBy, type Band, type PromptView } from "./views.ts";

const OUTCOMES: readonly Outcome[] = ["success", "failure"];
const CONDITIONS: readonly Condition[] = ["baseline", "negative"];
const ATTN_METRICS = ["iar", "nf", "tmf", "pi"] as const;
type AttnMetric = (typeof ATTN_METRICS)[number];

export interface MechOptions {
  edges: readonly number[];
  nBins: number;
  nLayers: number;
  patchRule: PatchRule;
}

export function mechanisticTables(data: RunData, views: readonly PromptView[], book: CIBook, opts: MechOptions) {
  const nBins = opts.nBins;
  const nLayers = opts.nLayers;
  // ---- attention routing (global scope, negative condition) -------------------------------------
  const p0Of = new Map(views.map((v) => [v.prompt_id, v]));
  const globalNeg = data.attention.filter((a) => a.scope === "global" && a.condition === "negative");
  const attnByOutcome = Object.fromEntries(
    OUTCOMES.map((o) => {
      const rows = globalNeg.filter((a) => a.outcome === o);
      return [o, Object.fromEntries(ATTN_METRICS.map((m) => [m, book.mean(`attention.${m}`, `outcome=${o}`, rows.map((r) => r[m]))]))];
    }),
  ) as Record<Outcome, Record<AttnMetric, Estimate>>;
  const attnDiff = Object.fromEntries(
    ATTN_METRICS.map((m) => [
      m,
      book.stat(`attention.${m}.failure_minus_success`, "all", globalNeg, (s) => {
        const f = s.filter((r) => r.outcome === "failure").map((r) => r[m]);
        const g = s.filter((r) => r.outcome === "success").map((r) => r[m]);
        return mean(f) - mean(g);
      }),
    ]),
  ) as Record<AttnMetric, Estimate>;
  const attnByBin: { metric: AttnMetric; bin: number; p0_mid: number; outcome: Outcome; n_prompts: number; sparse: boolean; mean: Estimate }[] = [];
  for (const m of ATTN_METRICS)
    for (let b = 0; b < nBins; b++)
      for (const o of OUTCOMES) {
        const rows = globalNeg.filter((a) => a.outcome === o && p0Of.get(a.prompt_id)?.bin === b);
        attnByBin.push({
          metric: m, bin: b, p0_mid: binMid(b, opts.edges), outcome: o, n_prompts: rows.length, sparse: isSparse(rows.length),
          mean: book.mean(`attention.${m}`, `bin${b}.outcome=${o}`, rows.map((r) => r[m])),
        });
      }
  const piViolation = globalNeg
    .map((a) => ({ pi: a.pi, vr: p0Of.get(a.prompt_id)?.neg?.violation_rate }))
    .filter((x): x is { pi: number; vr: number } => Number.isFinite(x.vr));
  const attention = {
    scope: "global (all layers and heads), decision step, negative condition",
    n_prompts: globalNeg.length,
    by_outcome: attnByOutcome,
    failure_minus_success: attnDiff,
    pi_vs_sampled_violation_correlation: book.stat("attention.pi_violation_pearson", "all", piViolation, (s) =>
      pearson(s.map((x) => x.pi), s.map((x) => x.vr)),
    ),
    by_bin_outcome: attnByBin,
  };

  // ---- logit lens -----------------------------------------------------------------------------
  const lensSeries: { condition: Condition; outcome: Outcome; layer: number; mass: Estimate }[] = [];
  for (const [key, rows] of groupBy(data.logitLens, (r) => `${r.condition}|${r.outcome}|${r.layer}`)) {
    const [condition, outcome, layer] = key.split("|");
    lensSeries.push({
      condition: condition as Condition,
      outcome: outcome as Outcome,
      layer: Number(layer),
      mass: book.mean("logit_lens.mass", `${condition}.${outcome}.layer${layer}`, rows.map((r) => r.mass)),
    });
  }
  lensSeries.sort((a, b) => a.condition.localeCompare(b.condition) || a.outcome.localeCompare(b.outcome) || a.layer - b.layer);
  const lensLast = Math.max(-2, ...data.logitLens.map((r) => r.layer));
  const logitLens = {
    layer_note: "layer l = output of block l (0..n_layers-1, as in every CSV), layer -1 = the embeddings, before block 0; mass of the first tokens of S(X) at the decision position",
    n_layers_plus_embeddings: lensLast + 2,
    final_layer: lensSeries.filter((s) => s.layer === lensLast).map((s) => ({ condition: s.condition, outcome: s.outcome, mass: s.mass })),
    series: lensSeries,
  };

  // ---- attention vs FFN decomposition -----------------------------------------------------------
  const decompSeries: { condition: Condition; outcome: Outcome; layer: number; component: "attn" | "ffn"; contrib: Estimate }[] = [];
  for (const [key, rows] of groupBy(data.decomp, (r) => `${r.condition}|${r.outcome}|${r.layer}`)) {
    const [condition, outcome, layer] = key.split("|");
    for (const component of ["attn", "ffn"] as const)
      decompSeries.push({
        condition: condition as Condition,
        outcome: outcome as Outcome,
        layer: Number(layer),
        component,
        contrib: book.mean(`decomp.${component}`, `${condition}.${outcome}.layer${layer}`, rows.map((r) => (component === "attn" ? r.attn_contrib : r.ffn_contrib))),
      });
  }
  decompSeries.sort((a, b) => a.condition.localeCompare(b.condition) || a.outcome.localeCompare(b.outcome) || a.layer - b.layer || a.component.localeCompare(b.component));
  const decompBands: { condition: Condition; outcome: Outcome; band: Band; layers: [number, number]; attn: Estimate; ffn: Estimate }[] = [];
  for (const c of CONDITIONS)
    for (const o of OUTCOMES)
      for (const band of BANDS) {
        const rows = data.decomp.filter((r) => r.condition === c && r.outcome === o && bandOf(r.layer, nLayers) === band);
        const perPrompt = [...groupBy(rows, (r) => r.prompt_id).values()];
        if (perPrompt.length === 0) continue;
        decompBands.push({
          condition: c, outcome: o, band, layers: bandRange(band, nLayers),
          attn: book.mean("decomp.attn_band_sum", `${c}.${o}.${band}`, perPrompt.map((rs) => rs.reduce((a, r) => a + r.attn_contrib, 0))),
          ffn: book.mean("decomp.ffn_band_sum", `${c}.${o}.${band}`, perPrompt.map((rs) => rs.reduce((a, r) => a + r.ffn_contrib, 0))),
        });
      }
  const decomposition = {
    note: "contribution to P(first token of X) at the decision position: attn = P(h_in + attn_out) - P(h_in), ffn = P(h_out) - P(h_in + attn_out); band values are per-prompt sums over the band's layers",
    by_band: decompBands,
    series: decompSeries,
  };

  // ---- activation patching ----------------------------------------------------------------------
  const sites = ["resid", "attn"] as const;
  const patchBands: { site: string; band: Band; layers: [number, number]; delta_p: Estimate; next_token_flip_rate: Estimate }[] = [];
  for (const site of sites)
    for (const band of BANDS) {
      const rows = data.patching.filter((r) => r.site === site && bandOf(r.layer, nLayers) === band);
      const per = [...groupBy(rows, (r) => r.prompt_id).values()];
      if (per.length === 0) continue;
      patchBands.push({
        site, band, layers: bandRange(band, nLayers),
        delta_p: book.mean("patching.delta_p", `${site}.${band}`, per.map((rs) => mean(rs.map((r) => r.delta_p)))),
        next_token_flip_rate: book.mean("patching.next_token_flip_rate", `${site}.${band}`, per.map((rs) => mean(rs.map((r) => r.next_token_flip)))),
      });
    }
  const patchLayer: { site: string; layer: number; delta_p: Estimate }[] = [];
  const patchBinLayer: { site: string; bin: number; label: string; layer: number; n_prompts: number; sparse: boolean; delta_p: Estimate }[] = [];
  for (const [key, rows] of groupBy(data.patching, (r) => `${r.site}|${r.layer}`)) {
    const [site, layer] = key.split("|");
    patchLayer.push({ site, layer: Number(layer), delta_p: book.mean("patching.delta_p", `${site}.layer${layer}`, rows.map((r) => r.delta_p)) });
  }
  for (const [key, rows] of groupBy(data.patching, (r) => `${r.site}|${binOfPatch(r.prompt_id, r.bin, p0Of)}|${r.layer}`)) {
    const [site, bin, layer] = key.split("|");
    patchBinLayer.push({
      site, bin: Number(bin), label: binLabel(Number(bin), opts.edges), layer: Number(layer),
      n_prompts: new Set(rows.map((r) => r.prompt_id)).size,
      sparse: isSparse(new Set(rows.map((r) => r.prompt_id)).size),
      delta_p: book.mean("patching.delta_p", `${site}.bin${bin}.layer${layer}`, rows.map((r) => r.delta_p)),
    });
  }
  const bySiteLayer = (a: { site: string; layer: number }, b: { site: string; layer: number }) => a.site.localeCompare(b.site) || a.layer - b.layer;
  patchLayer.sort(bySiteLayer);
  patchBinLayer.sort((a, b) => bySiteLayer(a, b) || a.bin - b.bin);
  const patchPrompts = new Set(data.patching.map((r) => r.prompt_id));
  const patching = {
    note: "ΔP = P_sem(negative run with layer l's output at the last position patched from the baseline run) - P_sem(negative run)",
    n_prompts: patchPrompts.size,
    n_by_outcome: Object.fromEntries(OUTCOMES.map((o) => [o, new Set(data.patching.filter((r) => r.outcome === o).map((r) => r.prompt_id)).size])),
    n_layers: nLayers,
    subset: patchSubsetTable(views, data.patching, opts.patchRule),
    by_band: patchBands,
    by_layer: patchLayer,
    by_bin_layer: patchBinLayer,
  };

  return { attention, logit_lens: logitLens, decomposition, patching };
}

function binOfPatch(id: string, fallback: number, views: Map<string, PromptView>): number {
  return views.get(id)?.bin ?? fallback;
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
