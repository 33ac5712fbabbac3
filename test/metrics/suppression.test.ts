import { test } from "node:test";
import assert from "node:assert/strict";
import { suppression } from "../../src/metrics/suppression.ts";

test("Δ, R and L for ordinary probabilities", () => {
  const s = suppression(0.8, 0.2);
  assert.ok(Math.abs(s.delta - 0.6) < 1e-12);
  assert.ok(Math.abs(s.rel_suppression - 0.75) < 1e-12);
  assert.ok(Math.abs(s.log_ratio - Math.log(4)) < 1e-12);
});

test("a prohibition that raises P gives negative suppression", () => {
  const s = suppression(0.2, 0.4);
  assert.ok(s.delta < 0 && s.rel_suppression < 0 && s.log_ratio < 0);
});

test("zeros are guarded by ε so every value is finite", () => {
  const a = suppression(0.5, 0);
  assert.ok(Math.abs(a.log_ratio - (Math.log(0.5) - Math.log(1e-9))) < 1e-9);
  assert.equal(a.rel_suppression, 1);
  const b = suppression(0, 0);
  assert.deepEqual(b, { delta: 0, rel_suppression: 0, log_ratio: 0 });
  const c = suppression(0, 0.3);
  assert.ok(Number.isFinite(c.rel_suppression) && c.rel_suppression < -1e8);
});

test("non-probabilities are rejected", () => {
  assert.throws(() => suppression(1.5, 0.1), /probability/);
  assert.throws(() => suppression(Number.NaN, 0.1), /probability/);
  assert.throws(() => suppression(0.1, -0.01), /probability/);
});
