/**
 * The appendix's curated failures: up to 20 completions under the negative prompt that contain X,
 * chosen deterministically. Greedy failures come first, highest P0 first, taken round-robin across
 * categories so every category is represented; sampled failures fill any remaining places.
 */
import { buildPrompt } from "../prompts/promptBuilder.ts";
import type { AttentionRow, DetectionRecord, PromptRecord } from "../schemas.ts";
import type { RunData } from "./load.ts";
import type { PromptView } from "./views.ts";
import { groupBy } from "./views.ts";

export interface AppendixExample {
  rank: number;
  prompt_id: string;
  category: string;
  source: "greedy" | "sample";
  sample_index: number | null;
  target_word: string;
  question_text: string | null;
  prompt_format: string | null;
  /** The negative prompt's raw text (before any chat template). */
  prompt: string | null;
  output: string;
  /** The first occurrence of X in the output: characters and generated-token indices [start, end). */
  span: { char_start: number; char_end: number; token_start: number | null; token_end: number | null; text: string } | null;
  /** Token ids of the span, when the greedy completion's ids are known. */
  span_token_ids: number[] | null;
  decision_step: number;
  p0: number;
  p1: number;
  bin: number;
  sampled_violation_rate: number | null;
  attention: {
    global: { iar: number; nf: number; tmf: number; pi: number } | null;
    baseline_global: { iar: number; nf: number; tmf: number; pi: number } | null;
    /** Layers whose decision step attends most to the quoted target, relative to the instruction. */
    top_tmf_layers: { layer: number; tmf: number; nf: number; iar: number }[];
  };
}

interface Candidate {
  det: DetectionRecord;
  view: PromptView;
  source: "greedy" | "sample";
}

function byPressure(a: Candidate, b: Candidate): number {
  return b.view.p0 - a.view.p0 || (a.view.prompt_id < b.view.prompt_id ? -1 : a.view.prompt_id > b.view.prompt_id ? 1 : 0) || (a.det.sample_index ?? -1) - (b.det.sample_index ?? -1);
}

/** Round-robin over categories (ordered by their strongest candidate), each list by pressure. */
function roundRobin(cands: Candidate[], limit: number, taken: Set<string>): Candidate[] {
  const groups = [...groupBy(cands.slice().sort(byPressure), (c) => c.view.category).values()];
  const out: Candidate[] = [];
  const pos = groups.map(() => 0);
  while (out.length < limit) {
    let progressed = false;
    for (let g = 0; g < groups.length && out.length < limit; g++) {
      while (pos[g] < groups[g].length && taken.has(groups[g][pos[g]].view.prompt_id)) pos[g]++;
      if (pos[g] < groups[g].length) {
        const c = groups[g][pos[g]++];
        taken.add(c.view.prompt_id);
        out.push(c);
        progressed = true;
      }
    }
    if (!progressed) break;
  }
  return out;
}

const pick = (a: AttentionRow | undefined) => (a ? { iar: a.iar, nf: a.nf, tmf: a.tmf, pi: a.pi } : null);

export function selectExamples(data: RunData, views: readonly PromptView[], limit = 20): AppendixExample[] {
  const viewOf = new Map(views.map((v) => [v.prompt_id, v]));
  const promptOf = new Map<string, PromptRecord>(data.prompts.map((p) => [p.prompt_id, p]));
  const idsOf = new Map(
    data.greedyCompletions.filter((c) => c.condition === "negative").map((c) => [c.prompt_id, c.token_ids]),
  );
  const toCand = (source: "greedy" | "sample") => (det: DetectionRecord) => {
    const view = viewOf.get(det.prompt_id);
    return view ? { det, view, source } : null;
  };
  const greedy = data.greedyDetections
    .filter((d) => d.condition === "negative" && d.present && d.sample_index === null)
    .map(toCand("greedy"))
    .filter((c): c is Candidate => c !== null);
  const taken = new Set<string>();
  const chosen = roundRobin(greedy, limit, taken);
  if (chosen.length < limit) {
    const sampled = data.sampleFailures.map(toCand("sample")).filter((c): c is Candidate => c !== null);
    chosen.push(...roundRobin(sampled, limit - chosen.length, taken));
  }

  const attnBy = groupBy(data.attention, (a) => a.prompt_id);
  return chosen.map((c, i) => {
    const rec = promptOf.get(c.view.prompt_id);
    const m = c.det.matches[0];
    const ids = c.source === "greedy" ? idsOf.get(c.view.prompt_id) : undefined;
    const attn = attnBy.get(c.view.prompt_id) ?? [];
    const neg = attn.filter((a) => a.condition === "negative");
    let prompt: string | null = null;
    if (rec) {
      try {
        prompt = buildPrompt(rec.question_text, "negative", rec.target_word);
      } catch {
        prompt = null;
      }
    }
    return {
      rank: i + 1,
      prompt_id: c.view.prompt_id,
      category: c.view.category,
      source: c.source,
      sample_index: c.det.sample_index,
      target_word: c.det.target_word,
      question_text: rec?.question_text ?? null,
      prompt_format: rec?.prompt_format ?? null,
      prompt,
      output: c.det.text,
      span: m
        ? { ...m, text: c.det.text.slice(m.char_start, m.char_end) }
        : null,
      span_token_ids: ids && m && m.token_start !== null && m.token_end !== null ? ids.slice(m.token_start, m.token_end) : null,
      decision_step: c.det.decision_step,
      p0: c.view.p0,
      p1: c.view.p1,
      bin: c.view.bin,
      sampled_violation_rate: c.view.neg?.violation_rate ?? null,
      attention: {
        global: pick(neg.find((a) => a.scope === "global")),
        baseline_global: pick(attn.find((a) => a.condition === "baseline" && a.scope === "global")),
        top_tmf_layers: neg
          .filter((a) => a.scope === "layer")
          .sort((a, b) => b.tmf - a.tmf || a.layer - b.layer)
          .slice(0, 3)
          .map((a) => ({ layer: a.layer, tmf: a.tmf, nf: a.nf, iar: a.iar })),
      },
    };
  });
}

/** File name of an example: 01_{prompt_id}.json (prompt ids are already file-safe, but be sure). */
export function exampleFileName(e: AppendixExample): string {
  const safe = e.prompt_id.replace(/[^A-Za-z0-9_.-]/g, "_");
  const suffix = e.source === "sample" ? `_s${e.sample_index}` : "";
  return `${String(e.rank).padStart(2, "0")}_${safe}${suffix}.json`;
}
