import { test } from "node:test";
import assert from "node:assert/strict";
import { blankLastWord, renderTemplate, templatesFor, TEMPLATES } from "../../src/prompts/templates.ts";

test("fact and common-sense templates render the design's exact text", () => {
  assert.equal(renderTemplate("F1", "France"), "Fill the blank with one word: The capital of France is ____.");
  assert.equal(renderTemplate("F2", "Japan"), "One-word answer: Japan's capital is ____.");
  assert.equal(renderTemplate("F3", "Japan"), "Complete with one word: The currency of Japan is ____.");
  assert.equal(renderTemplate("F5", "Kenya"), "Fill the blank (one word): Kenya is in ____.");
  assert.equal(renderTemplate("C1", "knife"), "Fill the blank (one word): You use a knife to ____.");
  assert.equal(renderTemplate("C10", "hat"), "Fill the blank (one word): A hat is worn on the ____.");
});

test("idiom templates take the idiom with its last word blanked", () => {
  const b = blankLastWord("a piece of cake", "cake");
  assert.equal(b, "a piece of ____");
  assert.equal(renderTemplate("I1", b), 'Complete the idiom with one word: "a piece of ____"');
  assert.equal(renderTemplate("I2", b), "Fill the blank (one word): a piece of ____");
  assert.equal(renderTemplate("I3", b), "Idiom completion (one word): a piece of ____");
});

test("blankLastWord replaces only the last whole-word occurrence", () => {
  assert.equal(blankLastWord("Cake after cake, cakes.", "cake"), "Cake after ____, cakes.");
  assert.throws(() => blankLastWord("cakes", "cake"), /does not occur/);
});

test("texts without a blank and unknown ids are rejected", () => {
  assert.throws(() => renderTemplate("I1", "a piece of cake"), /blank/);
  assert.throws(() => renderTemplate("Z9", "x"), /unknown question template/);
});

test("every category has templates and ids are unique", () => {
  for (const c of ["idioms", "facts", "commonsense", "creative", "ood"] as const) assert.ok(templatesFor(c).length > 0);
  assert.equal(TEMPLATES.size, 25);
});
