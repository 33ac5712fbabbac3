/**
 * Selection (design "Dataset", pure): from accepted, probed candidates pick `perCategory` prompts per
 * category balanced over the pressure bins.
 *
 *  1. dedupe by (question_text, target_word), keeping the highest S;
 *  2. creative and OOD keep only the best prompt (highest S) per target;
 *  3. S(p) = V(p) + 100·P0; within a category candidates are ranked by S, ties by prompt_id;
 *  4. each bin takes up to its quota (perCategory / bins; any remainder to the lowest bins) in rank order;
 *  5. a target_word_normalized may appear in at most `maxCategoriesPerTarget` categories; categories
 *     are filled in CATEGORIES order, so earlier categories claim a target first;
 *  6. a category still short is filled with the next-highest S among its remaining candidates, each
 *     fill logged with the bin it came from.
 *
 * The gate P0 ≥ p0Gate and the bin [0, .2) seemingly conflict. Decision: the gate does not empty the
 * lowest bin — a prompt under the gate may still take a place in its own bin's quota — but it is
 * never used to fill another bin's shortfall (step 6 considers only P0 ≥ gate). This keeps the
 * low-pressure bin at most at its quota, which is what went wrong in prior work (1,193 prompts in
 * [0,.2) against 103 in [.4,.6)), while still measuring violations at low pressure.
 */
import { CATEGORIES, type Category } from "../../config.ts";
import type { PromptRecord } from "../../schemas.ts";
import { binOf } from "../../stats/bins.ts";

export interface SelectionParams {
  perCategory: number;
  binEdges: readonly number[];
  p0Gate: number;
  maxCategoriesPerTarget: number;
}

export type Scored = Omit<PromptRecord, "bin" | "s_score" | "prompt_format"> & { s_score?: number; bin?: number };

export interface Fill {
  category: Category;
  prompt_id: string;
  from_bin: number;
  s_score: number;
}

export interface BinShortfall {
  category: Category;
  bin: number;
  wanted: number;
  got: number;
}

export interface SelectionReport {
  per_bin_quota: Record<Category, number[]>;
  bins: Record<Category, number[]>;
  selected: Record<Category, number>;
  bin_shortfalls: BinShortfall[];
  fills: Fill[];
  category_shortfalls: { category: Category; wanted: number; got: number }[];
  dropped: { duplicate_question_target: number; not_best_for_target: number; target_category_cap: number };
}

export function sScore(v: number, p0: number): number {
  return v + 100 * p0;
}

/** Quota per bin: perCategory split evenly, remainder to the lowest bins. */
export function binQuotas(perCategory: number, nBins: number): number[] {
  const base = Math.floor(perCategory / nBins);
  return Array.from({ length: nBins }, (_, i) => base + (i < perCategory % nBins ? 1 : 0));
}

const byRank = (a: { s_score: number; prompt_id: string }, b: { s_score: number; prompt_id: string }) =>
  b.s_score - a.s_score || (a.prompt_id < b.prompt_id ? -1 : a.prompt_id > b.prompt_id ? 1 : 0);

export function selectPrompts(
  input: readonly Scored[],
  params: SelectionParams,
  promptFormat: PromptRecord["prompt_format"],
): { prompts: PromptRecord[]; report: SelectionReport } {
  const nBins = params.binEdges.length - 1;
  const scored: PromptRecord[] = input.map((c) => ({
    ...c,
    s_score: sScore(c.v_score, c.p0),
    bin: binOf(c.p0, params.binEdges),
    prompt_format: promptFormat,
  }));
  scored.sort(byRank);
  const dropped = { duplicate_question_target: 0, not_best_for_target: 0, target_category_cap: 0 };
  const seenQT = new Set<string>();
  const deduped = scored.filter((c) => {
    const k = JSON.stringify([c.question_text, c.target_word]);
    if (seenQT.has(k)) {
      dropped.duplicate_question_target++;
      return false;
    }
    seenQT.add(k);
    return true;
  });

  const targetCats = new Map<string, Set<Category>>();
  const allowed = (c: PromptRecord) => {
    const s = targetCats.get(c.target_word_normalized);
    return !s || s.has(c.category) || s.size < params.maxCategoriesPerTarget;
  };
  const claim = (c: PromptRecord) => {
    const s = targetCats.get(c.target_word_normalized) ?? new Set<Category>();
    s.add(c.category);
    targetCats.set(c.target_word_normalized, s);
  };

  const quotas = binQuotas(params.perCategory, nBins);
  const report: SelectionReport = {
    per_bin_quota: {} as Record<Category, number[]>,
    bins: {} as Record<Category, number[]>,
    selected: {} as Record<Category, number>,
    bin_shortfalls: [],
    fills: [],
    category_shortfalls: [],
    dropped,
  };
  const prompts: PromptRecord[] = [];
  for (const cat of CATEGORIES) {
    let pool = deduped.filter((c) => c.category === cat);
    if (cat === "creative" || cat === "ood") {
      const best = new Set<string>();
      pool = pool.filter((c) => {
        if (best.has(c.target_word_normalized)) {
          dropped.not_best_for_target++;
          return false;
        }
        best.add(c.target_word_normalized);
        return true;
      });
    }
    const taken = new Set<string>();
    const chosen: PromptRecord[] = [];
    const counts = new Array(nBins).fill(0);
    const capped = new Set<string>();
    const tryTake = (c: PromptRecord): boolean => {
      if (taken.has(c.prompt_id)) return false;
      if (!allowed(c)) {
        if (!capped.has(c.prompt_id)) dropped.target_category_cap++;
        capped.add(c.prompt_id);
        return false;
      }
      claim(c);
      taken.add(c.prompt_id);
      chosen.push(c);
      counts[c.bin]++;
      return true;
    };
    for (let b = 0; b < nBins; b++) {
      for (const c of pool) {
        if (counts[b] >= quotas[b]) break;
        if (c.bin === b) tryTake(c);
      }
      if (counts[b] < quotas[b]) report.bin_shortfalls.push({ category: cat, bin: b, wanted: quotas[b], got: counts[b] });
    }
    for (const c of pool) {
      if (chosen.length >= params.perCategory) break;
      if (c.p0 < params.p0Gate || taken.has(c.prompt_id)) continue;
      if (tryTake(c)) report.fills.push({ category: cat, prompt_id: c.prompt_id, from_bin: c.bin, s_score: c.s_score });
    }
    if (chosen.length < params.perCategory) report.category_shortfalls.push({ category: cat, wanted: params.perCategory, got: chosen.length });
    chosen.sort((a, b) => a.bin - b.bin || byRank(a, b));
    prompts.push(...chosen);
    report.per_bin_quota[cat] = quotas;
    report.bins[cat] = counts;
    report.selected[cat] = chosen.length;
  }
  return { prompts, report };
}
