import { test } from "node:test";
import assert from "node:assert/strict";
import { twoSampleBootstrap, unpairedDifferences, weightedViolation } from "../../src/compare/unpaired.ts";
import { CIBook } from "../../src/report/ciBook.ts";
import { mean } from "../../src/stats/bootstrap.ts";
import { spread, view } from "./views.ts";

const EDGES = [0, 0.2, 0.4, 0.6, 0.8, 1];
const opts = { B: 300, seed: 11, stream: "t" };

test("when both samples are constant then the difference of means has a zero-width interval at the difference", () => {
  const [d] = twoSampleBootstrap([1, 1, 1], [3, 3, 3, 3], (a, b) => [mean(b) - mean(a)], opts);
  assert.deepEqual([d.estimate, d.low, d.high, d.n, d.valid], [2, 2, 2, 7, 300]);
});

test("when the seed and stream are the same then the interval is the same, and another stream gives another", () => {
  const a = [0.1, 0.5, 0.2, 0.9, 0.4];
  const b = [0.3, 0.8, 0.6, 0.7];
  const stat = (x: readonly number[], y: readonly number[]) => [mean(y) - mean(x)];
  assert.deepEqual(twoSampleBootstrap(a, b, stat, opts), twoSampleBootstrap(a, b, stat, opts));
  assert.notDeepEqual(twoSampleBootstrap(a, b, stat, opts)[0].low, twoSampleBootstrap(a, b, stat, { ...opts, stream: "u" })[0].low);
  const [d] = twoSampleBootstrap(a, b, stat, opts);
  assert.ok(d.low < d.estimate && d.estimate < d.high);
});

test("when either sample is empty then the interval is unknown", () => {
  const [d] = twoSampleBootstrap([], [1, 2], (a, b) => [mean(b) - mean(a)], opts);
  assert.ok(Number.isNaN(d.low) && Number.isNaN(d.high));
  assert.equal(d.valid, 0);
});

test("the violation rate of a bin weighs prompts by their samples", () => {
  assert.equal(weightedViolation([view("a", 0.1, 4, 8), view("b", 0.1, 0, 24)]), 4 / 32);
  assert.ok(Number.isNaN(weightedViolation([])));
});

test("when a bin has fewer than 3 prompts in either run then its difference is flagged sparse", () => {
  const a = spread(25, "a");
  const b = spread(25, "b").filter((v) => v.bin !== 4 || v.prompt_id.endsWith("4"));
  const d = unpairedDifferences(a, b, EDGES, new CIBook(100, 1), "B_minus_A");
  assert.deepEqual(d.by_bin.map((x) => [x.n_a, x.n_b, x.sparse]), [[5, 5, false], [5, 5, false], [5, 5, false], [5, 5, false], [5, 1, true]]);
  // Same generating rule in both runs: the slope difference CI covers 0.
  assert.ok(d.logistic.slope_difference.ci_low! < 0 && d.logistic.slope_difference.ci_high! > 0, JSON.stringify(d.logistic.slope_difference));
});
