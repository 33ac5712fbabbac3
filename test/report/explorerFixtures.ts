/**
 * Unit records (runs/units.jsonl) for a synthetic data root written by fixtures.ts: one per prompt ×
 * condition, derived from the root's own prompts, P_sem, behaviour, greedy completions and
 * detections so that every file agrees, and validated through the UnitRecord schema as written.
 */
import { join } from "node:path";
import { buildPrompt } from "../../src/prompts/promptBuilder.ts";
import { UnitRecord } from "../../src/run/units.ts";
import { BehaviorRow, CompletionRecord, DetectionRecord, PromptRecord, PsemRow } from "../../src/schemas.ts";
import { readCsv } from "../../src/util/csv.ts";
import { readJsonl, writeJsonl } from "../../src/util/jsonl.ts";

const CONDITIONS = ["baseline", "negative"] as const;

/** Writes runs/units.jsonl under a fixture root; returns the records. `sx`: S(X) sequences per set (the tiny real run has 24). */
export function writeUnitFixtures(root: string, opts: { sx?: number } = {}): UnitRecord[] {
  const prompts = new Map(readJsonl(join(root, "data/validated/prompts.jsonl"), PromptRecord).map((p) => [p.prompt_id, p]));
  const psem = readCsv(join(root, "runs/psem.csv"), PsemRow);
  const key = (r: { prompt_id: string; condition: string }) => `${r.prompt_id}|${r.condition}`;
  const behavior = new Map(readCsv(join(root, "runs/behavior.csv"), BehaviorRow).map((b) => [key(b), b]));
  const greedy = new Map(readJsonl(join(root, "runs/completions_greedy.jsonl"), CompletionRecord).map((c) => [key(c), c]));
  const det = new Map(readJsonl(join(root, "runs/detection_mapping_greedy.jsonl"), DetectionRecord).map((d) => [key(d), d]));
  const units: UnitRecord[] = [];
  psem.forEach((row, i) => {
    const p = prompts.get(row.prompt_id)!;
    const negPresent = det.get(`${row.prompt_id}|negative`)!.present;
    for (const c of CONDITIONS) {
      const text = buildPrompt(p.question_text, c, p.target_word);
      const ids = Array.from({ length: 24 + (c === "negative" ? 12 : 0) }, (_, j) => 100 + ((i * 31 + j * 7) % 5000));
      const g = greedy.get(`${row.prompt_id}|${c}`)!;
      const d = det.get(`${row.prompt_id}|${c}`)!;
      const b = behavior.get(`${row.prompt_id}|${c}`)!;
      const x = [1000 + i];
      const sx = Array.from({ length: opts.sx ?? 2 }, (_, j) => (j === 0 ? x : [...x, 13 + j]));
      units.push(
        UnitRecord.parse({
          prompt_id: row.prompt_id, condition: c, category: p.category, target_word: p.target_word, question_text: p.question_text,
          prompt_format: "raw", prompt_text: text, prompt_ids: ids,
          spans: c === "negative" ? { instruction: [8, 20], negation: [8, 11], target: [14, 15], question: [22, 34] } : null,
          greedy: { token_ids: g.token_ids, text: g.text, present: d.present, decision_step: d.decision_step },
          own_outcome: d.present ? "failure" : "success",
          outcome: negPresent ? "failure" : "success",
          sx_prompt: { sequences: sx, first: x },
          sx_decision: { sequences: sx, first: x },
          p_sem: c === "baseline" ? row.p0 : row.p1, p0: row.p0, bin: row.bin, seed: 42,
          samples: { n: b.n_samples, violations: Math.round(b.violation_rate * b.n_samples) },
          trace: { file: `mechanistic_trace/${row.prompt_id}_${c}.safetensors`, mode: "decision" },
        }),
      );
    }
  });
  writeJsonl(join(root, "runs/units.jsonl"), units);
  return units;
}
