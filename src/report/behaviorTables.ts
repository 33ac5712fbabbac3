/**
 * The behavioural sections of tables.json, one function per table: the dataset counts, violation by
 * bin and overall, suppression, and failure types. Each reads prompt views (views.ts) and records its
 * intervals in the CI book; per-bin cells carry `n_prompts` and `sparse` (support.ts).
 */
import { Condition, Outcome, type BehaviorRow } from "../schemas.ts";
import { binCount, binLabel, binMid } from "../stats/bins.ts";
import { mean } from "../stats/bootstrap.ts";
import { num, type CIBook, type Estimate } from "./ciBook.ts";
import { isSparse, MIN_BIN_PROMPTS, SPARSE_RULE } from "./support.ts";
import type { PromptView } from "./views.ts";

const OUTCOMES = Outcome.options;
const CONDITIONS = Condition.options;

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

function behaviorOf(v: PromptView, c: Condition): BehaviorRow | undefined {
  return c === "baseline" ? v.base : v.neg;
}

/** The prompts of each P0 bin, bin index = array index. */
function perBin(views: readonly PromptView[], edges: readonly number[]): PromptView[][] {
  return Array.from({ length: binCount(edges) }, (_, b) => views.filter((v) => v.bin === b));
}

/** Samples drawn under condition `c` over the given prompts. */
function sampleCount(views: readonly PromptView[], c: Condition): number {
  return views.reduce((a, v) => a + (behaviorOf(v, c)?.n_samples ?? 0), 0);
}

/** `dataset`: prompt counts by category and bin, sample counts, the bin edges and the sparse rule. */
export function datasetTable(views: readonly PromptView[], edges: readonly number[]) {
  const byCategory: Record<string, number> = {};
  for (const v of views) byCategory[v.category] = (byCategory[v.category] ?? 0) + 1;
  return {
    n_prompts: views.length,
    n_prompts_with_behavior: views.filter((v) => v.neg).length,
    by_category: byCategory,
    by_bin: perBin(views, edges).map((vs, b) => ({ bin: b, label: binLabel(b, edges), n_prompts: vs.length, sparse: isSparse(vs.length) })),
    min_prompts_per_bin: MIN_BIN_PROMPTS,
    sparse_rule: SPARSE_RULE,
    samples_per_prompt: views.find((v) => v.neg)?.neg?.n_samples ?? null,
    total_samples: { baseline: sampleCount(views, "baseline"), negative: sampleCount(views, "negative") },
    bin_edges: [...edges],
  };
}

/** Sampled (sample-weighted) and greedy violation rates of condition `c` over the given prompts. */
function violationRates(vs: readonly PromptView[], c: Condition, group: string, book: CIBook): { rate: Estimate; greedy: Estimate } {
  const rows = vs.map((v) => behaviorOf(v, c)).filter((b): b is BehaviorRow => b !== undefined);
  return {
    rate: book.mean(`violation_rate.${c}`, group, rows.map((b) => b.violation_rate), rows.map((b) => b.n_samples)),
    greedy: book.mean(`greedy_violation_rate.${c}`, group, rows.map((b) => b.greedy_violation)),
  };
}

/** `violation_by_bin[c]`: violation rates of condition `c`, one cell per P0 bin. */
export function violationByBin(views: readonly PromptView[], c: Condition, book: CIBook, edges: readonly number[]): BinRate[] {
  return perBin(views, edges).map((vs, b) => {
    const { rate, greedy } = violationRates(vs, c, `bin${b}`, book);
    const n = vs.filter((v) => behaviorOf(v, c)).length;
    return {
      bin: b,
      label: binLabel(b, edges),
      p0_mid: binMid(b, edges),
      p0_mean: num(mean(vs.map((v) => v.p0))),
      n_prompts: n,
      sparse: isSparse(n),
      n_samples: sampleCount(vs, c),
      ...rate,
      greedy,
    };
  });
}

/** `violation_overall[c]`: violation rates of condition `c` over all prompts. */
export function violationOverall(views: readonly PromptView[], c: Condition, book: CIBook): { sampled: Estimate; greedy: Estimate } {
  const { rate, greedy } = violationRates(views, c, "all", book);
  return { sampled: rate, greedy };
}

/** P0, P1 and the suppression measures over the given prompts. */
function suppressionOf(vs: readonly PromptView[], group: string, book: CIBook) {
  return {
    n: vs.length,
    p0: book.mean("p0", group, vs.map((v) => v.p0)),
    p1: book.mean("p1", group, vs.map((v) => v.p1)),
    delta: book.mean("suppression.delta", group, vs.map((v) => v.delta)),
    rel_suppression: book.mean("suppression.R", group, vs.map((v) => v.rel)),
    log_ratio: book.mean("suppression.L", group, vs.map((v) => v.logRatio)),
    share_p1_below_p0: book.mean("suppression.share_p1_lt_p0", group, vs.map((v) => (v.p1 < v.p0 ? 1 : 0))),
  };
}

/** `suppression`: overall, by greedy outcome and by P0 bin. */
export function suppressionTable(views: readonly PromptView[], book: CIBook, edges: readonly number[]) {
  return {
    overall: suppressionOf(views, "all", book),
    by_outcome: Object.fromEntries(
      OUTCOMES.map((o) => [o, suppressionOf(views.filter((v) => v.outcome === o), `outcome=${o}`, book)]),
    ) as Record<Outcome, ReturnType<typeof suppressionOf>>,
    by_bin: perBin(views, edges).map((vs, b) => ({
      bin: b,
      label: binLabel(b, edges),
      p0_mid: binMid(b, edges),
      sparse: isSparse(vs.length),
      ...suppressionOf(vs, `bin${b}`, book),
    })),
  };
}

/** `failure_types[c]`: shares of samples that violate, fail the format without X, or succeed cleanly. */
function failureTypesOf(views: readonly PromptView[], c: Condition, book: CIBook): FailureTypes {
  const bs = views.map((v) => behaviorOf(v, c)).filter((b): b is BehaviorRow => b !== undefined && b.n_samples > 0);
  const w = bs.map((b) => b.n_samples);
  const share = (metric: string, values: number[]) => book.mean(`${metric}.${c}`, "all", values, w);
  return {
    violation: share("failure_type.violation", bs.map((b) => b.violation_rate)),
    format_failure_without_x: share("failure_type.format_failure", bs.map((b) => Math.max(0, 1 - b.violation_rate - b.clean_success_rate))),
    clean_success: share("failure_type.clean_success", bs.map((b) => b.clean_success_rate)),
    format_adherence: share("format_adherence", bs.map((b) => b.format_adherence_rate)),
  };
}

/** `failure_types`: both conditions. */
export function failureTypesTable(views: readonly PromptView[], book: CIBook): Record<Condition, FailureTypes> {
  return Object.fromEntries(CONDITIONS.map((c) => [c, failureTypesOf(views, c, book)])) as Record<Condition, FailureTypes>;
}
