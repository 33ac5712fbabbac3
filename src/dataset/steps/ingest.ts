/** Step 4: generated items → candidates; the full pool per category to data/candidates/{category}.jsonl. */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { CATEGORIES, type Category } from "../../config.ts";
import { readJsonl, writeJsonl } from "../../util/jsonl.ts";
import { candidateFromItem } from "../generate.ts";
import { Candidate } from "../types.ts";
import type { Step } from "./context.ts";
import { GapsFile } from "./gaps.ts";

const Generated = z.object({ custom_id: z.string(), items: z.array(z.unknown()) });

export const ingestStep: Step = {
  name: "ingest",
  inputs: ["data/logs/steps/collected.jsonl", "data/logs/steps/gaps.json", "data/logs/steps/generated.jsonl"],
  outputs: (p) => CATEGORIES.map((c) => p.candidateFile(c)),
  async run({ paths, generatedSource }) {
    const collected = readJsonl(paths.stepFile("collected.jsonl"), Candidate);
    const gaps = GapsFile.parse(JSON.parse(readFileSync(paths.stepFile("gaps.json"), "utf8")));
    const specs = new Map(gaps.specs.map((s) => [s.custom_id, s]));
    const generated: Candidate[] = [];
    let unusable = 0;
    let extra = 0;
    for (const g of readJsonl(paths.stepFile("generated.jsonl"), Generated)) {
      const spec = specs.get(g.custom_id);
      if (!spec) continue;
      g.items.forEach((item, i) => {
        if (i >= spec.n) {
          extra++;
          return;
        }
        const c = candidateFromItem(spec, item, i, generatedSource);
        if (c) generated.push(c);
        else unusable++;
      });
    }
    const pool = {} as Record<Category, number>;
    for (const cat of CATEGORIES) {
      const all = [...collected, ...generated].filter((c) => c.category === cat);
      writeJsonl(paths.candidateFile(cat), all);
      pool[cat] = all.length;
    }
    return { pool, generated: generated.length, items_unusable: unusable, items_beyond_n: extra };
  },
};
