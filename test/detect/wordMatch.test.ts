import { test } from "node:test";
import assert from "node:assert/strict";
import { containsCaseInsensitive, findWord, toCodePointIndex } from "../../src/detect/wordMatch.ts";

const has = (text: string, x = "space") => findWord(text, x).length > 0;

test("a word glued to letters or digits is not a match", () => {
  assert.equal(has("spacetime"), false);
  assert.equal(has("space2"), false);
  assert.equal(has("hyperspace"), false);
  assert.equal(has("2space"), false);
  assert.equal(has("space²"), false, "superscript two is numeric, as for str.isalnum");
  assert.equal(has("世界space"), false, "CJK ideographs are letters");
});

test("a word next to punctuation, space or text edges is a match", () => {
  for (const s of ["space-time", "space.", "space,", " Space", "SPACE!", "space", "(space)", "space_", '"Space"', "space\n"]) {
    assert.equal(has(s), true, JSON.stringify(s));
  }
});

test("surrogate-pair neighbours are judged as whole code points", () => {
  assert.equal(has("𝐀space"), false, "mathematical bold A is a letter outside the BMP");
  assert.equal(has("space𝟏"), false, "mathematical bold one is a number outside the BMP");
  assert.equal(has("🎉space🎉"), true, "emoji are not alphanumeric");
});

test("combining marks belong to the word they follow", () => {
  assert.equal(has("cafe\u0301", "cafe"), false, "decomposed café does not contain the word cafe");
  assert.equal(has("cafe\u0301 space"), true);
  assert.equal(has("e\u0301space"), false, "a mark before the match is judged by its base letter");
  assert.equal(has("!\u0301space"), true, "a mark on punctuation does not make a word");
});

test("matching is case-insensitive and finds every occurrence in order", () => {
  const m = findWord("Space, then SPACE and space.", "sPaCe");
  assert.deepEqual(m, [
    { start: 0, end: 5 },
    { start: 12, end: 17 },
    { start: 22, end: 27 },
  ]);
  assert.deepEqual(findWord("Élan élan", "élan"), [
    { start: 0, end: 4 },
    { start: 5, end: 9 },
  ]);
});

test("a failed boundary candidate does not hide a later valid occurrence", () => {
  assert.deepEqual(findWord("spacespace space", "space"), [{ start: 11, end: 16 }]);
  assert.deepEqual(findWord("aaa aa", "aa"), [{ start: 4, end: 6 }]);
});

test("regex metacharacters in the target are literal", () => {
  assert.equal(has("a.b c", "a.b"), true);
  assert.equal(has("axb", "a.b"), false);
  assert.equal(containsCaseInsensitive("X(Y)", "x(y)"), true);
});

test("an empty target is rejected", () => {
  assert.throws(() => findWord("text", ""), /empty/);
});

test("JS indices convert to code point indices across astral characters", () => {
  const s = "🎉 space 𝐀x";
  assert.equal(toCodePointIndex(s, 3), 2);
  assert.equal(toCodePointIndex(s, s.length), [...s].length);
  assert.equal(toCodePointIndex(s, 0), 0);
});

test("when the text has İ then istanbul matches it, as Python's re.IGNORECASE does", () => {
  assert.deepEqual(findWord("İstanbul", "istanbul"), [{ start: 0, end: 8 }]);
  assert.deepEqual(findWord("istanbul", "İstanbul"), [{ start: 0, end: 8 }]);
  assert.deepEqual(findWord("ıstanbul", "istanbul"), [{ start: 0, end: 8 }], "dotless ı folds with i, as in Python");
  assert.equal(has("İstanbul\u0301", "istanbul"), false, "a combining mark after X still joins the word");
  assert.equal(has("İstanbul's", "istanbul"), true);
  assert.equal(containsCaseInsensitive("from İSTANBUL", "istanbul"), true);
});

test("when folding would change UTF-16 length the spans still index the original text", () => {
  // "İ".toLowerCase() is two code units, so lower-cased indices drift by one per İ before a match.
  const text = "İİ İzmir, then İSTANBUL and 𐐀 istanbul.";
  const spans = findWord(text, "istanbul");
  assert.deepEqual(spans.map((s) => text.slice(s.start, s.end)), ["İSTANBUL", "istanbul"]);
  assert.deepEqual(spans[0], { start: 15, end: 23 });
  const astral = "𐐀𐐨 x";
  assert.deepEqual(findWord(astral, "𐐨𐐀"), [{ start: 0, end: 4 }], "Deseret capitals fold to their small letters");
});

test("ß matches ẞ but not SS: only one-to-one folds, as in Python's re", () => {
  assert.deepEqual(findWord("STRAẞE", "straße"), [{ start: 0, end: 6 }]);
  assert.deepEqual(findWord("STRASSE", "straße"), []);
  assert.deepEqual(findWord("strasse", "STRASSE"), [{ start: 0, end: 7 }]);
});
