/**
 * compare.json: every number the comparison page shows. Each run's own numbers (runSummary.ts), then
 * each later run against the first (the reference), B − A: prompt by prompt when the two runs share
 * prompts (paired.ts), else by P0 bin (unpaired.ts), with a sentence that says which and why.
 */
import { CIBook } from "../report/ciBook.ts";
import { MIN_BIN_PROMPTS } from "../report/support.ts";
import { DEPTH_NOTE } from "./depth.ts";
import { pairedDifferences, pairPrompts, type PairedDifferences } from "./paired.ts";
import { runSummary, type CompareRun, type RunSummary } from "./runSummary.ts";
import { unpairedDifferences, type UnpairedDifferences } from "./unpaired.ts";

/** 1: first version. */
export const COMPARE_SCHEMA_VERSION = 1;

/** Fewest shared prompts for a paired comparison; fewer and the runs are compared by bin. */
export const MIN_PAIRED_PROMPTS = MIN_BIN_PROMPTS;

export type CompareMode = "paired" | "by_bin";

export interface PairComparison {
  /** Reference run (A) and compared run (B); every difference is B − A. */
  a: string;
  b: string;
  mode: CompareMode;
  statement: string;
  same_dataset_file: boolean;
  n_shared_prompts: number;
  only_a: number;
  only_b: number;
  paired: PairedDifferences | null;
  by_bin: UnpairedDifferences | null;
}

export interface CompareOptions {
  edges: readonly number[];
  B: number;
  seed: number;
}

const sha12 = (s: string | null): string => (s ?? "").slice(0, 12);

export function pairComparison(ref: CompareRun, other: CompareRun, edges: readonly number[], book: CIBook): PairComparison {
  const { pairs, only_a, only_b } = pairPrompts(ref.views, other.views);
  const a = ref.facts.label;
  const b = other.facts.label;
  const sameFile = ref.facts.dataset.sha256 !== null && ref.facts.dataset.sha256 === other.facts.dataset.sha256;
  const mode: CompareMode = pairs.length >= MIN_PAIRED_PROMPTS ? "paired" : "by_bin";
  const group = `${b}_minus_${a}`;
  const byId = "prompts matched by prompt id (a hash of question, target and category)";
  const files = sameFile
    ? `the same dataset file (sha256 ${sha12(ref.facts.dataset.sha256)})`
    : ref.facts.dataset.sha256 && other.facts.dataset.sha256
      ? `different dataset files (sha256 ${sha12(ref.facts.dataset.sha256)} and ${sha12(other.facts.dataset.sha256)}), ${byId}`
      : `dataset files whose sha256 run.json does not record for both runs, ${byId}`;
  const left = only_a || only_b ? `; ${only_a} prompts only in ${a} and ${only_b} only in ${b} are left out of the paired differences` : "";
  const statement =
    mode === "paired"
      ? `${b} − ${a} is compared prompt by prompt over the ${pairs.length} prompts both runs ran, from ${files}${left}. Intervals: one bootstrap over the shared prompts.`
      : `${b} − ${a} is compared by P0 bin, not prompt by prompt: the runs share ${pairs.length} prompts (fewer than ${MIN_PAIRED_PROMPTS}), so each run's prompts are resampled independently (two-sample bootstrap) and bins are each run's own P0 bins.`;
  return {
    a, b, mode, statement, same_dataset_file: sameFile, n_shared_prompts: pairs.length, only_a, only_b,
    paired: mode === "paired" ? pairedDifferences(pairs, book, group) : null,
    by_bin: mode === "by_bin" ? unpairedDifferences(ref.views, other.views, edges, book, group) : null,
  };
}

export interface CompareTables {
  schema_version: number;
  generated_at: string;
  depth_note: string;
  bootstrap: { B: number; seed: number; note: string };
  bin_edges: number[];
  runs: RunSummary[];
  comparison: { mode: CompareMode | "mixed"; reference: string; pairs: PairComparison[] };
}

export function compareTables(runs: readonly CompareRun[], opts: CompareOptions, now: Date): { tables: CompareTables; book: CIBook } {
  const book = new CIBook(opts.B, opts.seed);
  const summaries = runs.map((r) => runSummary(r, book));
  const pairs = runs.slice(1).map((r) => pairComparison(runs[0], r, opts.edges, book));
  const modes = new Set(pairs.map((p) => p.mode));
  return {
    tables: {
      schema_version: COMPARE_SCHEMA_VERSION,
      generated_at: now.toISOString(),
      depth_note: DEPTH_NOTE,
      bootstrap: { B: opts.B, seed: opts.seed, note: "95% percentile intervals from a bootstrap over prompts" },
      bin_edges: [...opts.edges],
      runs: summaries,
      comparison: { mode: modes.size === 1 ? [...modes][0] : "mixed", reference: runs[0].facts.label, pairs },
    },
    book,
  };
}
