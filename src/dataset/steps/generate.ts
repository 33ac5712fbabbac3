/** Step 3: one generation batch (split only by the API's file limits) for every shortfall. */
import { readFileSync } from "node:fs";
import { writeJsonl } from "../../util/jsonl.ts";
import { GenerationReply, generationPrompt } from "../generate.ts";
import type { Step } from "./context.ts";
import { GapsFile } from "./gaps.ts";
import { runStepJob } from "./llmJob.ts";

export const generateStep: Step = {
  name: "generate",
  inputs: ["data/logs/steps/gaps.json"],
  outputs: (p) => [p.stepFile("generated.jsonl")],
  async run(ctx) {
    const { paths } = ctx;
    const gaps = GapsFile.parse(JSON.parse(readFileSync(paths.stepFile("gaps.json"), "utf8")));
    const res = await runStepJob(ctx, "generate", gaps.specs.map((s) => [s.custom_id, generationPrompt(s)] as const), GenerationReply);
    writeJsonl(
      paths.stepFile("generated.jsonl"),
      [...res.ok].map(([custom_id, reply]) => ({ custom_id, items: reply.items })),
    );
    return { ...res.counts, dropped_ids: res.dropped.map((d) => `${d.custom_id} (${d.reason})`) };
  },
};
