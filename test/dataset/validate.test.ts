import { strict as assert } from "node:assert";
import { test } from "node:test";
import { applyFilters, rejectReason } from "../../src/dataset/filters.ts";
import { makeCandidate } from "../../src/dataset/types.ts";
import { isAccepted, vScore, validationPrompt } from "../../src/dataset/validate.ts";
import {
  blankLastOccurrence,
  COMMONSENSE_TEMPLATES,
  countSentences,
  creativeQuestion,
  FACT_TEMPLATES,
  IDIOM_TEMPLATES,
  INSTRUCTION_PREFIXES,
  oodQuestion,
  questionContent,
} from "../../src/dataset/templates.ts";

const T = { ambiguityMax: 3, naturalnessMin: 7 };
const R = { is_one_word_answer_enforced: true, best_one_word_answer: "Paris", top3_one_word_answers: ["Paris"], is_X_best: true, ambiguity_score: 2, leaks_answer: false, naturalness_score: 8, comments: "" };

test("acceptance needs X best, ambiguity ≤ 3, no leak, one word enforced, naturalness ≥ 7", () => {
  assert.equal(isAccepted(R, T), true);
  for (const bad of [{ is_X_best: false }, { ambiguity_score: 4 }, { leaks_answer: true }, { is_one_word_answer_enforced: false }, { naturalness_score: 6 }]) {
    assert.equal(isAccepted({ ...R, ...bad }, T), false, JSON.stringify(bad));
    assert.equal(vScore({ ...R, ...bad }, "Paris", T), 0);
  }
});

test("V(p) = 40 best + 30 no close alternative + 20 one word + 10 fluent", () => {
  assert.equal(vScore(R, "Paris", T), 100);
  assert.equal(vScore({ ...R, top3_one_word_answers: ["Paris", "Lyon"] }, "paris", T), 70);
  assert.equal(vScore({ ...R, top3_one_word_answers: ["Paris", "Lyon"], ambiguity_score: 1 }, "Paris", T), 100);
});

test("the validation prompt mentions json and carries the question and X", () => {
  const c = makeCandidate({ category: "facts", question_text: "Q ____.", target_word: "Paris", template_id: "F1", source: "t" });
  const p = validationPrompt(c);
  assert.match(p, /json/);
  assert.match(p, /^Question: Q ____\.$/m);
  assert.match(p, /^Intended answer X: Paris$/m);
});

test("filters reject non-alphabetic targets and targets in the question, whole word or letters-only", () => {
  const mk = (q: string, t: string, category: "facts" | "creative" = "facts") => makeCandidate({ category, question_text: q, target_word: t, template_id: "x", source: "t" });
  assert.equal(rejectReason(mk("The capital is ____.", "Buenos Aires")), "target_not_alphabetic");
  assert.equal(rejectReason(mk("Space. The final ____.", "space")), "target_in_question");
  assert.equal(rejectReason(mk("Spell s.p.a.c.e then ____.", "space")), "target_in_question_letters");
  assert.equal(rejectReason(mk("Spacetime has a ____.", "space")), "target_in_question_letters");
  assert.equal(rejectReason(mk("Time has a ____.", "space")), null);
  const r = applyFilters([mk("A ____.", "ok"), mk("A ____.", "ok"), mk("Fill the blank with one word: One. Two. Three ____.", "four", "creative")]);
  assert.equal(r.kept.length, 2);
  assert.equal(r.counts.by_reason.duplicate, 1);
  assert.equal(r.counts.sentence_count_mismatch.creative, 1);
});

test("when the target sits inside a content word then it is rejected as a letters leak and counted", () => {
  const mk = (q: string, t: string) => makeCandidate({ category: "commonsense", question_text: q, target_word: t, template_id: "x", source: "t" });
  const singer = mk(COMMONSENSE_TEMPLATES.C6.text("singer"), "sing");
  const slovak = mk(FACT_TEMPLATES.F4.text("Slovakia"), "Slovak");
  assert.equal(rejectReason(singer), "target_in_question_letters");
  assert.equal(rejectReason(slovak), "target_in_question_letters");
  assert.equal(rejectReason(mk("Fill the blank (one word): A SINGER can ____.", "Sing")), "target_in_question_letters");
  const r = applyFilters([singer, slovak, mk(COMMONSENSE_TEMPLATES.C6.text("dog"), "bark")]);
  assert.equal(r.counts.by_reason.target_in_question_letters, 2);
  assert.deepEqual(r.kept.map((k) => k.target_word), ["bark"]);
});

test("when the target is a word of the template instruction then it is not rejected", () => {
  const mk = (q: string, t: string) => makeCandidate({ category: "creative", question_text: q, target_word: t, template_id: "x", source: "t" });
  assert.equal(rejectReason(mk(creativeQuestion("He wrote a letter. She never read a single ____."), "word")), null);
  assert.equal(rejectReason(mk(FACT_TEMPLATES.F2.text("Spain"), "answer")), null);
  assert.equal(rejectReason(mk(IDIOM_TEMPLATES.I3("Actions speak louder than ____"), "completion")), null);
  assert.equal(rejectReason(mk(creativeQuestion("She chose one word. Then a second ____."), "word")), "target_in_question");
});

test("every template starts with a known instruction prefix", () => {
  const qs = [
    ...Object.values(IDIOM_TEMPLATES).map((f) => f("x ____")),
    ...Object.values(FACT_TEMPLATES).map((f) => f.text("S")),
    ...Object.values(COMMONSENSE_TEMPLATES).map((f) => f.text("S")),
    creativeQuestion("s"),
    oodQuestion("s"),
  ];
  for (const q of qs) assert.ok(INSTRUCTION_PREFIXES.some((p) => q.startsWith(p)), q);
  assert.equal(questionContent("Fill the blank (one word): A singer can ____."), "A singer can ____.");
});

test("the blank replaces the last whole-word occurrence and sentences are counted", () => {
  assert.equal(blankLastOccurrence("An Anglo-Saxon king. He was Saxon.", "saxon"), "An Anglo-Saxon king. He was ____.");
  assert.equal(blankLastOccurrence("Saxony only", "saxon"), null);
  assert.equal(countSentences("One thing. Another ____."), 2);
  assert.equal(countSentences("Only one ____."), 1);
});
