/**
 * Every number a results section quotes, computed once from the run outputs: the content of
 * assets/tables.json and of runs/bootstrap_results.csv. Figures and the HTML report read these
 * numbers rather than recomputing them. Intervals are 95% percentile CIs from a bootstrap over
 * prompts (B = cfg.analysis.bootstrapB, seeded by cfg.seeds.python).
 */
import type { Condition, Outcome } from "../schemas.ts";
import { binCount, binLabel, binMid } from "../stats/bins.ts";
import { isotonicBlocks } from "../stats/isotonic.ts";
import { fitLogisticWithCI, type BinomialPoint } from "../stats/logistic.ts";
import { mean } from "../stats/bootstrap.ts";
import { CIBook, num, type Estimate } from "./ciBook.ts";
import type { RunData } from "./load.ts";
import { BANDS, bandOf, bandRange, groupBy, promptViews, type Band, type PromptView } from "./views.ts";

export const PRIOR_WORK = {
  source: "arXiv 2601.08070 (Semantic Gravity Wells), Qwen2.5-7B-Instruct",
  intercept: -2.4,
  slope: 2.27,
  violation_at_p0_0_1: 0.09,
  violation_at_p0_0_9: 0.46,
} as const;

export interface TableOptions {
  edges: readonly number[];
  B: number;
  seed: number;
}

export interface BinRate extends Estimate {
  bin: number;
  label: string;
  p0_mid: number;
  p0_mean: number | null;
  n_prompts: number;
  n_samples: number;
  greedy: Estimate;
}

export interface FailureTypes {
  violation: Estimate;
  format_failure_without_x: Estimate;
  clean_success: Estimate;
  format_adherence: Estimate;
}

export interface SeriesPoint extends Estimate {
  layer: number;
}

const OUTCOMES: readonly Outcome[] = ["success", "failure"];
const CONDITIONS: readonly Condition[] = ["baseline", "negative"];
const ATTN_METRICS = ["iar", "nf", "tmf", "pi"] as const;
type AttnMetric = (typeof ATTN_METRICS)[number];

function behaviorOf(v: PromptView, c: Condition) {
  return c === "baseline" ? v.base : v.neg;
}

/** The number of transformer blocks: the manifest's model facts, else the largest layer seen + 1. */
export function layerCount(data: RunData): number {
  const n = data.manifest?.model?.n_layers;
  if (typeof n === "number" && n > 0) return n;
  let max = -1;
  for (const r of data.patching) max = Math.max(max, r.layer);
  for (const r of data.decomp) max = Math.max(max, r.layer);
  for (const r of data.attention) max = Math.max(max, r.layer);
  return max + 1;
}

