import { test } from "node:test";
import assert from "node:assert/strict";
import { DESIGN_SUBSET, patchRows, pressureThreshold, selectPatchSubset, type PatchCandidate } from "../../src/metrics/patching.ts";

const OPTS = { quantile: 0.75, min: 0.7, max: 0.95, seed: 42 };

function candidates(n: number): PatchCandidate[] {
  const out: PatchCandidate[] = [];
  for (let i = 0; i < n; i++) out.push({ prompt_id: `p${String(i).padStart(3, "0")}`, p0: (i % 100) / 100, outcome: i % 3 === 0 ? "success" : "failure" });
  return out;
}

/** One candidate, written on one line so a test's prompts read as a table. */
const cand = (prompt_id: string, p0: number, outcome: PatchCandidate["outcome"]): PatchCandidate => ({ prompt_id, p0, outcome });

test("when q75 of P0 is inside the bounds then it is the threshold, else it is clamped", () => {
  assert.equal(pressureThreshold([0.6, 0.7, 0.8, 0.9, 1.0], OPTS), 0.9);
  assert.equal(pressureThreshold([0.1, 0.2, 0.3], OPTS), 0.7);
  assert.equal(pressureThreshold([0.96, 0.97, 0.99, 1], OPTS), 0.95);
});

test("when the subset is drawn then it holds only high-pressure prompts, all successes and as many failures", () => {
  const all = candidates(200);
  const s = selectPatchSubset(all, OPTS);
  const high = all.filter((c) => c.p0 >= s.threshold);
  const nSucc = high.filter((c) => c.outcome === "success").length;
  assert.ok(nSucc > 0);
  assert.ok(s.items.every((c) => c.p0 >= s.threshold));
  assert.equal(s.items.filter((c) => c.outcome === "success").length, nSucc);
  assert.equal(s.items.filter((c) => c.outcome === "failure").length, nSucc);
  assert.equal(new Set(s.items.map((c) => c.prompt_id)).size, s.items.length);
});

test("when the same inputs come in another order then the subset is identical; another seed changes it", () => {
  const all = candidates(300);
  const a = selectPatchSubset(all, OPTS).items.map((c) => c.prompt_id);
  const b = selectPatchSubset(all.slice().reverse(), OPTS).items.map((c) => c.prompt_id);
  assert.deepEqual(a, b);
  const c = selectPatchSubset(all, { ...OPTS, seed: 7 }).items.map((x) => x.prompt_id);
  assert.notDeepEqual(a, c);
  assert.equal(c.length, a.length);
});

test("when failures are fewer than successes then all of both are kept", () => {
  const all = [cand("a", 0.99, "success"), cand("b", 0.98, "success"), cand("c", 0.97, "failure"), cand("d", 0.1, "failure")];
  const s = selectPatchSubset(all, OPTS);
  assert.deepEqual(s.items.map((c) => c.prompt_id).sort(), ["a", "b", "c"]);
});

test("when a patch result is turned into rows then delta and next-token flips follow the definitions", () => {
  const sum = (lp: readonly (readonly number[])[]) => lp.reduce((s, seq) => s + Math.exp(seq.reduce((a, b) => a + b, 0)), 0);
  const item = {
    layers: [0, 1],
    clean: { logprobs: [[Math.log(0.2)], [Math.log(0.5), Math.log(0.2)]], argmax: 11 },
    patched: {
      resid: { logprobs: [[[Math.log(0.3)], [Math.log(0.5), Math.log(0.2)]], [[Math.log(0.1)], [Math.log(0.1), 0]]], argmax: [11, 99] },
      attn: { logprobs: [[[Math.log(0.2)], [Math.log(0.5), Math.log(0.2)]], [[Math.log(0.2)], [Math.log(0.5), Math.log(0.2)]]], argmax: [11, 11] },
    },
  };
  const rows = patchRows({ prompt_id: "p", bin: 4, outcome: "success" }, item, sum, [11, 12]);
  assert.equal(rows.length, 4);
  const r0 = rows[0];
  assert.equal(r0.site, "resid");
  assert.ok(Math.abs(r0.p_negative - 0.3) < 1e-12);
  assert.ok(Math.abs(r0.delta_p - 0.1) < 1e-12);
  assert.equal(r0.next_token_flip, 0);
  assert.equal(rows[1].next_token_flip, 1);
  assert.ok(Math.abs(rows[1].p_patched - 0.2) < 1e-12);
  assert.deepEqual(rows.slice(2).map((r) => [r.site, r.layer, r.next_token_flip]), [["attn", 0, 0], ["attn", 1, 0]]);
});

test("when the balanced subset is too small, minItems tops it up with the highest-P0 high-pressure prompts", () => {
  const all = [cand("a", 0.9, "failure"), cand("b", 0.95, "failure"), cand("c", 0.99, "failure"), cand("d", 0.1, "failure")];
  const o = { quantile: 0.5, min: 0, max: 0.95, seed: 1 };
  assert.equal(selectPatchSubset(all, o).items.length, 0);
  const topped = selectPatchSubset(all, { ...o, minItems: 2 });
  assert.deepEqual(topped.items.map((c) => c.prompt_id), ["c", "b"]);
});

test("the subset reports T before and after clamping, what passed it, and what the rule and the top-up chose", () => {
  const all = [cand("a", 0.9, "failure"), cand("b", 0.95, "failure"), cand("c", 0.99, "failure"), cand("d", 0.1, "success")];
  const s = selectPatchSubset(all, { ...DESIGN_SUBSET, seed: 1 });
  assert.ok(Math.abs(s.quantileValue - 0.96) < 1e-12);
  assert.equal(s.threshold, 0.95);
  assert.deepEqual([s.highPressure, s.highSuccesses, s.highFailures, s.balanced, s.toppedUp, s.items.length], [2, 0, 2, 0, 0, 0]);
  const t = selectPatchSubset(all, { ...DESIGN_SUBSET, seed: 1, minItems: 3 });
  assert.deepEqual([t.balanced, t.toppedUp], [0, 2]);
  assert.deepEqual(t.items.map((c) => c.prompt_id), ["c", "b"]);
  const u = selectPatchSubset([...all, cand("e", 0.97, "success")], { ...DESIGN_SUBSET, seed: 1, minItems: 4 });
  assert.deepEqual([u.highSuccesses, u.balanced, u.toppedUp], [1, 2, 1]);
  // High pressure (T = 0.95): b, c (failures), e (success). The rule takes e and one failure; the top-up the other.
  assert.deepEqual(u.items.map((c) => c.prompt_id).sort(), ["b", "c", "e"]);
  assert.ok(u.items.slice(0, 2).some((c) => c.prompt_id === "e"), "the top-up comes after the balanced part");
});

test("the design's subset rule is q75 clamped to [0.7, 0.95] with no top-up", () => {
  assert.deepEqual({ ...DESIGN_SUBSET }, { quantile: 0.75, min: 0.7, max: 0.95, minItems: 0 });
});
