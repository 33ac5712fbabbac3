/**
 * Shards through the real CLI on the tiny random Qwen2 model: `run --shard 0/2` + `run --shard 1/2`
 * (the second with two CPU sidecars) + `merge` give the files of one unsharded `run` byte for byte,
 * merged run.json carries the run's identity, and `analyze --shard` of the merged run + `merge` give the
 * unsharded analyze's files. Skipped without the venv.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runPaths } from "../../src/run/outputs.ts";
import { needVenv } from "../fixtures/requirements.ts";
import { prompts } from "../run/fixtures.ts";
import { runDirFiles } from "../run/runDirFiles.ts";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "../..");
const TINY = "py-sidecar/configs/qwen2-tiny.json";
const SKIP = needVenv([TINY]);
const roots: string[] = [];
after(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

function scratch(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  roots.push(d);
  return d;
}

/** `sempress …` in a data root; returns its stdout JSON (fails the test on a non-zero exit). */
function cli(root: string, cfgFile: string, ...args: string[]): Record<string, unknown> {
  const r = spawnSync(process.execPath, ["bin/sempress.mjs", "--config", cfgFile, "--data-root", root, "--log-level", "warn", ...args], {
    cwd: REPO, encoding: "utf8", env: { ...process.env, SEMPRESS_NO_BAR: "1" }, timeout: 300_000,
  });
  assert.equal(r.status, 0, `sempress ${args.join(" ")}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim()) as Record<string, unknown>;
}

const files = (root: string, which: "run" | "analyze") => runDirFiles(runPaths({ dataRoot: root }).runs, { run: which === "run", analysis: which === "analyze" });

test("when a tiny-model run is sharded in two and merged then its files equal the unsharded run's, and so do its sharded analyses", { skip: SKIP, timeout: 900_000 }, () => {
  const dir = scratch("merge-cli-");
  const promptsFile = join(dir, "prompts.jsonl");
  writeFileSync(promptsFile, prompts(4).map((p) => JSON.stringify(p)).join("\n") + "\n");
  const cfgFile = join(dir, "config.json");
  writeFileSync(cfgFile, JSON.stringify({
    model: { id: `random:${TINY}` },
    generation: { greedyMaxNewTokens: 3, samplesPerPrompt: 2, sampleMaxNewTokens: 3 },
    analysis: { patchThresholdMin: 0, patchThresholdMax: 0 },
  }));
  const one = scratch("merge-cli-one-");
  cli(one, cfgFile, "run", "--prompts", promptsFile, "--chunk", "1");
  cli(one, cfgFile, "analyze");

  const sharded = scratch("merge-cli-sharded-");
  const s0 = cli(sharded, cfgFile, "run", "--prompts", promptsFile, "--chunk", "1", "--shard", "0/2");
  const s1 = cli(sharded, cfgFile, "--devices", "cpu", "--sidecars", "2", "run", "--prompts", promptsFile, "--chunk", "1", "--shard", "1/2");
  assert.deepEqual([s0.ran, s1.ran], [2, 2]);
  const m = cli(sharded, cfgFile, "merge", String(s0.shard_dir), String(s1.shard_dir));
  assert.deepEqual([m.kind, m.prompts, m.shards], ["run", 4, 2]);
  assert.deepEqual(files(sharded, "run"), files(one, "run"));
  const manifest = (root: string) => JSON.parse(readFileSync(runPaths({ dataRoot: root }).manifest, "utf8")) as Record<string, unknown>;
  const [a, b] = [manifest(one), manifest(sharded)];
  for (const k of ["profile", "model_spec", "model_id", "prompt_format", "dataset", "config_hash", "llm_provider", "dataset_llm", "p0_check", "run"]) {
    assert.deepEqual(b[k], a[k], k);
  }

  for (const i of [0, 1]) cli(sharded, cfgFile, "analyze", "--shard", `${i}/2`);
  const am = cli(sharded, cfgFile, "merge", join(sharded, "runs.analyze-shard-0-of-2"), join(sharded, "runs.analyze-shard-1-of-2"));
  assert.equal(am.kind, "analyze");
  assert.deepEqual(files(sharded, "analyze"), files(one, "analyze"));
});
