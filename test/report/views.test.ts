import { test } from "node:test";
import assert from "node:assert/strict";
import { bandOf, bandRange } from "../../src/report/views.ts";
import { pearson } from "../../src/report/tables.ts";

test("layer bands are thirds: 28 layers split 0–9, 10–18, 19–27", () => {
  assert.deepEqual(bandRange("early", 28), [0, 9]);
  assert.deepEqual(bandRange("middle", 28), [10, 18]);
  assert.deepEqual(bandRange("late", 28), [19, 27]);
  assert.equal(bandOf(9, 28), "early");
  assert.equal(bandOf(19, 28), "late");
});

test("pearson is ±1 on exact lines and NaN for a constant side", () => {
  assert.ok(Math.abs(pearson([1, 2, 3], [2, 4, 6]) - 1) < 1e-12);
  assert.ok(Math.abs(pearson([1, 2, 3], [3, 2, 1]) + 1) < 1e-12);
  assert.ok(Number.isNaN(pearson([1, 1, 1], [1, 2, 3])));
});
