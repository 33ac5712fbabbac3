import { test } from "node:test";
import assert from "node:assert/strict";
import { answerWord, behaviorRates, behaviorRow, isOneWord } from "../../src/metrics/behavior.ts";

test("when the first line is one word of letters after normalisation then the format holds", () => {
  for (const t of [" Paris.", "Paris", "  \n Paris!\nQuestion: more", '"Ocean"', "Été"]) assert.ok(isOneWord(t), t);
  for (const t of ["Paris is nice", "", "   ", "42", "\n\n", "Paris 2", "x-ray"]) assert.ok(!isOneWord(t), t);
  assert.equal(answerWord("  Big Apple.\nmore"), "big apple");
});

test("when samples are mixed then the three rates count what they say", () => {
  const r = behaviorRates([
    { text: " Paris.", present: true }, // violation, format ok
    { text: " London", present: false }, // clean success
    { text: " I think London", present: false }, // format fail, no violation
    { text: " Paris is it", present: true }, // violation, format fail
  ]);
  assert.deepEqual(r, { n_samples: 4, violation_rate: 0.5, format_adherence_rate: 0.5, clean_success_rate: 0.25 });
});

test("when there are no samples then rates are NaN, not zero", () => {
  const r = behaviorRates([]);
  assert.equal(r.n_samples, 0);
  assert.ok(Number.isNaN(r.violation_rate));
});

test("when a row is built then greedy_violation is 0 or 1", () => {
  const row = behaviorRow("p1", "negative", [{ text: "x", present: false }], true);
  assert.equal(row.greedy_violation, 1);
  assert.equal(row.condition, "negative");
  assert.equal(row.clean_success_rate, 1);
});
