/**
 * Every number a results section quotes, computed once from the run outputs: the content of
 * assets/tables.json and of runs/bootstrap_results.csv. Figures and the HTML report read these
 * numbers rather than recomputing them. Intervals are 95% percentile CIs from a bootstrap over
 * prompts (B = cfg.analysis.bootstrapB, seeded by cfg.seeds.python).
 */
import type { Condition, Outcome } from "../schemas.ts";
import { binCount, binLabel, binMid } from "../stats/bins.ts";
import { mean } from "../stats/bootstrap.ts";
import { binSummary } from "./binClaims.ts";
import { CIBook, num, type Estimate } from "./ciBook.ts";
import type { RunData } from "./load.ts";
import { logisticTable } from "./logisticTable.ts";
import { mechanisticTables } from "./mechTables.ts";
import type { PatchRule } from "./patchSubset.ts";
import { isSparse, MIN_BIN_PROMPTS, SPARSE_RULE } from "./support.ts";
import { promptViews, type PromptView } from "./views.ts";

export { PRIOR_WORK } from "./logisticTable.ts";

export interface TableOptions {
  edges: readonly number[];
  B: number;
  seed: number;
  /** Settings of the patching subset (patchSubset.ts patchRuleOf(cfg)). */
  patchRule: PatchRule;
}

export interface BinRate extends Estimate {
  bin: number;
  label: string;
  p0_mid: number;
  p0_mean: number | null;
  n_prompts: number;
  n_samples: number;
  /** Fewer than MIN_BIN_PROMPTS prompts: flagged, drawn hollow, never part of a per-bin claim. */
  sparse: boolean;
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
    by_bin: Array.from({ length: nBins }, (_, b) => {
      const n = views.filter((v) => v.bin === b).length;
      return { bin: b, label: binLabel(b, opts.edges), n_prompts: n, sparse: isSparse(n) };
    }),
    min_prompts_per_bin: MIN_BIN_PROMPTS,
    sparse_rule: SPARSE_RULE,
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
      const n = vs.filter((v) => behaviorOf(v, c)).length;
      return {
        bin: b,
        label: binLabel(b, opts.edges),
        p0_mid: binMid(b, opts.edges),
        p0_mean: num(mean(vs.map((v) => v.p0))),
        n_prompts: n,
        sparse: isSparse(n),
        n_samples: vs.reduce((a, v) => a + (behaviorOf(v, c)?.n_samples ?? 0), 0),
        ...rate,
        greedy,
      };
    });
    const { rate, greedy } = rateOf(c, views, "all");
    violationOverall[c] = { sampled: rate, greedy };
  }

  // ---- logistic fit of per-sample violation on P0 (negative condition), observed range only ------
  const logistic = logisticTable(views, book, opts);

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
      sparse: isSparse(views.filter((v) => v.bin === b).length),
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

  // ---- attention, logit lens, decomposition, patching (mechTables.ts) ---------------------------
  const mech = mechanisticTables(data, views, book, { edges: opts.edges, nBins, nLayers, patchRule: opts.patchRule });

  return {
    tables: {
      dataset,
      violation_by_bin: violationByBin,
      /** The per-bin claim (negative prompt), sparse bins left out. */
      violation_by_bin_summary: binSummary(violationByBin.negative),
      violation_overall: violationOverall,
      logistic,
      suppression,
      failure_types: failureTypes,
      ...mech,
    },
    bootstrapRows: book.rows,
    views,
  };
}

export { pearson } from "./mechTables.ts";

export type Tables = ReturnType<typeof computeTables>["tables"];
