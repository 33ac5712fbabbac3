import { test } from "node:test";
import assert from "node:assert/strict";
import { datasetTable, failureTypesTable, violationByBin, violationOverall } from "../../src/report/behaviorTables.ts";
import { CIBook } from "../../src/report/ciBook.ts";
import { logitLensTable, patchingTable } from "../../src/report/mechTables.ts";
import type { PatchRule } from "../../src/report/patchSubset.ts";
import type { BehaviorRow, Condition, LogitLensRow, PatchRow } from "../../src/schemas.ts";
import type { PromptView } from "../../src/report/views.ts";

const EDGES = [0, 0.5, 1];
const RULE: PatchRule = { profile: "test", quantile: 0.5, min: 0, max: 1, minItems: 0, seed: 1 };
const close = (a: number | null, b: number) => assert.ok(a !== null && Math.abs(a - b) < 1e-12, `${a} != ${b}`);

function behavior(id: string, condition: Condition, n: number, vr: number, greedy: 0 | 1, clean = 1 - vr): BehaviorRow {
  return { prompt_id: id, condition, n_samples: n, violation_rate: vr, format_adherence_rate: 1, clean_success_rate: clean, greedy_violation: greedy };
}

function view(id: string, category: string, p0: number, neg?: BehaviorRow, base?: BehaviorRow): PromptView {
  return {
    prompt_id: id, category, target_word: "x", bin: p0 < 0.5 ? 0 : 1, p0, p1: p0 / 2, delta: p0 / 2, rel: 0.5, logRatio: Math.log(2),
    neg, base, outcome: neg ? (neg.greedy_violation ? "failure" : "success") : null,
  };
}

// Bin 0: a (4 samples, rate 0.25, greedy clean) and b (2 samples, rate 1, greedy violation); bin 1: c without behaviour.
const views = [
  view("a", "facts", 0.1, behavior("a", "negative", 4, 0.25, 0), behavior("a", "baseline", 4, 0.5, 1)),
  view("b", "idioms", 0.3, behavior("b", "negative", 2, 1, 1, 0)),
  view("c", "facts", 0.9),
];

test("dataset counts prompts by category and bin and sums the samples of each condition", () => {
  const t = datasetTable(views, EDGES);
  assert.equal(t.n_prompts, 3);
  assert.equal(t.n_prompts_with_behavior, 2);
  assert.deepEqual(t.by_category, { facts: 2, idioms: 1 });
  assert.deepEqual(t.by_bin.map((b) => [b.label, b.n_prompts, b.sparse]), [["[0, 0.5)", 2, true], ["[0.5, 1]", 1, true]]);
  assert.deepEqual(t.total_samples, { baseline: 4, negative: 6 });
  assert.equal(t.samples_per_prompt, 4);
});

test("violation by bin weights the sampled rate by samples and the greedy rate by prompt", () => {
  const book = new CIBook(50, 1);
  const [bin0, bin1] = violationByBin(views, "negative", book, EDGES);
  close(bin0.estimate, (4 * 0.25 + 2 * 1) / 6);
  close(bin0.greedy.estimate, 0.5);
  close(bin0.p0_mean, 0.2);
  assert.equal(bin0.n_prompts, 2);
  assert.equal(bin0.n_samples, 6);
  assert.equal(bin1.n_prompts, 0);
  assert.equal(bin1.estimate, null);
  const all = violationOverall(views, "baseline", book);
  close(all.sampled.estimate, 0.5);
  assert.equal(all.sampled.n, 1);
  assert.deepEqual(book.rows.map((r) => `${r.metric}|${r.group}`), [
    "violation_rate.negative|bin0", "greedy_violation_rate.negative|bin0",
    "violation_rate.negative|bin1", "greedy_violation_rate.negative|bin1",
    "violation_rate.baseline|all", "greedy_violation_rate.baseline|all",
  ]);
});

test("failure types of a condition add up to one over its samples", () => {
  const ft = failureTypesTable(views, new CIBook(50, 1)).negative;
  close(ft.violation.estimate, 0.5);
  close(ft.clean_success.estimate, (4 * 0.75) / 6);
  close(ft.violation.estimate! + ft.format_failure_without_x.estimate! + ft.clean_success.estimate!, 1);
});

test("the logit lens table sorts its series and reports the last layer's mass", () => {
  const row = (condition: Condition, layer: number, mass: number, id = "a"): LogitLensRow => ({ prompt_id: id, condition, outcome: "failure", layer, mass });
  const t = logitLensTable([row("negative", 1, 0.4), row("baseline", 1, 0.9), row("negative", -1, 0), row("negative", 1, 0.2, "b"), row("negative", 0, 0.1)], new CIBook(50, 1));
  assert.deepEqual(t.series.map((s) => `${s.condition}${s.layer}`), ["baseline1", "negative-1", "negative0", "negative1"]);
  assert.equal(t.n_layers_plus_embeddings, 3);
  assert.deepEqual(t.final_layer.map((f) => [f.condition, f.mass.estimate]), [["baseline", 0.9], ["negative", 0.30000000000000004]]);
});

test("patching bins a row by its prompt's P0 and falls back to the CSV bin for an unknown prompt", () => {
  const row = (id: string, bin: number, layer: number, delta: number): PatchRow => ({
    prompt_id: id, bin, outcome: "failure", site: "resid", layer, p_negative: 0.5, p_patched: 0.5 + delta, delta_p: delta, next_token_flip: delta > 0 ? 1 : 0,
  });
  // "a" is in bin 0 by its view though its CSV row says 1; "zz" has no view and keeps its CSV bin 1.
  const rows = [row("a", 1, 0, -0.2), row("a", 1, 1, 0.4), row("zz", 1, 1, 0.2)];
  const t = patchingTable(rows, views, new CIBook(50, 1), { edges: EDGES, nLayers: 2, patchRule: RULE });
  assert.deepEqual(t.by_bin_layer.map((c) => [c.bin, c.layer, c.n_prompts, c.delta_p.estimate]), [[0, 0, 1, -0.2], [0, 1, 1, 0.4], [1, 1, 1, 0.2]]);
  assert.deepEqual(t.by_layer.map((c) => [c.layer, c.delta_p.estimate]), [[0, -0.2], [1, 0.30000000000000004]]);
  assert.deepEqual(t.by_band.map((b) => [b.band, b.layers, b.next_token_flip_rate.estimate]), [["early", [0, 0], 0], ["middle", [1, 1], 1]]);
  assert.equal(t.n_prompts, 2);
});
