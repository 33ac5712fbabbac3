import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { qwenTokenizer, type Tokenizer } from "../../src/tokenizer/hfTokenizer.ts";
import { detectInIds, detectInText } from "../../src/detect/detector.ts";
import { tokenSpans } from "../../src/detect/tokenSpans.ts";
import { MappingError } from "../../src/errors.ts";
import { BYTE_TO_CHAR } from "../../src/tokenizer/byteLevel.ts";

const tok = qwenTokenizer();
/** Ids of pieces encoded separately and concatenated: forces X over several tokens. */
const pieces = (...parts: string[]) => parts.flatMap((p) => tok.encode(p));

test("X as one token: span, token indices and decision step", () => {
  const ids = tok.encode(" Paris.");
  const d = detectInIds("paris", ids, tok);
  assert.equal(d.text, " Paris.");
  assert.equal(d.present, true);
  assert.deepEqual(d.matches, [{ char_start: 1, char_end: 6, token_start: 0, token_end: 0 }]);
  assert.equal(d.decision_step, 0);
});

test("X split over several tokens maps to the whole run", () => {
  const ids = pieces("I say", " sp", "ac", "e", "-time");
  const sp = tok.encode("I say").length;
  const d = detectInIds("space", ids, tok);
  assert.equal(d.text, "I say space-time");
  assert.deepEqual(d.matches, [{ char_start: 6, char_end: 11, token_start: sp, token_end: sp + 2 }]);
  assert.equal(d.decision_step, sp);
});

test("the first of two occurrences sets the decision step", () => {
  const ids = pieces("Well", ",", " space", " and", " Space", ".");
  const d = detectInIds("space", ids, tok);
  assert.equal(d.matches.length, 2);
  assert.equal(d.matches[0].token_start, 2);
  assert.equal(d.matches[1].token_start, 4);
  assert.equal(d.decision_step, 2);
});

test("absent X gives decision step 0 and no matches", () => {
  const d = detectInIds("space", tok.encode(" spacetime space2"), tok);
  assert.equal(d.present, false);
  assert.deepEqual(d.matches, []);
  assert.equal(d.decision_step, 0);
});

test("multi-byte text around X: code point offsets, right tokens", () => {
  const text = "🎉世界 café space 👍🏽!";
  const ids = tok.encode(text);
  const d = detectInIds("space", ids, tok);
  assert.equal(d.text, text);
  assert.deepEqual([d.matches[0].char_start, d.matches[0].char_end], [9, 14]); // 🎉 is one code point
  const run = ids.slice(d.matches[0].token_start as number, (d.matches[0].token_end as number) + 1);
  assert.equal(tok.decode(run).trim(), "space");
});

test("a target with an accented letter split across byte tokens maps to all its bytes", () => {
  // "é" = C3 A9: force the two bytes into separate tokens, then "lan"
  const pair = findByteTokens("é");
  const ids = [...tok.encode("Say "), ...pair, ...tok.encode("lan now")];
  const d = detectInIds("élan", ids, tok);
  assert.equal(d.text, "Say élan now");
  const start = tok.encode("Say ").length;
  assert.equal(d.matches[0].token_start, start, "the token with the first byte of é starts the match");
  assert.equal(tok.decode(ids.slice(d.matches[0].token_start as number, (d.matches[0].token_end as number) + 1)).includes("élan"), true);
});

test("an emoji split over tokens at the end of X's neighbourhood keeps spans monotone and covering", () => {
  const ids = tok.encode("héllo 世界 🎉 wörld");
  const { spans, text } = tokenSpans(tok, ids);
  for (let i = 1; i < spans.length; i++) assert.ok(spans[i].start >= spans[i - 1].start);
  // every character is covered by some token
  for (let c = 0; c < text.length; c++) assert.ok(spans.some((s) => s.start <= c && c < s.end), `char ${c}`);
  const emojiAt = text.indexOf("🎉");
  const touching = spans.map((s, i) => (s.start <= emojiAt && emojiAt < s.end ? i : -1)).filter((i) => i >= 0);
  assert.ok(touching.length >= 2, "the emoji's bytes come from several tokens, all of which touch it");
  const d = detectInIds("wörld", ids, tok);
  assert.equal(d.matches[0].char_start, 11);
});

test("X right after a split emoji still maps", () => {
  const emoji = findByteTokens("🎉");
  const ids = [...emoji, ...tok.encode("space")];
  const d = detectInIds("space", ids, tok);
  assert.equal(d.text, "🎉space");
  assert.deepEqual(d.matches[0], { char_start: 1, char_end: 6, token_start: emoji.length, token_end: emoji.length });
});

test("text-only detection reports char spans and null token fields", () => {
  const d = detectInText("space", "A SPACE! 🎉 space");
  assert.equal(d.present, true);
  assert.deepEqual(d.matches, [
    { char_start: 2, char_end: 7, token_start: null, token_end: null },
    { char_start: 11, char_end: 16, token_start: null, token_end: null },
  ]);
  assert.equal(d.decision_step, null);
});

test("special tokens are skipped in the text and keep their token index", () => {
  const ids = [151644, ...tok.encode(" space"), 151645];
  const d = detectInIds("space", ids, tok);
  assert.equal(d.text, " space");
  assert.equal(d.decision_step, 1);
});

/** A tokenizer whose partial decodes disagree with the full text: mapping must fail loudly. */
class LyingTokenizer implements Tokenizer {
  constructor(private readonly n: number) {}
  encode(): number[] {
    return [];
  }
  decode(ids: readonly number[]): string {
    return ids.length === this.n ? "the word space is here" : "#".repeat(ids.length);
  }
}

test("an unmappable match writes a mapping error record and throws MappingError", () => {
  const dir = mkdtempSync(join(tmpdir(), "maperr-"));
  const file = join(dir, "runs", "errors", "mapping_errors.jsonl");
  const ids = Array.from({ length: 12 }, (_, i) => i);
  assert.throws(
    () => detectInIds("space", ids, new LyingTokenizer(12), { mappingErrorFile: file, context: { prompt_id: "p1" } }),
    (e: unknown) => e instanceof MappingError && /cannot map "space"/.test(e.message),
  );
  assert.ok(existsSync(file));
  const rec = JSON.parse(readFileSync(file, "utf8").trim());
  assert.equal(rec.prompt_id, "p1");
  assert.equal(rec.char_start, 9);
  assert.deepEqual(rec.token_ids, ids);
});

test("brute force finds the shortest run touching the match when spans do not verify", () => {
  // prefixes (which start at token 0) decode to nothing; a run shows the word only when it holds token 3
  const t: Tokenizer = {
    encode: () => [],
    decode: (ids) => (ids.length === 6 ? "xx space" : ids[0] !== 0 && ids.includes(3) ? "space" : ""),
  };
  const d = detectInIds("space", [0, 1, 2, 3, 4, 5], t);
  assert.deepEqual([d.matches[0].token_start, d.matches[0].token_end], [3, 5]);
});

/** Single-byte token ids whose concatenation is the UTF-8 of s. */
function findByteTokens(s: string): number[] {
  const out = [...new TextEncoder().encode(s)].map((b) => tok.tokenToId(BYTE_TO_CHAR[b]) as number);
  assert.ok(out.every((id) => id !== undefined));
  assert.equal(tok.decode(out), s);
  return out;
}
