/** The report states the patching subset: T, how many prompts passed it, what the rule and the top-up chose. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { loadConfig } from "../../src/config.ts";
import { DESIGN_SUBSET } from "../../src/metrics/patching.ts";
import { buildReport } from "../../src/report/build.ts";
import { patchRuleOf, patchSubsetTable, type PatchRule } from "../../src/report/patchSubset.ts";
import type { PromptView } from "../../src/report/views.ts";
import type { Outcome, PatchRow } from "../../src/schemas.ts";
import { makeFixtureRoot } from "./fixtures.ts";

const DESIGN: PatchRule = { profile: "paper", ...DESIGN_SUBSET, seed: 42 };
const DEMO: PatchRule = { profile: "default", quantile: 0.75, min: 0, max: 0.95, minItems: 8, seed: 42 };

function view(i: number, p0: number, outcome: Outcome): PromptView {
  return { prompt_id: `p${String(i).padStart(2, "0")}`, category: "facts", target_word: "x", bin: 0, p0, p1: p0 / 2, delta: p0 / 2, rel: 0.5, logRatio: Math.LN2, outcome };
}
const rowsFor = (ids: readonly string[]): PatchRow[] =>
  ids.map((prompt_id) => ({ prompt_id, bin: 0, outcome: "failure", site: "resid", layer: 0, p_negative: 0.1, p_patched: 0.2, delta_p: 0.1, next_token_flip: 0 }));

// 20 prompts, P0 0.05..1.0; every prompt with P0 ≥ 0.7 is a greedy failure (the small-model case).
const allFail = Array.from({ length: 20 }, (_, i) => view(i, (i + 1) / 20, (i + 1) / 20 >= 0.7 ? "failure" : i % 2 ? "success" : "failure"));

test("when no prompt above T is a greedy success then the design's rule selects nothing, and the report says so", () => {
  const t = patchSubsetTable(allFail, [], DESIGN);
  assert.equal(t.design_rule, true);
  assert.equal(t.threshold, 0.7625);
  assert.equal(t.n_passed_threshold, 5);
  assert.deepEqual([t.n_passed_success, t.n_passed_failure], [0, 5]);
  assert.equal(t.n_selected_by_rule, 0);
  assert.equal(t.rule_selected_nothing, true);
  assert.equal(t.top_up.added, 0);
  assert.match(t.statement, /T = 0\.762; 5 of 20 prompts have P0 ≥ T \(0 greedy successes, 5 greedy failures\)/);
  assert.match(t.statement, /The balanced rule selects nothing: none of the prompts above T is a greedy success/);
  assert.match(t.statement, /No top-up is configured \(analysis\.patchMinPrompts = 0\), so no prompt qualifies for patching\./);
  assert.match(t.statement, /No prompt was patched/);
});

test("when the default profile tops up then the report names the changed rule and what the top-up added", () => {
  const t = patchSubsetTable(allFail, rowsFor(["p19", "p18", "p17", "p16", "p15"]), DEMO);
  assert.equal(t.design_rule, false);
  assert.deepEqual(t.deviations, ["lower clamp bound 0.00 instead of 0.70", "a top-up to 8 prompts when the balanced subset is smaller"]);
  assert.equal(t.n_passed_threshold, 5);
  assert.equal(t.rule_selected_nothing, true);
  assert.deepEqual(t.top_up, { to: 8, added: 5, added_success: 0, added_failure: 5 });
  assert.equal(t.n_patched, 5);
  assert.equal(t.n_patched_outside_selection, 0);
  assert.match(t.statement, /This run's profile \(default\) changes it: lower clamp bound 0\.00 instead of 0\.70/);
  assert.match(t.statement, /The default profile then tops the subset up to 8 with the highest-P0 remaining prompts above T, whatever their outcome: 5 prompts added \(0 successes, 5 failures\)/);
  assert.match(t.statement, /not balanced by outcome/);
  assert.doesNotMatch(t.statement, /not in the subset/);
});

test("when successes pass T then the rule keeps all of them plus as many failures", () => {
  const mixed = Array.from({ length: 20 }, (_, i) => view(i, (i + 1) / 20, i % 2 ? "failure" : "success"));
  const t = patchSubsetTable(mixed, [], DESIGN);
  assert.deepEqual([t.n_passed_threshold, t.n_passed_success, t.n_passed_failure, t.n_selected_by_rule], [5, 2, 3, 4]);
  assert.match(t.statement, /The balanced rule selects 4 prompts \(2 successes and 2 failures\)\./);
});

test("when patched prompts are fewer than selected, or outside the selection, the report says so", () => {
  const mixed = Array.from({ length: 20 }, (_, i) => view(i, (i + 1) / 20, i % 2 ? "failure" : "success"));
  const capped = patchSubsetTable(mixed, rowsFor(["p18"]), DESIGN);
  assert.match(capped.statement, /holds 1 patched prompt of the 4 selected \(the analysis capped the number patched/);
  const foreign = patchSubsetTable(mixed, rowsFor(["p00", "p18"]), DESIGN);
  assert.equal(foreign.n_patched_outside_selection, 1);
  assert.match(foreign.statement, /1 of them are not in the subset these settings give/);
});

test("tables.json and the report page carry the subset statement", async () => {
  const root = makeFixtureRoot({ prompts: 20, layers: 4 });
  try {
    const cfg = loadConfig({ env: {}, flags: { dataRoot: root, analysis: { bootstrapB: 20 } } as never });
    const s = await buildReport(cfg);
    const t = JSON.parse(readFileSync(s.tables, "utf8")).patching.subset;
    assert.deepEqual(t.settings, { quantile: 0.75, clamp_min: cfg.analysis.patchThresholdMin, clamp_max: 0.95, top_up_to: cfg.analysis.patchMinPrompts, seed: 42 });
    assert.equal(typeof t.threshold, "number");
    assert.equal(t.n_candidates, 20);
    assert.deepEqual(patchRuleOf(cfg).minItems, cfg.analysis.patchMinPrompts);
    const html = readFileSync(s.report, "utf8");
    assert.ok(html.includes(`<p id="patch-subset">${t.statement.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;")}</p>`));
    assert.ok(html.includes(`T = ${t.threshold.toFixed(3)}; ${t.n_passed_threshold} of 20 prompts pass it`));
    assert.match(html, /<li>Patching subset \(default profile: a top-up to 8 prompts/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
