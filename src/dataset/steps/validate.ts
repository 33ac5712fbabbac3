/** Step 6: ONE validation batch for all filtered candidates (plus its one retry round). */
import { CATEGORIES } from "../../config.ts";
import { ValidationReply } from "../../schemas.ts";
import { readJsonl, writeJsonl } from "../../util/jsonl.ts";
import { Candidate, type ValidatedCandidate } from "../types.ts";
import { isAccepted, validationCustomId, validationPrompt, vScore } from "../validate.ts";
import type { Step } from "./context.ts";
import { runStepJob } from "./llmJob.ts";

export const validateStep: Step = {
  name: "validate",
  inputs: ["data/logs/steps/filtered.jsonl"],
  outputs: (p) => [p.stepFile("validated.jsonl")],
  async run(ctx) {
    const { cfg, paths } = ctx;
    const cands = readJsonl(paths.stepFile("filtered.jsonl"), Candidate);
    const res = await runStepJob(ctx, "validate", cands.map((c) => [validationCustomId(c), validationPrompt(c)] as const), ValidationReply);
    const dropped = new Map(res.dropped.map((d) => [d.custom_id, d.reason]));
    const out: ValidatedCandidate[] = cands.map((c) => {
      const id = validationCustomId(c);
      const reply = res.ok.get(id) ?? null;
      return {
        candidate_id: c.candidate_id,
        reply,
        dropped_reason: reply ? null : (dropped.get(id) ?? "missing"),
        v_score: reply ? vScore(reply, c.target_word, cfg.dataset) : 0,
        accepted: reply ? isAccepted(reply, cfg.dataset) : false,
      };
    });
    writeJsonl(paths.stepFile("validated.jsonl"), out);
    const accepted = Object.fromEntries(
      CATEGORIES.map((cat) => [cat, out.filter((v, i) => v.accepted && cands[i].category === cat).length]),
    );
    return { ...res.counts, validated: out.filter((v) => v.reply).length, accepted_total: out.filter((v) => v.accepted).length, accepted };
  },
};
