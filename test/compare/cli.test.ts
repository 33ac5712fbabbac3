/**
 * `sempress compare` through the real CLI on synthetic runs: what it prints and writes, paired vs
 * by-bin comparison, relative depth across models of different depths, and its one-line errors.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CompareTables } from "../../src/compare/tables.ts";
import { removeRoots, renamePrompts, runRoot, scratchDir } from "./fixtures.ts";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "../..");
after(removeRoots);

function compare(args: string[]) {
  const cfg = join(scratchDir("cmp-cfg-"), "config.json");
  writeFileSync(cfg, JSON.stringify({ analysis: { bootstrapB: 100 } }));
  return spawnSync(process.execPath, ["bin/sempress.mjs", "--config", cfg, "--log-level", "warn", "compare", ...args], {
    cwd: REPO,
    encoding: "utf8",
    env: { ...process.env, SEMPRESS_NO_BAR: "1" },
    timeout: 120_000,
  });
}

function ok(args: string[]): { out: Record<string, unknown> & { report: string; json: string; explorers: Record<string, string> }; json: CompareTables; html: string } {
  const r = compare(args);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.equal(lines.length, 1, r.stdout);
  const out = JSON.parse(lines[0]);
  return { out, json: JSON.parse(readFileSync(out.json, "utf8")), html: readFileSync(out.report, "utf8") };
}

test("when two runs of models with 8 and 12 layers share their prompts then they are compared prompt by prompt at relative depth", () => {
  const a = runRoot("m/small", { prompts: 40, layers: 8, seed: 1 });
  const b = runRoot("m/large", { prompts: 40, layers: 12, seed: 2 });
  const outDir = scratchDir("cmp-out-");
  const { out, json, html } = ok([a, join(b, "runs"), "--out", outDir]);
  assert.equal(out.report, join(outDir, "compare.html"));
  for (const f of [out.report, out.json, out.bootstrap_results as string, ...Object.values(out.explorers)]) assert.ok(existsSync(f), f);
  assert.equal(json.comparison.mode, "paired");
  const [pair] = json.comparison.pairs;
  assert.deepEqual([pair.a, pair.b, pair.n_shared_prompts, pair.same_dataset_file, pair.by_bin], ["A", "B", 40, true, null]);
  assert.ok(pair.paired!.logistic.slope_difference.ci_low! <= pair.paired!.logistic.slope_difference.ci_high!);
  assert.match(html, /B − A is compared prompt by prompt over the 40 prompts both runs ran, from the same dataset file \(sha256 abababababab\)/);
  for (const [run, n, flip] of [[json.runs[0], 8, 6], [json.runs[1], 12, 8]] as const) {
    assert.equal(run.n_layers, n);
    const neg = run.logit_lens.filter((p) => p.condition === "negative");
    assert.deepEqual([neg[0].layer, neg[0].depth, neg.at(-1)!.layer, neg.at(-1)!.depth], [-1, 0, n - 1, 1]);
    // The fixture's late third (layer ≥ 2n/3) raises P(X), earlier layers lower it.
    const [c] = run.patching.sign_changes.resid;
    assert.deepEqual([c.from_layer, c.to_layer, c.direction], [flip - 1, flip, "negative_to_positive"]);
    assert.ok(c.depth_crossing > flip / n && c.depth_crossing < (flip + 1) / n);
  }
  assert.match(html, /<a class="explorer" href="explorer-A.html">explore A<\/a>/);
  assert.match(html, /<code>m\/small<\/code>.*<code>random:m\/small.json<\/code>/s);
  assert.equal((html.match(/<figure class="fig"/g) ?? []).length, 3);
});

test("when the runs share no prompts then they are compared by P0 bin and the page says so", () => {
  const a = runRoot("m/one", { prompts: 30, layers: 4, seed: 3 });
  const b = runRoot("m/two", { prompts: 30, layers: 4, seed: 4, sha: "cd".repeat(32) });
  renamePrompts(b, "_other");
  const { json, html } = ok([a, b, "--out", scratchDir("cmp-out-")]);
  assert.equal(json.comparison.mode, "by_bin");
  const [pair] = json.comparison.pairs;
  assert.deepEqual([pair.n_shared_prompts, pair.only_a, pair.only_b, pair.paired], [0, 30, 30, null]);
  assert.equal(pair.by_bin!.by_bin.length, 5);
  assert.match(html, /B − A is compared by P0 bin, not prompt by prompt: the runs share 0 prompts/);
});

test("when compare is given one run, or a directory that is no run, then it exits 3 with one line naming it", () => {
  const a = runRoot("m/one", { prompts: 5, layers: 2 });
  const one = compare([a]);
  assert.equal(one.status, 3);
  assert.equal(one.stderr.trim(), "sempress: input_invalid: compare needs at least two run directories, got 1");
  const empty = scratchDir("cmp-norun-");
  const none = compare([a, empty]);
  assert.equal(none.status, 3);
  assert.equal(none.stderr.trim(), `sempress: input_missing: ${empty}: no runs/run.json here; give a data root (the directory holding runs/) or its runs/ directory`);
});
