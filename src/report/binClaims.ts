/**
 * The per-bin claim about violation rates (negative prompt): which supported bins are compared, the
 * lowest- vs highest-pressure supported bin, where the rate peaks. Sparse bins (support.ts) are listed
 * but never compared.
 */
import type { Estimate } from "./ciBook.ts";
import { MIN_BIN_PROMPTS, SPARSE_RULE } from "./support.ts";

export interface BinForClaim extends Estimate {
  bin: number;
  label: string;
  n_prompts: number;
  sparse: boolean;
}

const brief = (b: BinForClaim) => ({ bin: b.bin, label: b.label, n_prompts: b.n_prompts, estimate: b.estimate, ci_low: b.ci_low, ci_high: b.ci_high });

export function binSummary(bins: readonly BinForClaim[]) {
  const supported = bins.filter((b) => !b.sparse && b.estimate !== null);
  const sparse = bins.filter((b) => b.sparse && b.n_prompts > 0);
  const first = supported[0];
  const last = supported[supported.length - 1];
  const byRate = [...supported].sort((a, b) => a.estimate! - b.estimate! || a.bin - b.bin);
  return {
    min_prompts_per_bin: MIN_BIN_PROMPTS,
    rule: SPARSE_RULE,
    compared: supported.map((b) => b.label),
    sparse_bins: sparse.map((b) => ({ bin: b.bin, label: b.label, n_prompts: b.n_prompts })),
    empty_bins: bins.filter((b) => b.n_prompts === 0).map((b) => b.label),
    /** Lowest- and highest-pressure supported bins, and the rate difference between them. */
    lowest_pressure: first ? brief(first) : null,
    highest_pressure: supported.length > 1 ? brief(last) : null,
    difference: supported.length > 1 ? last.estimate! - first.estimate! : null,
    lowest_rate: byRate.length ? brief(byRate[0]) : null,
    highest_rate: byRate.length ? brief(byRate[byRate.length - 1]) : null,
  };
}

export type BinSummary = ReturnType<typeof binSummary>;
