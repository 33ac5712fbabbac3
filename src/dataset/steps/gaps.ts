/** Step 2: shortfall per category (pool size − collected) and the generation requests that fill it. */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { CATEGORIES, type Category } from "../../config.ts";
import { readJsonl, writeJson } from "../../util/jsonl.ts";
import { generationSpecs, GenSpec } from "../generate.ts";
import { Candidate } from "../types.ts";
import type { Step } from "./context.ts";

export const CollectInfo = z.object({
  targets: z.object({ creative: z.array(z.string()), ood: z.array(z.string()) }),
  seeds: z.array(z.string()).nullable(),
  counts: z.record(z.string(), z.unknown()),
});

export const GapsFile = z.object({ shortfall: z.record(z.string(), z.number()), specs: z.array(GenSpec) });
export type GapsFile = z.infer<typeof GapsFile>;

export const gapsStep: Step = {
  name: "gaps",
  inputs: ["data/logs/steps/collected.jsonl", "data/logs/steps/collect.json"],
  outputs: (p) => [p.stepFile("gaps.json")],
  async run({ cfg, paths }) {
    const collected = readJsonl(paths.stepFile("collected.jsonl"), Candidate);
    const info = CollectInfo.parse(JSON.parse(readFileSync(paths.stepFile("collect.json"), "utf8")));
    const shortfall = {} as Record<Category, number>;
    const specs: GenSpec[] = [];
    for (const cat of CATEGORIES) {
      const have = collected.filter((c) => c.category === cat).length;
      shortfall[cat] = Math.max(0, cfg.dataset.poolSizes[cat] - have);
      const targets = cat === "creative" || cat === "ood" ? info.targets[cat] : undefined;
      specs.push(...generationSpecs(cat, shortfall[cat], { targets, k: cfg.dataset.promptsPerTarget, seeds: info.seeds }));
    }
    writeJson(paths.stepFile("gaps.json"), { shortfall, specs } satisfies GapsFile);
    return { shortfall, generation_requests: specs.length };
  },
};
