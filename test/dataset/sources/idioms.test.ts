import { strict as assert } from "node:assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { InputError } from "../../../src/errors.ts";
import { blankIdiom, idiomCandidates, readIdioms } from "../../../src/dataset/sources/idioms.ts";
import { removeRoot, tempRoot } from "../helpers.ts";

test("the bundled idioms.csv parses and gives ≥ 800 usable idioms", () => {
  const entries = readIdioms("data/raw/idioms.csv");
  assert.ok(entries.length > 1000);
  const r = idiomCandidates(entries, 10_000, 42);
  assert.ok(r.eligible >= 800, `eligible ${r.eligible}`);
  for (const c of r.candidates) {
    assert.match(c.question_text, /____/);
    assert.match(c.target_word, /^\p{L}+$/u);
    assert.ok(["I1", "I2", "I3"].includes(c.template_id));
  }
});

test("an idiom needs ≥ 3 words and an alphabetic last word; the blank keeps trailing punctuation", () => {
  assert.deepEqual(blankIdiom("Break a leg"), { blanked: "Break a ____", target: "leg" });
  assert.deepEqual(blankIdiom("Speak of the devil!"), { blanked: "Speak of the ____!", target: "devil" });
  assert.equal(blankIdiom("All ears"), null);
  assert.equal(blankIdiom("Catch 22 now 4"), null);
});

test("templates I1–I3 have the designed text", () => {
  const r = idiomCandidates([{ idiom: "Break a leg", definition: "Good luck", line: 1 }, { idiom: "Hit the sack", definition: "sleep", line: 2 }, { idiom: "Spill the beans", definition: "tell", line: 3 }], 3, 1);
  const byT = Object.fromEntries(r.candidates.map((c) => [c.template_id, c.question_text]));
  assert.match(byT.I1, /^Complete the idiom with one word: "[^"]+ ____"$/);
  assert.match(byT.I2, /^Fill the blank \(one word\): .+ ____$/);
  assert.match(byT.I3, /^Idiom completion \(one word\): .+ ____$/);
});

test("a malformed line stops with an InputError naming the file and the line", () => {
  const dir = tempRoot("idioms");
  try {
    const f = join(dir, "idioms.csv");
    writeFileSync(f, '"{Break a leg}>>{Good luck!}"\n"{Hit the sack}>>{Go to bed.}"\nthis line is broken\n');
    assert.throws(
      () => readIdioms(f),
      (e: unknown) => e instanceof InputError && e.message.includes(f) && e.message.includes("line 3"),
    );
  } finally {
    removeRoot(dir);
  }
});
