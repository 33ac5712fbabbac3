import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { WordFreq, WORDFREQ_FILE } from "../../../src/dataset/sources/wordfreq.ts";
import { eligibleTargets, drawTargets } from "../../../src/dataset/sources/targets.ts";
import { Prng } from "../../../src/util/prng.ts";
import { needVenv } from "../../fixtures/requirements.ts";

const PY = ".venv/bin/python";
const wf = WordFreq.load(WORDFREQ_FILE);

test("TS Zipf equals Python wordfreq.zipf_frequency on 1,500 words within 0.01", { skip: needVenv() }, () => {
  // Words across the whole frequency range plus unknown ones, chosen with a fixed seed.
  const all = [...wf.words()].filter((w) => /^[a-z]+$/.test(w));
  const rng = new Prng(7, "wordfreq-test");
  const words = new Set<string>(all.slice(0, 300));
  while (words.size < 1400) words.add(all[rng.int(all.length)]);
  for (let i = 0; i < 100; i++) words.add(`qzx${i}vv`.replace(/\d/g, (d) => "abcdefghij"[Number(d)]));
  const list = [...words];
  const script = "import json,sys,wordfreq\nws=json.load(sys.stdin)\nprint(json.dumps([wordfreq.zipf_frequency(w,'en') for w in ws]))";
  const py = JSON.parse(execFileSync(PY, ["-c", script], { input: JSON.stringify(list), maxBuffer: 1 << 24 }).toString()) as number[];
  assert.equal(py.length, list.length);
  assert.ok(list.length >= 1000);
  let worst = 0;
  list.forEach((w, i) => {
    const ts = wf.zipf(w)!;
    const d = Math.abs(ts - py[i]);
    worst = Math.max(worst, d);
    assert.ok(d <= 0.01, `${w}: TS ${ts} vs Python ${py[i]}`);
  });
  assert.ok(worst <= 0.01);
});

test("known words have their wordfreq values and unknown words are 0", () => {
  assert.equal(wf.zipf("the"), 7.73);
  assert.equal(wf.zipf("umbrella"), 3.89);
  assert.equal(wf.zipf("Umbrella"), 3.89);
  assert.equal(wf.zipf("qqqzzzxxx"), 0);
  assert.equal(wf.zipf("two words"), null);
});

test("target words are alphabetic, in the Zipf band, and the draw is seeded", () => {
  const el = eligibleTargets(wf, 3.5, 6.0);
  assert.ok(el.length > 5000);
  for (const w of el.slice(0, 500)) {
    const z = wf.zipf(w)!;
    assert.ok(/^[a-z]{4,}$/.test(w) && z >= 3.5 && z <= 6.0, w);
  }
  const a = drawTargets(el, 50, 42, "creative");
  assert.deepEqual(a, drawTargets(el, 50, 42, "creative"));
  assert.notDeepEqual(a, drawTargets(el, 50, 43, "creative"));
  const b = drawTargets(el, 50, 42, "ood", new Set(a));
  assert.equal(b.filter((w) => a.includes(w)).length, 0);
});
