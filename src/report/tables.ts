/**
 * Every number a results section quotes, computed once from the run outputs: the content of
 * assets/tables.json and of runs/bootstrap_results.csv. Figures and the HTML report read these
 * numbers rather than recomputing them. Intervals are 95% percentile CIs from a bootstrap over
 * prompts (B = cfg.analysis.bootstrapB, seeded by cfg.seeds.python).
 *
 * Each table has its own function (behaviorTables.ts, logisticTable.ts, mechTables.ts); this module
 * only assembles them. The call order is the row order of bootstrap_results.csv.
 */
import { Condition } from "../schemas.ts";
import { binSummary } from "./binClaims.ts";
import { CIBook, type Estimate } from "./ciBook.ts";
import { datasetTable, failureTypesTable, suppressionTable, violationByBin, violationOverall, type BinRate } from "./behaviorTables.ts";
import type { RunData } from "./load.ts";
import { logisticTable } from "./logisticTable.ts";
import { attentionTable, decompositionTable, logitLensTable, patchingTable } from "./mechTables.ts";
import type { PatchRule } from "./patchSubset.ts";
import { promptViews } from "./views.ts";

export { PRIOR_WORK } from "./logisticTable.ts";
export { pearson } from "./mechTables.ts";
export type { BinRate, FailureTypes } from "./behaviorTables.ts";

export interface TableOptions {
  edges: readonly number[];
  B: number;
  seed: number;
  /** Settings of the patching subset (patchSubset.ts patchRuleOf(cfg)). */
  patchRule: PatchRule;
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
  const { edges } = opts;
  const book = new CIBook(opts.B, opts.seed);
  const views = promptViews(data, edges);
  const nLayers = layerCount(data);

  const dataset = datasetTable(views, edges);
  const violation_by_bin = {} as Record<Condition, BinRate[]>;
  const violation_overall = {} as Record<Condition, ReturnType<typeof violationOverall>>;
  for (const c of Condition.options) {
    violation_by_bin[c] = violationByBin(views, c, book, edges);
    violation_overall[c] = violationOverall(views, c, book);
  }
  const logistic = logisticTable(views, book, opts);
  const suppression = suppressionTable(views, book, edges);
  const failure_types = failureTypesTable(views, book);
  const attention = attentionTable(data.attention, views, book, edges);
  const logit_lens = logitLensTable(data.logitLens, book);
  const decomposition = decompositionTable(data.decomp, book, nLayers);
  const patching = patchingTable(data.patching, views, book, { edges, nLayers, patchRule: opts.patchRule });

  return {
    tables: {
      dataset,
      violation_by_bin,
      /** The per-bin claim (negative prompt), sparse bins left out. */
      violation_by_bin_summary: binSummary(violation_by_bin.negative),
      violation_overall,
      logistic,
      suppression,
      failure_types,
      attention,
      logit_lens,
      decomposition,
      patching,
    },
    bootstrapRows: book.rows,
    views,
  };
}

export type Tables = ReturnType<typeof computeTables>["tables"];
