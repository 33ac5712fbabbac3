/** Checks every designed invariant of data/validated/prompts.jsonl and report.json; returns the records. */
import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CATEGORIES } from "../../src/config.ts";
import { questionContent } from "../../src/dataset/templates.ts";
import { normalizeTarget } from "../../src/dataset/types.ts";
import { PromptRecord } from "../../src/schemas.ts";

export function checkOutputs(root: string): { prompts: PromptRecord[]; report: Record<string, unknown> } {
  const prompts = readFileSync(join(root, "data/validated/prompts.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l)
    .map((l) => PromptRecord.parse(JSON.parse(l)));
  const report = JSON.parse(readFileSync(join(root, "data/validated/report.json"), "utf8")) as {
    prompts: number;
    bins: Record<string, number[]>;
    selected: Record<string, number>;
  };
  // A target in at most two categories.
  const cats = new Map<string, Set<string>>();
  for (const p of prompts) cats.set(p.target_word_normalized, (cats.get(p.target_word_normalized) ?? new Set()).add(p.category));
  for (const [t, s] of cats) assert.ok(s.size <= 2, `${t} in ${[...s].join(",")}`);
  // No duplicate (question, target); unique ids.
  const qt = new Set(prompts.map((p) => `${p.question_text}\u0000${p.target_word}`));
  assert.equal(qt.size, prompts.length, "duplicate (question, target)");
  assert.equal(new Set(prompts.map((p) => p.prompt_id)).size, prompts.length, "duplicate prompt_id");
  for (const p of prompts) {
    // No prompt's content (after the template instruction) contains its target, as a whole word or
    // inside a word once non-letters are stripped (case-insensitive).
    const content = questionContent(p.question_text);
    const re = new RegExp(`(?<![\\p{L}\\p{N}])${p.target_word}(?![\\p{L}\\p{N}])`, "iu");
    assert.ok(!re.test(content), `${p.prompt_id} contains its target`);
    const letters = content.split(/\s+/).map((w) => w.replace(/\P{L}/gu, "").toLowerCase());
    assert.ok(!letters.some((w) => w.includes(p.target_word.toLowerCase())), `${p.prompt_id} leaks its target's letters`);
    // Ids follow the formula.
    const h = createHash("sha256").update(p.question_text + p.target_word + p.category).digest("hex").slice(0, 8);
    assert.equal(p.prompt_id, `${p.category}_${normalizeTarget(p.target_word)}_${h}`);
    assert.equal(p.s_score, p.v_score + 100 * p.p0);
    assert.ok(p.validation.is_X_best && p.v_score > 0);
  }
  // report.json matches prompts.jsonl.
  assert.equal(report.prompts, prompts.length);
  for (const c of CATEGORIES) {
    const mine = prompts.filter((p) => p.category === c);
    assert.equal(report.selected[c], mine.length, c);
    assert.deepEqual(report.bins[c], [0, 1, 2, 3, 4].map((b) => mine.filter((p) => p.bin === b).length), c);
  }
  return { prompts, report };
}
