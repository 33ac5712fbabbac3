import { test } from "node:test";
import assert from "node:assert/strict";
import { layerAtDepth, relativeDepth } from "../../src/compare/depth.ts";
import { signChanges, type LayerEstimate } from "../../src/compare/signChange.ts";

const s = (vals: (number | null)[], ci = 0.01): LayerEstimate[] =>
  vals.map((v, layer) => ({ layer, estimate: v, ci_low: v === null ? null : v - ci, ci_high: v === null ? null : v + ci }));

test("relative depth puts the embeddings at 0 and the last block at 1 in models of any depth", () => {
  for (const n of [3, 24, 28]) {
    assert.equal(relativeDepth(-1, n), 0);
    assert.equal(relativeDepth(n - 1, n), 1);
    assert.equal(layerAtDepth(relativeDepth(5, n), n), 5);
  }
  assert.throws(() => relativeDepth(0, 0), RangeError);
});

test("when ΔP goes from negative to positive between layers 1 and 2 then the crossing is interpolated between them", () => {
  const [c, ...rest] = signChanges(s([-0.1, -0.05, 0.1, 0.2]), 4);
  assert.deepEqual(rest, []);
  assert.equal(c.from_layer, 1);
  assert.equal(c.to_layer, 2);
  assert.equal(c.direction, "negative_to_positive");
  assert.ok(Math.abs(c.layer_crossing - (1 + 0.05 / 0.15)) < 1e-12);
  assert.ok(Math.abs(c.depth_crossing - (2 + 0.05 / 0.15) / 4) < 1e-12);
  assert.equal(c.both_cis_exclude_zero, true);
});

test("when layers are unknown or exactly 0 they are skipped, and every change is listed in layer order", () => {
  const cs = signChanges(s([0.2, null, 0, -0.1, -0.2, 0.3]).reverse(), 6);
  assert.deepEqual(cs.map((c) => [c.from_layer, c.to_layer, c.direction]), [[0, 3, "positive_to_negative"], [4, 5, "negative_to_positive"]]);
});

test("when a neighbouring CI includes 0 the change is flagged as within the noise; one sign throughout gives none", () => {
  assert.equal(signChanges(s([-0.005, 0.1], 0.01), 2)[0].both_cis_exclude_zero, false);
  assert.deepEqual(signChanges(s([0.1, 0.2, 0.05]), 3), []);
  assert.deepEqual(signChanges([], 3), []);
});
