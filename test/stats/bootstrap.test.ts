import { test } from "node:test";
import assert from "node:assert/strict";
import { bootstrap, bootstrapMean, bootstrapVector, mean, quantileSorted } from "../../src/stats/bootstrap.ts";
import { Prng } from "../../src/util/prng.ts";

function bernoulli(n: number, p: number, seed: number): number[] {
  const r = new Prng(seed, "data");
  return Array.from({ length: n }, () => (r.next() < p ? 1 : 0));
}

test("quantileSorted interpolates linearly between order statistics", () => {
  assert.equal(quantileSorted([1, 2, 3, 4, 5], 0.5), 3);
  assert.equal(quantileSorted([0, 10], 0.25), 2.5);
  assert.ok(Number.isNaN(quantileSorted([], 0.5)));
});

test("same seed gives identical intervals, another seed a different one", () => {
  const xs = bernoulli(200, 0.3, 1);
  const a = bootstrap(xs, mean, { B: 500, seed: 7, stream: "m" });
  const b = bootstrap(xs, mean, { B: 500, seed: 7, stream: "m" });
  const c = bootstrap(xs, mean, { B: 500, seed: 8, stream: "m" });
  assert.deepEqual(a, b);
  assert.notDeepEqual([a.low, a.high], [c.low, c.high]);
});

test("the interval brackets the estimate and covers the true mean", () => {
  const xs = bernoulli(400, 0.3, 2);
  const iv = bootstrap(xs, mean, { B: 1000, seed: 3 });
  assert.ok(iv.low <= iv.estimate && iv.estimate <= iv.high);
  assert.ok(iv.low < 0.3 && 0.3 < iv.high, JSON.stringify(iv));
  assert.equal(iv.n, 400);
  assert.equal(iv.valid, 1000);
});

test("interval width shrinks as the number of prompts grows", () => {
  const widths = [50, 400, 3200].map((n) => {
    const iv = bootstrap(bernoulli(n, 0.4, n), mean, { B: 400, seed: 11 });
    return iv.high - iv.low;
  });
  assert.ok(widths[0] > widths[1] && widths[1] > widths[2], widths.join(","));
  // Roughly 1/sqrt(n): an 8× larger sample about 2.8× narrower.
  assert.ok(widths[0] / widths[1] > 2 && widths[0] / widths[1] < 4, widths.join(","));
});

test("bootstrapMean agrees with the generic bootstrap of a weighted mean", () => {
  const vals = bernoulli(300, 0.5, 4).map((v, i) => v * (i % 5));
  const w = vals.map((_, i) => 1 + (i % 3));
  const fast = bootstrapMean(vals, { B: 300, seed: 9, stream: "w" }, w);
  const idx = vals.map((_, i) => i);
  const slow = bootstrap(idx, (s) => s.reduce((a, i) => a + w[i] * vals[i], 0) / s.reduce((a, i) => a + w[i], 0), {
    B: 300,
    seed: 9,
    stream: "w",
  });
  assert.ok(Math.abs(fast.estimate - slow.estimate) < 1e-12);
  assert.ok(Math.abs(fast.low - slow.low) < 1e-12 && Math.abs(fast.high - slow.high) < 1e-12);
});

test("empty input gives NaN bounds and statistics that fail on a resample are dropped", () => {
  const e = bootstrapMean([], { B: 10, seed: 1 });
  assert.ok(Number.isNaN(e.low) && e.n === 0);
  const [iv] = bootstrapVector([1, 2, 3], (s) => [s.includes(3) ? mean(s) : NaN], { B: 200, seed: 5 });
  assert.ok(iv.valid < 200 && iv.valid > 100);
  assert.ok(Number.isFinite(iv.low));
});
