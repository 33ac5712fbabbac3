import { test } from "node:test";
import assert from "node:assert/strict";
import {
  blankLastOccurrence,
  COMMONSENSE_RELATIONS,
  COMMONSENSE_TEMPLATES,
  FACT_RELATIONS,
  FACT_TEMPLATES,
  factTemplatesFor,
  IDIOM_TEMPLATES,
} from "../../src/dataset/templates.ts";

test("fact and common-sense templates render the design's exact text", () => {
  assert.equal(FACT_TEMPLATES.F1.text("France"), "Fill the blank with one word: The capital of France is ____.");
  assert.equal(FACT_TEMPLATES.F2.text("Japan"), "One-word answer: Japan's capital is ____.");
  assert.equal(FACT_TEMPLATES.F3.text("Japan"), "Complete with one word: The currency of Japan is ____.");
  assert.equal(FACT_TEMPLATES.F5.text("Kenya"), "Fill the blank (one word): Kenya is in ____.");
  assert.equal(FACT_TEMPLATES.F16.text("Curie"), "Fill the blank (one word): By occupation, Curie was a ____.");
  assert.equal(COMMONSENSE_TEMPLATES.C1.text("knife"), "Fill the blank (one word): You use a knife to ____.");
  assert.equal(COMMONSENSE_TEMPLATES.C10.text("hat"), "Fill the blank (one word): A hat is worn on the ____.");
});

test("idiom templates take the idiom with its last word blanked", () => {
  const b = blankLastOccurrence("a piece of cake", "cake");
  assert.equal(b, "a piece of ____");
  assert.equal(IDIOM_TEMPLATES.I1(b!), 'Complete the idiom with one word: "a piece of ____"');
  assert.equal(IDIOM_TEMPLATES.I2(b!), "Fill the blank (one word): a piece of ____");
  assert.equal(IDIOM_TEMPLATES.I3(b!), "Idiom completion (one word): a piece of ____");
});

test("blankLastOccurrence replaces only the last whole-word occurrence, null when absent", () => {
  assert.equal(blankLastOccurrence("Cake after cake, cakes.", "cake"), "Cake after ____, cakes.");
  assert.equal(blankLastOccurrence("cakes", "cake"), null);
});

test("every fact relation has a template and every common-sense template one relation", () => {
  for (const r of FACT_RELATIONS) assert.ok(factTemplatesFor(r).length > 0, r);
  assert.equal(COMMONSENSE_RELATIONS.length, Object.keys(COMMONSENSE_TEMPLATES).length);
  assert.equal(new Set(COMMONSENSE_RELATIONS).size, COMMONSENSE_RELATIONS.length);
});
