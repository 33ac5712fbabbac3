import { test } from "node:test";
import assert from "node:assert/strict";
import { buildPrompt, formatPrompt, formatPrompts, promptRegions } from "../../src/prompts/promptBuilder.ts";
import { MockSidecar } from "../doubles/mockSidecar.ts";

const Q = "Fill the blank with one word: The capital of France is ____.";

test("baseline prompt is byte-exact", () => {
  assert.equal(
    buildPrompt(Q, "baseline"),
    "Answer with exactly one English word.\nQuestion: Fill the blank with one word: The capital of France is ____.\nAnswer:",
  );
});

test("negative prompt is byte-exact and quotes X verbatim", () => {
  assert.equal(
    buildPrompt(Q, "negative", "Paris"),
    'Answer with exactly one English word.\nDo not use the word "Paris" anywhere in your answer.\nQuestion: Fill the blank with one word: The capital of France is ____.\nAnswer:',
  );
});

test("prompts have no trailing newline or space", () => {
  for (const p of [buildPrompt(Q, "baseline"), buildPrompt(Q, "negative", "Paris")]) {
    assert.ok(p.endsWith("Answer:"));
    assert.equal(p.includes("\r"), false);
  }
});

test("negative without a target and multi-line questions are rejected", () => {
  assert.throws(() => buildPrompt(Q, "negative"), /needs a target/);
  assert.throws(() => buildPrompt("a\nb", "baseline"), /one line/);
});

test("raw format returns the text unchanged without calling the sidecar", async () => {
  const sc = new MockSidecar();
  assert.equal(await formatPrompt(sc, "hello", "raw"), "hello");
  assert.equal(sc.calls.length, 0);
});

test("chat format goes through one chat_template call for all texts", async () => {
  const sc = new MockSidecar();
  const out = await formatPrompts(sc, ["a", "b"], "chat", null);
  assert.deepEqual(out, ["<|user|>a\n<|assistant|>", "<|user|>b\n<|assistant|>"]);
  assert.equal(sc.calls.length, 1);
  assert.equal(sc.calls[0].op, "chat_template");
  assert.deepEqual(sc.calls[0].args, { texts: ["a", "b"], system: null });
});

test("prompt regions locate instruction, negation, target and question inside a chat rendering", () => {
  const raw = buildPrompt(Q, "negative", "Paris");
  const chat = `<|im_start|>user\n${raw}<|im_end|>\n<|im_start|>assistant\n`;
  const r = promptRegions(chat, Q, "negative", "Paris");
  const cut = (x: { start: number; end: number } | null) => (x ? chat.slice(x.start, x.end) : null);
  assert.equal(cut(r.instruction), 'Do not use the word "Paris" anywhere in your answer.');
  assert.equal(cut(r.negation), "Do not use");
  assert.equal(cut(r.target), "Paris");
  assert.equal(cut(r.question), Q);
  const base = buildPrompt(Q, "baseline");
  const b = promptRegions(base, Q, "baseline");
  assert.equal(b.instruction, null);
  assert.equal(base.slice(b.question.start, b.question.end), Q);
});
