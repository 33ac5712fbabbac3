import { strict as assert } from "node:assert";
import { test } from "node:test";
import type { Category } from "../../../src/config.ts";
import { binQuotas, selectPrompts, sScore, type Scored } from "../../../src/dataset/select/select.ts";
import { binOf } from "../../../src/stats/bins.ts";
import { promptId } from "../../../src/dataset/types.ts";
import { createHash } from "node:crypto";

const P = { perCategory: 10, binEdges: [0, 0.2, 0.4, 0.6, 0.8, 1], p0Gate: 0.2, maxCategoriesPerTarget: 2 };
const REPLY = { is_one_word_answer_enforced: true, best_one_word_answer: "x", top3_one_word_answers: ["x"], is_X_best: true, ambiguity_score: 0, leaks_answer: false, naturalness_score: 9, comments: "" };

function cand(category: Category, q: string, target: string, p0: number, v = 100): Scored {
  return {
    prompt_id: promptId(category, q, target),
    category,
    question_text: q,
    target_word: target,
    target_word_normalized: target.toLowerCase(),
    template_id: "T",
    source: "test",
    subject: null,
    relation: null,
    validation: REPLY,
    v_score: v,
    p0,
    p0_plain: p0,
  };
}

test("bins are [0,.2) [.2,.4) [.4,.6) [.6,.8) [.8,1] with 1 in the last bin", () => {
  const e = P.binEdges;
  assert.deepEqual([0, 0.1999, 0.2, 0.4, 0.5999, 0.6, 0.8, 0.99, 1].map((p) => binOf(p, e)), [0, 0, 1, 2, 2, 3, 4, 4, 4]);
  assert.deepEqual(binQuotas(500, 5), [100, 100, 100, 100, 100]);
  assert.deepEqual(binQuotas(12, 5), [3, 3, 2, 2, 2]);
  assert.equal(sScore(70, 0.25), 95);
});

test("prompt_id is {category}_{target_norm}_{sha256(question+target+category)[:8]}", () => {
  const h = createHash("sha256").update("Q?" + "Paris" + "facts").digest("hex").slice(0, 8);
  assert.equal(promptId("facts", "Q?", "Paris"), `facts_paris_${h}`);
});

test("each bin takes its quota ranked by S; a short bin is filled from the next-highest S at or above the gate", () => {
  const cs: Scored[] = [];
  // Bin 0: plenty (10), bin 1: 1 prompt, bins 2-4: 5 each.
  for (let i = 0; i < 10; i++) cs.push(cand("idioms", `low ${i}`, `low${i}`, 0.01 * i));
  cs.push(cand("idioms", "one", "one", 0.3));
  for (const [b, p] of [[2, 0.5], [3, 0.7], [4, 0.9]] as const) for (let i = 0; i < 5; i++) cs.push(cand("idioms", `b${b} ${i}`, `t${b}${i}`, p + i * 0.01));
  const { prompts, report } = selectPrompts(cs, P, "raw");
  const idioms = prompts.filter((p) => p.category === "idioms");
  assert.equal(idioms.length, 10);
  assert.deepEqual(report.bins.idioms, [2, 1, 2, 2, 3]);
  // Bin 0 kept its two highest-S prompts; the one missing place went to the highest S above the gate.
  assert.deepEqual(idioms.filter((p) => p.bin === 0).map((p) => p.target_word), ["low9", "low8"]);
  assert.deepEqual(report.fills.map((f) => [f.from_bin, f.prompt_id.split("_")[1]]), [[4, "t42"]]);
  assert.deepEqual(report.bin_shortfalls.filter((s) => s.category === "idioms"), [{ category: "idioms", bin: 1, wanted: 2, got: 1 }]);
  for (const c of ["facts", "commonsense", "creative", "ood"]) assert.ok(report.category_shortfalls.some((s) => s.category === c));
});

test("the gate keeps low-pressure prompts out of other bins' shortfalls", () => {
  const cs: Scored[] = [];
  for (let i = 0; i < 30; i++) cs.push(cand("facts", `q${i}`, `w${i}`, 0.001 * i));
  const { report } = selectPrompts(cs, P, "raw");
  assert.deepEqual(report.bins.facts, [2, 0, 0, 0, 0]);
  assert.equal(report.fills.length, 0);
  assert.deepEqual(report.category_shortfalls.find((s) => s.category === "facts"), { category: "facts", wanted: 10, got: 2 });
});

test("creative/OOD keep the best prompt per target; a target is in at most two categories; (question,target) is unique", () => {
  const cs = [
    cand("creative", "story a", "moon", 0.5),
    cand("creative", "story b", "moon", 0.9),
    cand("idioms", "idiom", "moon", 0.1),
    cand("facts", "fact", "moon", 0.3),
    cand("commonsense", "cs", "moon", 0.7),
    cand("ood", "same", "tree", 0.2),
    cand("commonsense", "same", "tree", 0.6),
    cand("commonsense", "same", "tree", 0.6),
  ];
  const { prompts, report } = selectPrompts(cs, { ...P, perCategory: 5 }, "chat");
  const moonCats = new Set(prompts.filter((p) => p.target_word === "moon").map((p) => p.category));
  assert.deepEqual([...moonCats].sort(), ["facts", "idioms"]);
  assert.equal(report.dropped.not_best_for_target, 1);
  assert.equal(report.dropped.target_category_cap, 2);
  assert.equal(report.dropped.duplicate_question_target, 2);
  const keys = prompts.map((p) => `${p.question_text}\u0000${p.target_word}`);
  assert.equal(new Set(keys).size, keys.length);
  assert.ok(prompts.every((p) => p.prompt_format === "chat"));
});

test("selection is deterministic and independent of input order", () => {
  const cs: Scored[] = [];
  for (let i = 0; i < 60; i++) cs.push(cand(["idioms", "facts", "ood"][i % 3] as Category, `q${i}`, `w${i % 17}`, (i * 37) % 100 / 100, i % 2 ? 70 : 100));
  const a = selectPrompts(cs, P, "raw");
  const b = selectPrompts([...cs].reverse(), P, "raw");
  assert.equal(JSON.stringify(a), JSON.stringify(b));
});
