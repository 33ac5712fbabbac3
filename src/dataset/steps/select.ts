/** Step 8: selection → data/validated/prompts.jsonl and data/validated/report.json. */
import { log } from "../../log.ts";
import { PromptRecord } from "../../schemas.ts";
import { readJsonl, writeJson, writeJsonl } from "../../util/jsonl.ts";
import { funnel, readManifest } from "../manifest.ts";
import { selectPrompts, type Scored } from "../select/select.ts";
import { Candidate, ProbeRecord, ValidatedCandidate } from "../types.ts";
import type { Step } from "./context.ts";

export const FUNNEL_STEPS = ["collect", "gaps", "generate", "ingest", "filter", "validate", "probe"] as const;

export const selectStep: Step = {
  name: "select",
  inputs: ["data/logs/steps/filtered.jsonl", "data/logs/steps/validated.jsonl", "data/logs/steps/probe.jsonl"],
  outputs: (p) => [p.prompts, p.report],
  async run({ cfg, paths, provider }) {
    const cands = new Map(readJsonl(paths.stepFile("filtered.jsonl"), Candidate).map((c) => [c.candidate_id, c]));
    const vals = new Map(readJsonl(paths.stepFile("validated.jsonl"), ValidatedCandidate).map((v) => [v.candidate_id, v]));
    const scored: Scored[] = [];
    for (const p of readJsonl(paths.stepFile("probe.jsonl"), ProbeRecord)) {
      const c = cands.get(p.candidate_id);
      const v = vals.get(p.candidate_id);
      if (!c || !v?.reply || !v.accepted) continue;
      scored.push({
        prompt_id: c.candidate_id,
        category: c.category,
        question_text: c.question_text,
        target_word: c.target_word,
        target_word_normalized: c.target_word_normalized,
        template_id: c.template_id,
        source: c.source,
        subject: c.subject,
        relation: c.relation,
        validation: v.reply,
        v_score: v.v_score,
        p0: p.p0,
        p0_plain: p.p0_plain,
      });
    }
    const ds = cfg.dataset;
    const { prompts, report } = selectPrompts(scored, { perCategory: ds.perCategory, binEdges: ds.binEdges, p0Gate: ds.p0Gate, maxCategoriesPerTarget: ds.maxCategoriesPerTarget }, cfg.model.promptFormat);
    for (const p of prompts) PromptRecord.parse(p);
    writeJsonl(paths.prompts, prompts);
    const manifest = readManifest(paths.manifest);
    writeJson(paths.report, {
      prompts: prompts.length,
      per_category: ds.perCategory,
      bin_edges: ds.binEdges,
      p0_gate: ds.p0Gate,
      gate_rule: "prompts with P0 < gate fill only their own bin's quota, never another bin's shortfall",
      ...report,
      funnel: manifest ? funnel(manifest, FUNNEL_STEPS) : {},
      probe: manifest?.probe ?? null,
      provider: manifest?.provider ?? null,
      llm: provider.provenance(),
    });
    for (const f of report.fills) {
      log().info(f, `shortfall fill: ${f.category} took ${f.prompt_id} from bin ${f.from_bin}`);
    }
    return { selected: report.selected, fills: report.fills.length, category_shortfalls: report.category_shortfalls };
  },
};
