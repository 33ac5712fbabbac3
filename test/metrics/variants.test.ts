import { test } from "node:test";
import assert from "node:assert/strict";
import { qwenTokenizer, type Tokenizer } from "../../src/tokenizer/hfTokenizer.ts";
import { continuationIds, prefixFreeIndices, surfaceForms, variantSequences } from "../../src/metrics/variants.ts";
import { buildPrompt } from "../../src/prompts/promptBuilder.ts";
import { normalizeForMatch } from "../../src/util/normalize.ts";

const tok = qwenTokenizer();
const PROMPT = buildPrompt("Fill the blank with one word: The capital of France is ____.", "baseline");

test("surface forms: 4 cases × 4 affixes, plus trailing-space forms, deduplicated", () => {
  const f = surfaceForms("Paris");
  assert.equal(f.length, 24, "X and Title coincide for Paris: 3 distinct cases × 8");
  for (const s of ["Paris", " Paris", "Paris.", " Paris.", "paris", " PARIS.", "Paris ", " paris. "]) assert.ok(f.includes(s), s);
  assert.equal(surfaceForms("iPhone").length, 32, "X, lower, Title and UPPER all differ");
  assert.ok(surfaceForms("iPhone").includes(" Iphone"));
});

test("S(X) after a raw prompt holds the expected Qwen sequences, each decoding to X", () => {
  const v = variantSequences(tok, PROMPT, "Paris");
  const byText = new Map(v.sequences.map((s) => [s.text, s.ids]));
  assert.deepEqual(byText.get(" Paris"), [12095]);
  assert.deepEqual(byText.get(" Paris."), [12095, 13]);
  assert.deepEqual(byText.get("Paris"), [59604]);
  assert.deepEqual(byText.get(" paris"), [40858]);
  assert.equal(v.sequences.length, 24);
  for (const s of v.sequences) {
    assert.equal(normalizeForMatch(tok.decode(s.ids)), "paris");
    assert.deepEqual(tok.encode(PROMPT + s.text).slice(0, v.promptIds.length), v.promptIds);
  }
  assert.deepEqual(v.rejected, []);
});

test("sequences are deduplicated by ids and remember every form", () => {
  const fake: Tokenizer = {
    encode: (t) => [...t.toLowerCase()].filter((c) => c !== " " && c !== ".").map((c) => c.charCodeAt(0)),
    decode: (ids) => String.fromCharCode(...ids),
  };
  const v = variantSequences(fake, "Q", "ab");
  assert.equal(v.sequences.length, 1);
  assert.equal(v.sequences[0].forms.length, surfaceForms("ab").length);
});

test("a form whose tokens would merge with the prompt is tokenised on its own", () => {
  // "Answer:Café" merges ':' into the first token of the form; the prompt ids must stay fixed
  const v = variantSequences(tok, PROMPT, "café");
  const cafe = v.sequences.find((s) => s.forms.includes("Café"));
  assert.ok(cafe);
  assert.equal(cafe.split, "separate");
  assert.deepEqual(cafe.ids, tok.encode("Café"));
  const spaced = v.sequences.find((s) => s.forms.includes(" Café"));
  assert.equal(spaced?.split, "joint");
});

test("continuationIds returns the boundary split, or the text alone when the prompt would change", () => {
  const pIds = tok.encode(PROMPT);
  assert.deepEqual(continuationIds(tok, PROMPT, pIds, " Paris."), { ids: [12095, 13], split: "joint" });
  const r = continuationIds(tok, PROMPT, pIds, "Café");
  assert.equal(r.split, "separate");
});

test("forms whose decode does not normalise to X are rejected", () => {
  const fake: Tokenizer = { encode: (t) => [t.length], decode: () => "other" };
  const v = variantSequences(fake, "Q", "Paris");
  assert.equal(v.sequences.length, 0);
  assert.equal(v.rejected.length, 24);
});

test("prefix-free reduction drops exactly the sequences that extend another", () => {
  const keep = prefixFreeIndices([[1], [1, 2], [2], [2, 1, 3], [3, 4], [3, 5], [1, 2, 3]]);
  assert.deepEqual([...keep].sort(), [0, 2, 4, 5]);
  assert.deepEqual([...prefixFreeIndices([])], []);
});

test("re-encoding only the prompt's last line gives encode(prompt + text) for real prompts, forms and generated tails", async () => {
  const { promptJoiner } = await import("../../src/metrics/variants.ts");
  const { syntheticPrompts } = await import("../../src/bench/synthetic.ts");
  // Questions of every category's templates, with targets that are names, verbs, plurals and non-ASCII words.
  const own = [
    ["Complete the idiom with one word: Actions speak louder than ____.", "words"],
    ["Fill the blank (one word): You use a kettle to ____ water.", "boil"],
    ["Write one word that describes the colour of the sky on a clear day.", "blue"],
    ["Fill the blank with one word: The capital of Turkey's largest city is ____.", "İstanbul"],
    ["Name, in one word, what a café in Zürich serves: ____.", "café"],
    ["Fill the blank with one word: Apollo ____ landed on the Moon in 1969.", "11"],
  ].map(([question_text, target_word]) => ({ question_text, target_word }));
  const records = [...syntheticPrompts(60), ...own];
  const chat = (p: string) => `<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n${p}<|im_end|>\n<|im_start|>assistant\n`;
  // Greedy tails as a decision input can end: words, a newline, spaces, digits, punctuation, non-ASCII.
  const tails = ["", " The", " Paris\n", "\n\n", "  ", " 1984", ":", " İstanbul", " naïve —", "\n The"];
  const extra = ["\n", " ", "'s", "'S", "  x", "\r\n", "🙂", "123", ".\n"];
  let fast = 0;
  let checked = 0;
  for (const [i, r] of records.entries()) {
    for (const condition of ["baseline", "negative"] as const) {
      const base = buildPrompt(r.question_text, condition, r.target_word);
      const prompt = (i % 3 === 0 ? chat(base) : base) + tails[i % tails.length];
      const ids = tok.encode(prompt);
      let encoded = "";
      const spy: Tokenizer = { encode: (t) => ((encoded = t), tok.encode(t)), decode: (x, o) => tok.decode(x, o) };
      const joined = promptJoiner(spy, prompt, ids);
      for (const [k, text] of [...surfaceForms(r.target_word), ...extra].entries()) {
        assert.deepEqual(joined(text), tok.encode(prompt + text), JSON.stringify([prompt.slice(-40), text]));
        if (k === 0 && encoded.length < prompt.length) fast++;
        checked++;
      }
    }
  }
  assert.ok(checked > 4000 && fast === 2 * records.length, `${checked} encodings, ${fast} prompts on the fast path`);
});

test("a prompt whose last-line split changes its own ids falls back to whole encodes", async () => {
  const { promptJoiner } = await import("../../src/metrics/variants.ts");
  const calls: string[] = [];
  const fake: Tokenizer = {
    // Joins across a newline: "a\nb" is one token, so head ++ tail never reproduces the prompt's ids.
    encode: (t) => (calls.push(t), t === "a\nb" ? [7] : [...t].map((c) => c.charCodeAt(0))),
    decode: (ids) => String.fromCharCode(...ids),
  };
  const joined = promptJoiner(fake, "a\nb", [7]);
  calls.length = 0;
  assert.deepEqual(joined("c"), [..."a\nbc"].map((c) => c.charCodeAt(0)));
  assert.deepEqual(calls, ["a\nbc"]);
});
