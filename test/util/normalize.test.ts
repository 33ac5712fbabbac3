import { test } from "node:test";
import assert from "node:assert/strict";
import { isAlphabetic, normalizeForMatch } from "../../src/util/normalize.ts";

test("normalizeForMatch: NFKC, lower case, punctuation to spaces, collapsed and stripped", () => {
  assert.equal(normalizeForMatch("  Paris. "), "paris");
  assert.equal(normalizeForMatch("SPACE-time!"), "space time");
  assert.equal(normalizeForMatch("ﬁne"), "fine"); // NFKC folds the ligature
  assert.equal(normalizeForMatch("“Quoted,”  word…"), "quoted word");
  assert.equal(normalizeForMatch("Ｐａｒｉｓ"), "paris"); // full-width forms
  assert.equal(normalizeForMatch("\tNew\nYork\t"), "new york");
  assert.equal(normalizeForMatch("..."), "");
});

test("isAlphabetic needs letters only, Unicode-aware", () => {
  assert.ok(isAlphabetic("Paris") && isAlphabetic("café"));
  assert.ok(!isAlphabetic("space2") && !isAlphabetic("space-time") && !isAlphabetic(""));
});
