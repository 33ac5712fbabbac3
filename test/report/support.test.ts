import { test } from "node:test";
import assert from "node:assert/strict";
import { binSummary, type BinForClaim } from "../../src/report/binClaims.ts";
import { inRange, isSparse, MIN_BIN_PROMPTS, observedRange, spanGrid } from "../../src/report/support.ts";

const bin = (b: number, n: number, estimate: number | null): BinForClaim => ({
  bin: b, label: `b${b}`, n_prompts: n, sparse: isSparse(n), estimate, ci_low: estimate, ci_high: estimate, n,
});

test("a bin is sparse below MIN_BIN_PROMPTS (3) prompts and supported at it", () => {
  assert.equal(MIN_BIN_PROMPTS, 3);
  assert.equal(isSparse(2), true);
  assert.equal(isSparse(3), false);
  assert.equal(isSparse(0), true);
});

test("when a bin is sparse then the per-bin comparison leaves it out and names it", () => {
  // The sparse top bin has the highest rate: a claim that used it would name it.
  const s = binSummary([bin(0, 5, 0.1), bin(1, 4, 0.3), bin(2, 0, null), bin(3, 3, 0.2), bin(4, 2, 0.9)]);
  assert.deepEqual(s.compared, ["b0", "b1", "b3"]);
  assert.deepEqual(s.sparse_bins, [{ bin: 4, label: "b4", n_prompts: 2 }]);
  assert.deepEqual(s.empty_bins, ["b2"]);
  assert.equal(s.lowest_pressure?.label, "b0");
  assert.equal(s.highest_pressure?.label, "b3");
  assert.ok(Math.abs(s.difference! - 0.1) < 1e-12);
  assert.equal(s.highest_rate?.label, "b1");
  assert.equal(s.lowest_rate?.label, "b0");
});

test("when only one bin is supported then nothing is compared", () => {
  const s = binSummary([bin(0, 1, 0.1), bin(1, 6, 0.3), bin(2, 2, 0.8)]);
  assert.deepEqual(s.compared, ["b1"]);
  assert.equal(s.highest_pressure, null);
  assert.equal(s.difference, null);
});

test("the observed range ignores non-finite values; the grid spans it end to end", () => {
  const r = observedRange([0.4, NaN, 0.2, 0.65, Infinity]);
  assert.deepEqual(r, { min: 0.2, max: 0.65 });
  assert.equal(observedRange([]), null);
  const g = spanGrid(r!, 11);
  assert.equal(g.length, 11);
  assert.equal(g[0], 0.2);
  assert.equal(g[10], 0.65);
  assert.ok(g.every((x) => inRange(x, r)));
  assert.equal(inRange(0.1, r), false);
  assert.deepEqual(spanGrid({ min: 0.3, max: 0.3 }), [0.3]);
});
