/**
 * One compared run: its outputs read and its report tables computed exactly as `sempress report`
 * does (src/report/tables.ts), then the numbers the comparison shows, with every layer also placed at
 * its relative depth (depth.ts) and the layers where patching ΔP changes sign (signChange.ts).
 */
import { groupBy } from "../report/views.ts";
import { CIBook, type Estimate } from "../report/ciBook.ts";
import { loadRunData, type RunData } from "../report/load.ts";
import { computeTables, layerCount, type TableOptions, type Tables } from "../report/tables.ts";
import type { PromptView } from "../report/views.ts";
import { Condition } from "../schemas.ts";
import { relativeDepth } from "./depth.ts";
import type { RunFacts } from "./runDir.ts";
import { signChanges, type SignChange } from "./signChange.ts";

export interface CompareRun {
  facts: RunFacts;
  data: RunData;
  tables: Tables;
  views: PromptView[];
  /** Transformer blocks: run.json's hello facts, else the largest layer in the CSVs + 1. */
  n_layers: number;
}

export function loadCompareRun(facts: RunFacts, opts: TableOptions): CompareRun {
  const data = loadRunData({ dataRoot: facts.data_root });
  const { tables, views } = computeTables(data, opts);
  return { facts, data, tables, views, n_layers: facts.n_layers ?? layerCount(data) };
}

export interface DepthPoint extends Estimate {
  layer: number;
  depth: number;
}

const SITES = ["resid", "attn"] as const;

/** Logit-lens mass per condition and layer over all the run's prompts (both outcomes), at relative depth. */
function lensByDepth(run: CompareRun, book: CIBook): ({ condition: Condition } & DepthPoint)[] {
  return [...groupBy(run.data.logitLens, (r) => `${r.condition}|${r.layer}`).values()]
    .map((rs) => {
      const { condition, layer } = rs[0];
      const e = book.mean("logit_lens.mass", `${run.facts.label}.${condition}.layer${layer}`, rs.map((r) => r.mass));
      return { condition, layer, depth: relativeDepth(layer, run.n_layers), ...e };
    })
    .sort((a, b) => a.condition.localeCompare(b.condition) || a.layer - b.layer);
}

/** The compare.json section of one run. */
export function runSummary(run: CompareRun, book: CIBook) {
  const t = run.tables;
  const patchBy = (site: (typeof SITES)[number]) =>
    t.patching.by_layer.filter((r) => r.site === site).map((r) => ({ layer: r.layer, depth: relativeDepth(r.layer, run.n_layers), ...r.delta_p }));
  const patching = Object.fromEntries(SITES.map((s) => [s, patchBy(s)])) as Record<(typeof SITES)[number], DepthPoint[]>;
  const sign_changes = Object.fromEntries(SITES.map((s) => [s, signChanges(patching[s], run.n_layers)])) as Record<(typeof SITES)[number], SignChange[]>;
  return {
    ...run.facts,
    n_layers: run.n_layers,
    n_prompts: t.dataset.n_prompts,
    samples_per_prompt: t.dataset.samples_per_prompt,
    logistic: {
      intercept: t.logistic.intercept,
      slope: t.logistic.slope,
      converged: t.logistic.converged,
      n_prompts: t.logistic.n_prompts,
      n_samples: t.logistic.n_samples,
      observed_p0: t.logistic.observed_p0,
      curve: t.logistic.curve,
    },
    violation_overall: t.violation_overall.negative,
    violation_by_bin: t.violation_by_bin.negative.map((b) => ({
      bin: b.bin, label: b.label, p0_mean: b.p0_mean, p0_mid: b.p0_mid, n_prompts: b.n_prompts, sparse: b.sparse,
      estimate: b.estimate, ci_low: b.ci_low, ci_high: b.ci_high, n: b.n,
    })),
    suppression: {
      p0: t.suppression.overall.p0,
      p1: t.suppression.overall.p1,
      delta: t.suppression.overall.delta,
      rel_suppression: t.suppression.overall.rel_suppression,
    },
    logit_lens: lensByDepth(run, book),
    patching: { n_prompts: t.patching.n_prompts, ...patching, sign_changes },
  };
}

export type RunSummary = ReturnType<typeof runSummary>;
