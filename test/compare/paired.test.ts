import { test } from "node:test";
import assert from "node:assert/strict";
import { pairedDifferences, pairPrompts } from "../../src/compare/paired.ts";
import { unpairedDifferences } from "../../src/compare/unpaired.ts";
import { CIBook } from "../../src/report/ciBook.ts";
import { spread, view } from "./views.ts";

const EDGES = [0, 0.2, 0.4, 0.6, 0.8, 1];
const close = (a: number | null, b: number, tol = 1e-6) => assert.ok(a !== null && Math.abs(a - b) <= tol, `${a} vs ${b}`);

test("when two runs share some prompts then only those are paired, in id order, and the rest are counted", () => {
  const a = [view("c", 0.1, 1), view("a", 0.2, 2), view("b", 0.3, 3)];
  const b = [view("b", 0.5, 1), view("d", 0.6, 1), view("a", 0.7, 1)];
  const p = pairPrompts(a, b);
  assert.deepEqual(p.pairs.map((x) => x.prompt_id), ["a", "b"]);
  assert.equal(p.pairs[0].b.p0, 0.7);
  assert.equal(p.only_a, 1);
  assert.equal(p.only_b, 1);
});

test("when run B is run A with every P0 shifted by 0.05 then P0 differs by exactly 0.05, the slope by 0 and the intercept by −0.05·slope, in every resample", () => {
  const a = spread(30);
  const b = a.map((v) => ({ ...v, p0: v.p0 + 0.05 }));
  const d = pairedDifferences(pairPrompts(a, b).pairs, new CIBook(200, 7), "B_minus_A");
  assert.equal(d.n_prompts, 30);
  close(d.mean_difference.p0.estimate, 0.05);
  close(d.mean_difference.p0.ci_low, 0.05);
  close(d.mean_difference.p0.ci_high, 0.05);
  close(d.logistic.slope_difference.estimate, 0, 1e-5);
  close(d.logistic.slope_difference.ci_low, 0, 1e-5);
  close(d.logistic.slope_difference.ci_high, 0, 1e-5);
  const slope = d.logistic.slope_a.estimate!;
  assert.ok(slope > 1, `violations rise with P0, slope ${slope}`);
  close(d.logistic.intercept_difference.estimate, -0.05 * slope, 1e-5);
  close(d.outcome_agreement.estimate, 1);
  close(d.mean_difference.violation_rate.estimate, 0);
});

test("when B violates 2 samples more than A on every prompt then the paired CI is tight around +2/16 and the by-bin CI of the same data is wider", () => {
  // Prompts differ wildly from each other (what the prompts share), but B − A is the same on each.
  const a = spread(40, "p", (_p0, i) => (i * 5) % 13);
  const b = a.map((v) => ({ ...v, neg: { ...v.neg!, violation_rate: v.neg!.violation_rate + 2 / 16 } }));
  const book = new CIBook(400, 3);
  const paired = pairedDifferences(pairPrompts(a, b).pairs, book, "B_minus_A").mean_difference.violation_rate;
  close(paired.estimate, 0.125);
  close(paired.ci_low, 0.125);
  close(paired.ci_high, 0.125);
  const byBin = unpairedDifferences(a, b, EDGES, book, "B_minus_A").by_bin;
  for (const bin of byBin) {
    close(bin.difference.estimate, 0.125, 1e-9);
    assert.ok(bin.difference.ci_high! - bin.difference.ci_low! > 0.05, `bin ${bin.bin}: [${bin.difference.ci_low}, ${bin.difference.ci_high}]`);
  }
  assert.ok(book.rows.some((r) => r.metric === "paired.violation_rate.b_minus_a" && r.group === "B_minus_A"));
});
