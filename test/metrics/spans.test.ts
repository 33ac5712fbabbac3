import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { buildPrompt, prohibitionLine } from "../../src/prompts/promptBuilder.ts";
import { qwenTokenizer, qwenTokenizerDir } from "../../src/tokenizer/hfTokenizer.ts";
import { codePointToUtf16, offsetsByDecode, tokenSpans, tokensOverlapping, type Range } from "../../src/metrics/spans.ts";
import { needVenv } from "../fixtures/requirements.ts";

const Q = "Fill the blank with one word: The capital of France is ____.";
const X = "Paris";
const tok = qwenTokenizer();
const dec = (ids: readonly number[]) => tok.decode(ids, { skipSpecialTokens: false });

function spansOf(text: string) {
  const ids = tok.encode(text);
  const offsets = offsetsByDecode(dec, ids, text);
  return { ids, offsets, spans: tokenSpans(text, X, Q, offsets) };
}
const part = (ids: number[], [s, e]: Range) => dec(ids.slice(s, e));

test("when the exact negative prompt is tokenized by Qwen then each span decodes to its part", () => {
  const text = buildPrompt(Q, "negative", X);
  const { ids, spans } = spansOf(text);
  assert.equal(part(ids, spans.instruction), `${prohibitionLine(X)}\n`); // ".\n" is one Qwen token
  assert.equal(part(ids, spans.negation), "Do not use");
  assert.match(part(ids, spans.target), /^"?Paris"?$/);
  assert.equal(part(ids, spans.question).trim(), Q);
  // spans nest as they should
  assert.ok(spans.negation[0] === spans.instruction[0] && spans.negation[1] < spans.target[0]);
  assert.ok(spans.target[1] <= spans.instruction[1] && spans.instruction[1] <= spans.question[0]);
});

test("when the prompt sits inside a chat template then spans shift by the template tokens", () => {
  const raw = buildPrompt(Q, "negative", X);
  const chat = `<|im_start|>user\n${raw}<|im_end|>\n<|im_start|>assistant\n`;
  const a = spansOf(raw);
  const b = spansOf(chat);
  const shift = b.spans.instruction[0] - a.spans.instruction[0];
  assert.ok(shift >= 3, `shift ${shift}`);
  for (const k of ["instruction", "negation", "target", "question"] as const) {
    assert.deepEqual(b.spans[k], [a.spans[k][0] + shift, a.spans[k][1] + shift], k);
    assert.equal(part(b.ids, b.spans[k]), part(a.ids, a.spans[k]));
  }
});

test("when a range touches no token then tokensOverlapping refuses", () => {
  assert.deepEqual(tokensOverlapping([[0, 2], [2, 5], [5, 9]], [3, 6]), [1, 3]);
  assert.throws(() => tokensOverlapping([[0, 2]], [4, 6]), /no token/);
});

test("when offsets are code points then they convert to UTF-16 indices", () => {
  assert.deepEqual(codePointToUtf16("a😀b", [[0, 1], [1, 2], [2, 3]]), [[0, 1], [1, 3], [3, 4]]);
});

test("when Python's tokenizer offsets are used instead then the spans are the same", { skip: needVenv() }, () => {
  const text = buildPrompt(Q, "negative", X);
  const script = `
import json, sys
from transformers import PreTrainedTokenizerFast
t = PreTrainedTokenizerFast(tokenizer_file=sys.argv[1])
e = t(sys.argv[2], add_special_tokens=False, return_offsets_mapping=True)
print(json.dumps({"ids": e["input_ids"], "offsets": e["offset_mapping"]}))
`;
  const out = JSON.parse(execFileSync(".venv/bin/python", ["-c", script, join(qwenTokenizerDir(), "tokenizer.json"), text], { encoding: "utf8" }));
  const mine = spansOf(text);
  assert.deepEqual(out.ids, mine.ids);
  assert.deepEqual(tokenSpans(text, X, Q, codePointToUtf16(text, out.offsets)), mine.spans);
});
