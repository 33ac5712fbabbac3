/**
 * `sempress compare` on two real runs: the tiny random Qwen2 (3 blocks) and the same architecture with
 * 5 blocks, both run and analysed by the real sidecar on the same prompts file (runStage and
 * analyzeStage, what `sempress run` and `sempress analyze` call), then compared through the CLI.
 * Skipped without the venv.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { analyzeStage } from "../../src/analyze/index.ts";
import type { CompareTables } from "../../src/compare/tables.ts";
import { loadConfig } from "../../src/config.ts";
import { connectRunEnv } from "../../src/run/connect.ts";
import { runStage } from "../../src/run/runner.ts";
import { DetectionRecord, PromptRecord } from "../../src/schemas.ts";
import { readJsonl } from "../../src/util/jsonl.ts";
import { needVenv } from "../fixtures/requirements.ts";
import { embeddedDetails } from "../report/explorerPage.ts";
import { prompts } from "../run/fixtures.ts";
import { removeRoots, scratchDir } from "./fixtures.ts";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "../..");
const TINY = "py-sidecar/configs/qwen2-tiny.json";
const SKIP = needVenv([TINY]);
process.env.SEMPRESS_NO_BAR = "1";
after(removeRoots);

/** One real run of `model` on the prompts file, with `sempress run` and `sempress analyze`'s stages. */
async function realRun(model: string, promptsFile: string): Promise<string> {
  const root = scratchDir("cmp-real-");
  const cfg = loadConfig({
    profile: "default",
    env: {},
    flags: {
      dataRoot: root,
      model: { id: model },
      generation: { greedyMaxNewTokens: 3, samplesPerPrompt: 4, sampleMaxNewTokens: 3 },
      // T = clamp(q75, 0, 0) = 0: every prompt is "high pressure", so patching runs on all of them.
      analysis: { patchThresholdMin: 0, patchThresholdMax: 0 },
    } as never,
  });
  const ps = readJsonl(promptsFile, PromptRecord);
  const env = await connectRunEnv(cfg);
  try {
    await runStage(cfg, env, { prompts: ps, resume: false, promptsFile });
    await analyzeStage(cfg, env, { prompts: ps });
  } finally {
    await env.close();
  }
  return root;
}

test("when two real tiny models of 3 and 5 blocks ran the same prompts then compare pairs them and explores both", { skip: SKIP, timeout: 240_000 }, async () => {
  const dir = scratchDir("cmp-real-in-");
  const promptsFile = join(dir, "prompts.jsonl");
  writeFileSync(promptsFile, prompts(3).map((p) => JSON.stringify(p)).join("\n") + "\n");
  const five = join(dir, "qwen2-tiny-5.json");
  writeFileSync(five, JSON.stringify({ ...JSON.parse(readFileSync(join(REPO, TINY), "utf8")), num_hidden_layers: 5 }));
  const a = await realRun(`random:${TINY}`, promptsFile);
  const b = await realRun(`random:${five}`, promptsFile);

  const cfgFile = join(dir, "config.json");
  writeFileSync(cfgFile, JSON.stringify({ analysis: { bootstrapB: 50 } }));
  const out = scratchDir("cmp-real-out-");
  const r = spawnSync(process.execPath, ["bin/sempress.mjs", "--config", cfgFile, "--log-level", "warn", "compare", a, join(b, "runs"), "--out", out], {
    cwd: REPO, encoding: "utf8", env: { ...process.env, SEMPRESS_NO_BAR: "1" }, timeout: 120_000,
  });
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout.trim());
  const t = JSON.parse(readFileSync(summary.json, "utf8")) as CompareTables;
  assert.equal(t.comparison.mode, "paired");
  const [pair] = t.comparison.pairs;
  assert.deepEqual([pair.n_shared_prompts, pair.same_dataset_file, pair.only_a, pair.only_b], [3, true, 0, 0]);
  assert.deepEqual(t.runs.map((x) => [x.model_id, x.n_layers, x.prompt_format, x.dataset.path]), [
    [`random:${TINY}`, 3, "raw", resolve(promptsFile)],
    [`random:${five}`, 5, "raw", resolve(promptsFile)],
  ]);
  for (const run of t.runs) {
    const depths = run.logit_lens.filter((p) => p.condition === "negative").map((p) => p.depth);
    assert.deepEqual([depths[0], depths.at(-1), depths.length], [0, 1, run.n_layers + 1]);
    assert.equal(run.patching.resid.length, run.n_layers, "ΔP at every layer");
    for (const c of run.patching.sign_changes.resid) assert.ok(c.depth_crossing > 0 && c.depth_crossing <= 1);
  }
  // Each run's explorer: its 6 units, each with its 4 samples as the detector recorded them.
  for (const [label, root] of [["A", a], ["B", b]] as const) {
    const units = embeddedDetails(readFileSync(summary.explorers[label], "utf8"));
    assert.equal(units.length, 6);
    const dets = readJsonl(join(root, "runs/detection_mapping.jsonl"), DetectionRecord);
    for (const u of units) {
      const mine = dets.filter((d) => d.prompt_id === u.id && d.condition === u.c);
      assert.deepEqual(u.samples.map((s) => [s.text, s.m.length]), mine.map((d) => [d.text, d.matches.length]));
      assert.equal(u.lens?.layers.length, label === "A" ? 4 : 6);
      if (u.c === "negative") assert.equal(u.attn?.layers.length, label === "A" ? 3 : 5);
    }
  }
  assert.match(readFileSync(summary.report, "utf8"), /B − A is compared prompt by prompt over the 3 prompts both runs ran, from the same dataset file/);
});
