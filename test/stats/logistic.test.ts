import { test } from "node:test";
import assert from "node:assert/strict";
import { fitLogistic, fitLogisticWithCI, predict, sigmoid, type BinomialPoint } from "../../src/stats/logistic.ts";
import { Prng } from "../../src/util/prng.ts";

/** 2,500 prompts × 16 samples from σ(−2.40 + 2.27·P0) with P0 uniform, as in the prior work. */
function simulate(nPrompts: number, samples: number, a: number, b: number, seed: number): BinomialPoint[] {
  const r = new Prng(seed, "sim");
  return Array.from({ length: nPrompts }, () => {
    const x = r.next();
    const p = sigmoid(a + b * x);
    let k = 0;
    for (let s = 0; s < samples; s++) if (r.next() < p) k++;
    return { x, k, n: samples };
  });
}

test("recovers the prior work's coefficients, both inside their 95% bootstrap CIs", () => {
  // Seed 7 is a typical draw; the coverage test below shows no seed is needed to make this pass.
  const pts = simulate(2500, 16, -2.4, 2.27, 7);
  const res = fitLogisticWithCI(pts, { B: 1000, seed: 42 });
  assert.ok(res.fit.converged);
  assert.ok(res.slope.low < 2.27 && 2.27 < res.slope.high, JSON.stringify(res.slope));
  assert.ok(res.intercept.low < -2.4 && -2.4 < res.intercept.high, JSON.stringify(res.intercept));
  assert.ok(Math.abs(res.fit.slope - 2.27) < 0.3);
  // Bootstrap and Wald intervals agree for a well-specified model.
  assert.ok(Math.abs(res.slope.high - res.slope.low - (res.slope.waldHigh - res.slope.waldLow)) < 0.1);
  assert.equal(res.nonConverged, 0);
  assert.equal(res.fit.nSamples, 40000);
});

test("the fit is unbiased: over 100 simulated studies the Wald 95% CI covers the true slope ≥ 90% of the time", () => {
  let covered = 0;
  let sum = 0;
  for (let seed = 100; seed < 200; seed++) {
    const f = fitLogistic(simulate(2500, 16, -2.4, 2.27, seed));
    sum += f.slope;
    if (Math.abs(f.slope - 2.27) < 1.96 * f.seSlope) covered++;
  }
  assert.ok(covered >= 90, `covered ${covered}/100`);
  assert.ok(Math.abs(sum / 100 - 2.27) < 0.03, `mean slope ${sum / 100}`);
});

test("same seed gives identical CIs", () => {
  const pts = simulate(300, 16, -1, 2, 5);
  const a = fitLogisticWithCI(pts, { B: 200, seed: 1 });
  const b = fitLogisticWithCI(pts, { B: 200, seed: 1 });
  assert.deepEqual(a, b);
});

test("slope CI narrows with more prompts", () => {
  const w = [200, 1600].map((n) => {
    const r = fitLogisticWithCI(simulate(n, 16, -2.4, 2.27, n), { B: 300, seed: 3 });
    return r.slope.high - r.slope.low;
  });
  assert.ok(w[0] > 2 * w[1], w.join(","));
});

test("matches a known maximum-likelihood solution", () => {
  // Symmetric data: at x=0 half succeed, at x=1 three quarters ⇒ a = 0, b = log 3.
  const fit = fitLogistic([
    { x: 0, k: 50, n: 100 },
    { x: 1, k: 75, n: 100 },
  ]);
  assert.ok(fit.converged);
  assert.ok(Math.abs(fit.intercept) < 1e-9);
  assert.ok(Math.abs(fit.slope - Math.log(3)) < 1e-9);
  assert.ok(Math.abs(predict(fit, 1) - 0.75) < 1e-9);
  // Wald SE for two groups: sqrt(1/(n p(1-p))) summed per group.
  assert.ok(Math.abs(fit.seIntercept - Math.sqrt(1 / 25)) < 1e-9);
  assert.ok(Math.abs(fit.seSlope - Math.sqrt(1 / 25 + 1 / 18.75)) < 1e-9);
});

test("separated data are flagged as not converged; empty data give NaN", () => {
  const sep = fitLogistic([
    { x: 0, k: 0, n: 10 },
    { x: 0.4, k: 0, n: 10 },
    { x: 0.6, k: 10, n: 10 },
    { x: 1, k: 10, n: 10 },
  ]);
  assert.equal(sep.converged, false);
  assert.ok(Number.isNaN(fitLogistic([]).slope));
  assert.throws(() => fitLogistic([{ x: 0, k: 3, n: 2 }]), RangeError);
});

test("when every sample sits at one P0 then the fit is singular, not a converged zero slope", () => {
  const f = fitLogistic([
    { x: 0.5, k: 3, n: 16 },
    { x: 0.5, k: 9, n: 16 },
  ]);
  assert.equal(f.singular, true);
  assert.equal(f.converged, false);
  assert.ok(Number.isNaN(f.slope) && Number.isNaN(f.seSlope));
  assert.ok(Number.isFinite(f.logLik));
  assert.equal(fitLogistic([{ x: 0, k: 5, n: 10 }, { x: 1, k: 6, n: 10 }]).singular, false);
});

test("when many bootstrap resamples of 3 prompts are singular then they are excluded from the CIs and counted", () => {
  const pts: BinomialPoint[] = [
    { x: 0.1, k: 2, n: 16 },
    { x: 0.5, k: 8, n: 16 },
    { x: 0.9, k: 14, n: 16 },
  ];
  const B = 900;
  const res = fitLogisticWithCI(pts, { B, seed: 11 }, [0.5]);
  assert.equal(res.B, B);
  // A resample draws one prompt three times with probability 3/27.
  assert.ok(res.nSingular > 60 && res.nSingular < 140, `nSingular ${res.nSingular}`);
  assert.equal(res.nExcluded, res.nSingular + res.nonConverged);
  assert.equal(res.slope.valid, B - res.nExcluded);
  assert.equal(res.predictions[0].valid, B - res.nExcluded);
  // A singular resample's slope 0 would sit far below every real refit (all slopes here are > 3).
  assert.ok(res.slope.low > 3, JSON.stringify(res.slope));
  assert.ok(res.fit.converged && !res.fit.singular);
});
