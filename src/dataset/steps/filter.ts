/** Step 5: deterministic filters over the whole pool, before validation. */
import { CATEGORIES } from "../../config.ts";
import { readJsonl, writeJsonl } from "../../util/jsonl.ts";
import { applyFilters } from "../filters.ts";
import { Candidate } from "../types.ts";
import type { Step } from "./context.ts";

export const filterStep: Step = {
  name: "filter",
  inputs: CATEGORIES.map((c) => `data/candidates/${c}.jsonl`),
  outputs: (p) => [p.stepFile("filtered.jsonl"), p.stepFile("rejected.jsonl")],
  async run({ paths }) {
    const pool = CATEGORIES.flatMap((c) => readJsonl(paths.candidateFile(c), Candidate));
    const res = applyFilters(pool);
    writeJsonl(paths.stepFile("filtered.jsonl"), res.kept);
    writeJsonl(paths.stepFile("rejected.jsonl"), res.rejected);
    const keptPerCategory = Object.fromEntries(CATEGORIES.map((c) => [c, res.kept.filter((k) => k.category === c).length]));
    return { ...res.counts, kept_per_category: keptPerCategory };
  },
};
