import { test } from "node:test";
import assert from "node:assert/strict";
import { spansFromPrefixes } from "../../src/detect/tokenSpans.ts";

const spans = (text: string, prefixes: string[]) => spansFromPrefixes(text, prefixes).spans.map((s) => [s.start, s.end]);

test("without split characters the spans are the design's prefix-length spans", () => {
  assert.deepEqual(spans("ab cd", ["", "ab", "ab cd"]), [[0, 2], [2, 5]]);
});

test("a character split over byte-level tokens (one provisional U+FFFD) is touched by all its tokens", () => {
  // tokens: "a", E4, B8 96, "b"
  assert.deepEqual(spans("a世b", ["", "a", "a\uFFFD", "a世", "a世b"]), [[0, 1], [1, 2], [1, 2], [2, 3]]);
});

test("byte-fallback prefixes (one U+FFFD per byte) do not reach past the character in progress", () => {
  assert.deepEqual(spans("a世b", ["", "a", "a\uFFFD", "a\uFFFD\uFFFD", "a世", "a世b"]), [[0, 1], [1, 2], [1, 2], [1, 2], [2, 3]]);
});

test("an astral character is covered as one code point (two JS units)", () => {
  assert.deepEqual(spans("🎉x", ["", "\uFFFD", "\uFFFD", "🎉", "🎉x"]), [[0, 2], [0, 2], [0, 2], [2, 3]]);
});

test("a token with no visible output (a skipped special token) has an empty span", () => {
  assert.deepEqual(spans("ab", ["", "a", "a", "ab"]), [[0, 1], [1, 1], [1, 2]]);
});

test("prefixes that are not prefixes of the final text still give monotone spans covering the text", () => {
  // a decoder whose partial output disagrees with the full text; the detector's verification and
  // fallback windows then pick the right run
  const s = spans(" x y", ["", "x", " x y"]);
  assert.deepEqual(s, [[0, 1], [0, 4]]);
  assert.ok(s[1][0] >= s[0][0] && s[1][1] === 4);
});
