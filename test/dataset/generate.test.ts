import { strict as assert } from "node:assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { candidateFromItem, generationPrompt, generationSpecs } from "../../src/dataset/generate.ts";
import { readWritingPrompts } from "../../src/dataset/sources/targets.ts";
import { removeRoot, tempRoot } from "./helpers.ts";

test("common-sense shortfalls spread over the ten relations in requests of at most 10 items", () => {
  const specs = generationSpecs("commonsense", 1000);
  assert.equal(specs.length, 100);
  assert.ok(specs.every((s) => s.n === 10));
  assert.equal(new Set(specs.map((s) => s.relation)).size, 10);
  assert.deepEqual(generationSpecs("commonsense", 0), []);
  const small = generationSpecs("commonsense", 23);
  assert.equal(small.reduce((a, s) => a + s.n, 0), 23);
});

test("creative and OOD ask K prompts per target; creative carries a writing-prompt seed when there are any", () => {
  const c = generationSpecs("creative", 6, { targets: ["moon", "river"], k: 3, seeds: ["A lighthouse keeper finds a letter."] });
  assert.deepEqual(c.map((s) => [s.custom_id, s.n]), [["gen:creative:moon", 3], ["gen:creative:river", 3]]);
  assert.match(generationPrompt(c[0]), /Optional inspiration: A lighthouse keeper/);
  const noSeed = generationSpecs("creative", 3, { targets: ["moon"], k: 3, seeds: null });
  assert.doesNotMatch(generationPrompt(noSeed[0]), /inspiration/);
  for (const s of [...c, ...generationSpecs("ood", 3, { targets: ["moon"] }), ...generationSpecs("idioms", 5), ...generationSpecs("facts", 5)]) {
    assert.match(generationPrompt(s), /json/);
    assert.match(generationPrompt(s), /\{"items":\[/);
  }
});

test("writing prompts are read one per line, tags stripped; an absent file gives null", () => {
  const dir = tempRoot("wp");
  try {
    const f = join(dir, "wp.txt");
    writeFileSync(f, "[ WP ] A dragon opens a bakery.\n\nThe last train never arrives.\n");
    assert.deepEqual(readWritingPrompts(f), ["A dragon opens a bakery.", "The last train never arrives."]);
    assert.equal(readWritingPrompts(join(dir, "none.txt")), null);
  } finally {
    removeRoot(dir);
  }
});

test("a generated story becomes a creative cloze with its last target occurrence blanked", () => {
  const [spec] = generationSpecs("creative", 3, { targets: ["asleep"], k: 3 });
  const c = candidateFromItem(spec, { microstory: "The baby cried all night. At dawn she fell asleep.", target_word: "asleep" }, 0, "llm")!;
  assert.equal(c.question_text, "Fill the blank with one word: The baby cried all night. At dawn she fell ____.");
  assert.equal(c.target_word, "asleep");
  assert.equal(c.origin, "gen:creative:asleep");
  assert.equal(candidateFromItem(spec, { microstory: "No target here.", target_word: "asleep" }, 1, "llm"), null);
  assert.equal(candidateFromItem(spec, { story: "wrong shape" }, 2, "llm"), null);
  const [cs] = generationSpecs("commonsense", 1);
  const k = candidateFromItem(cs, { subject: "knife", relation: "UsedFor", target_word: "cut" }, 0, "llm")!;
  assert.equal(k.question_text, "Fill the blank (one word): You use a knife to ____.");
  assert.equal(k.template_id, "C1");
});