export function computeTables(data: RunData, opts: TableOptions) {
  const book = new CIBook(opts.B, opts.seed);
  const views = promptViews(data, opts.edges);
  const nBins = binCount(opts.edges);
  const nLayers = layerCount(data);

  // ---- dataset -------------------------------------------------------------------------------
  const byCategory: Record<string, number> = {};
  for (const v of views) byCategory[v.category] = (byCategory[v.category] ?? 0) + 1;
  const samples = (c: Condition) => views.reduce((a, v) => a + (behaviorOf(v, c)?.n_samples ?? 0), 0);
  const dataset = {
    n_prompts: views.length,
    n_prompts_with_behavior: views.filter((v) => v.neg).length,
    by_category: byCategory,
    by_bin: Array.from({ length: nBins }, (_, b) => ({
      bin: b,
      label: binLabel(b, opts.edges),
      n_prompts: views.filter((v) => v.bin === b).length,
    })),
    samples_per_prompt: views.find((v) => v.neg)?.neg?.n_samples ?? null,
    total_samples: { baseline: samples("baseline"), negative: samples("negative") },
    bin_edges: [...opts.edges],
  };

  // ---- violation by bin, both conditions --------------------------------------------------------
  const rateOf = (c: Condition, vs: readonly PromptView[], group: string): { rate: Estimate; greedy: Estimate } => {
    const withB = vs.filter((v) => behaviorOf(v, c));
    const vr = withB.map((v) => behaviorOf(v, c)!.violation_rate);
    const w = withB.map((v) => behaviorOf(v, c)!.n_samples);
    const g = withB.map((v) => behaviorOf(v, c)!.greedy_violation);
    return {
      rate: book.mean(`violation_rate.${c}`, group, vr, w),
      greedy: book.mean(`greedy_violation_rate.${c}`, group, g),
    };
  };
  const violationByBin = {} as Record<Condition, BinRate[]>;
  const violationOverall = {} as Record<Condition, { sampled: Estimate; greedy: Estimate }>;
  for (const c of CONDITIONS) {
    violationByBin[c] = Array.from({ length: nBins }, (_, b) => {
      const vs = views.filter((v) => v.bin === b);
      const { rate, greedy } = rateOf(c, vs, `bin${b}`);
      return {
        bin: b,
        label: binLabel(b, opts.edges),
        p0_mid: binMid(b, opts.edges),
        p0_mean: num(mean(vs.map((v) => v.p0))),
        n_prompts: vs.filter((v) => behaviorOf(v, c)).length,
        n_samples: vs.reduce((a, v) => a + (behaviorOf(v, c)?.n_samples ?? 0), 0),
        ...rate,
        greedy,
      };
    });
    const { rate, greedy } = rateOf(c, views, "all");
    violationOverall[c] = { sampled: rate, greedy };
  }

  // ---- logistic fit of per-sample violation on P0 (negative condition) --------------------------
  const points: BinomialPoint[] = views
    .filter((v) => v.neg && v.neg.n_samples > 0 && Number.isFinite(v.neg.violation_rate))
    .map((v) => ({ x: v.p0, n: v.neg!.n_samples, k: Math.round(v.neg!.violation_rate * v.neg!.n_samples) }));
  const grid = Array.from({ length: 21 }, (_, i) => i / 20);
  const at = [...grid, 0.1, 0.9];
  const lg = fitLogisticWithCI(points, { B: opts.B, seed: opts.seed, stream: "logistic" }, at);
  const coef = (name: "intercept" | "slope") => {
    const c = lg[name];
    const e = book.add(`logistic.${name}`, "negative", c);
    return { ...e, se: num(c.se), wald_low: num(c.waldLow), wald_high: num(c.waldHigh) };
  };
  const predAt = (x: number) => lg.predictions.find((p) => p.x === x)!;
  const logistic = {
    model: "P(violation) = sigmoid(intercept + slope · P0), per sample, negative condition",
    intercept: coef("intercept"),
    slope: coef("slope"),
    converged: lg.fit.converged,
    iterations: lg.fit.iterations,
    log_likelihood: num(lg.fit.logLik),
    n_prompts: lg.fit.nUnits,
    n_samples: lg.fit.nSamples,
    bootstrap_non_converged: lg.nonConverged,
    predicted: [0.1, 0.5, 0.9].map((x) => {
      const p = predAt(x);
      return { p0: x, ...book.add("logistic.predicted", `p0=${x}`, p) };
    }),
    curve: grid.map((x) => {
      const p = predAt(x);
      return { p0: x, rate: num(p.estimate), ci_low: num(p.low), ci_high: num(p.high) };
    }),
    isotonic: isotonicBlocks(points.map((p) => ({ x: p.x, y: p.k / p.n, w: p.n }))).map((b) => ({
      p0_min: b.xMin,
      p0_max: b.xMax,
      rate: b.y,
      n_prompts: b.count,
    })),
    prior_work: PRIOR_WORK,
  };

  // ---- suppression -----------------------------------------------------------------------------
  const suppressionOf = (vs: readonly PromptView[], group: string) => ({
    n: vs.length,
    p0: book.mean("p0", group, vs.map((v) => v.p0)),
    p1: book.mean("p1", group, vs.map((v) => v.p1)),
    delta: book.mean("suppression.delta", group, vs.map((v) => v.delta)),
    rel_suppression: book.mean("suppression.R", group, vs.map((v) => v.rel)),
    log_ratio: book.mean("suppression.L", group, vs.map((v) => v.logRatio)),
    share_p1_below_p0: book.mean("suppression.share_p1_lt_p0", group, vs.map((v) => (v.p1 < v.p0 ? 1 : 0))),
  });
  const suppression = {
    overall: suppressionOf(views, "all"),
    by_outcome: Object.fromEntries(
      OUTCOMES.map((o) => [o, suppressionOf(views.filter((v) => v.outcome === o), `outcome=${o}`)]),
    ) as Record<Outcome, ReturnType<typeof suppressionOf>>,
    by_bin: Array.from({ length: nBins }, (_, b) => ({
      bin: b,
      label: binLabel(b, opts.edges),
      p0_mid: binMid(b, opts.edges),
      ...suppressionOf(views.filter((v) => v.bin === b), `bin${b}`),
    })),
  };

  // ---- failure types (share of samples) --------------------------------------------------------
  const failureTypes = Object.fromEntries(
    CONDITIONS.map((c) => {
      const vs = views.filter((v) => behaviorOf(v, c) && behaviorOf(v, c)!.n_samples > 0);
      const bs = vs.map((v) => behaviorOf(v, c)!);
      const w = bs.map((b) => b.n_samples);
      return [
        c,
        {
          violation: book.mean(`failure_type.violation.${c}`, "all", bs.map((b) => b.violation_rate), w),
          format_failure_without_x: book.mean(
            `failure_type.format_failure.${c}`,
            "all",
            bs.map((b) => Math.max(0, 1 - b.violation_rate - b.clean_success_rate)),
            w,
          ),
          clean_success: book.mean(`failure_type.clean_success.${c}`, "all", bs.map((b) => b.clean_success_rate), w),
          format_adherence: book.mean(`format_adherence.${c}`, "all", bs.map((b) => b.format_adherence_rate), w),
        },
      ];
    }),
  ) as unknown as Record<Condition, FailureTypes>;

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
  const attnByBin: { metric: AttnMetric; bin: number; p0_mid: number; outcome: Outcome; mean: Estimate }[] = [];
  for (const m of ATTN_METRICS)
    for (let b = 0; b < nBins; b++)
      for (const o of OUTCOMES) {
        const rows = globalNeg.filter((a) => a.outcome === o && p0Of.get(a.prompt_id)?.bin === b);
        attnByBin.push({ metric: m, bin: b, p0_mid: binMid(b, opts.edges), outcome: o, mean: book.mean(`attention.${m}`, `bin${b}.outcome=${o}`, rows.map((r) => r[m])) });
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
  const lensLast = Math.max(-1, ...data.logitLens.map((r) => r.layer));
  const logitLens = {
    layer_note: "layer 0 = embeddings, layer l = output of block l-1; mass of the first tokens of S(X) at the decision position",
    n_layers_plus_embeddings: lensLast + 1,
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
  const patchBands: { site: string; band: Band; layers: [number, number]; delta_p: Estimate; flip_rate: Estimate }[] = [];
  for (const site of sites)
    for (const band of BANDS) {
      const rows = data.patching.filter((r) => r.site === site && bandOf(r.layer, nLayers) === band);
      const per = [...groupBy(rows, (r) => r.prompt_id).values()];
      if (per.length === 0) continue;
      patchBands.push({
        site, band, layers: bandRange(band, nLayers),
        delta_p: book.mean("patching.delta_p", `${site}.${band}`, per.map((rs) => mean(rs.map((r) => r.delta_p)))),
        flip_rate: book.mean("patching.flip_rate", `${site}.${band}`, per.map((rs) => mean(rs.map((r) => r.flipped)))),
      });
    }
  const patchLayer: { site: string; layer: number; delta_p: Estimate }[] = [];
  const patchBinLayer: { site: string; bin: number; label: string; layer: number; delta_p: Estimate }[] = [];
  for (const [key, rows] of groupBy(data.patching, (r) => `${r.site}|${r.layer}`)) {
    const [site, layer] = key.split("|");
    patchLayer.push({ site, layer: Number(layer), delta_p: book.mean("patching.delta_p", `${site}.layer${layer}`, rows.map((r) => r.delta_p)) });
  }
  for (const [key, rows] of groupBy(data.patching, (r) => `${r.site}|${binOfPatch(r.prompt_id, r.bin, p0Of)}|${r.layer}`)) {
    const [site, bin, layer] = key.split("|");
    patchBinLayer.push({
      site, bin: Number(bin), label: binLabel(Number(bin), opts.edges), layer: Number(layer),
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
    by_band: patchBands,
    by_layer: patchLayer,
    by_bin_layer: patchBinLayer,
  };

  return {
    tables: { dataset, violation_by_bin: violationByBin, violation_overall: violationOverall, logistic, suppression, failure_types: failureTypes, attention, logit_lens: logitLens, decomposition, patching },
    bootstrapRows: book.rows,
    views,
  };
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

export type Tables = ReturnType<typeof computeTables>["tables"];
