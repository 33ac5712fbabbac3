/**
 * Shards on the mock sidecar (src/run/shard.ts, src/run/merge.ts, src/analyze/shards.ts): run --shard
 * i/N slices plus merge equal the unsharded run byte for byte, analyze --shard slices of the merged run
 * plus merge equal an unsharded analyze, the report reads the merged run, and merge refuses what is not
 * one whole run. The tiny real model through the CLI is in test/cli/merge.test.ts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ANALYSIS_LIST, analyzeStage } from "../../src/analyze/index.ts";
import { mergeAnalyzeShards } from "../../src/analyze/shards.ts";
import { buildReport } from "../../src/report/build.ts";
import { mergeRunShards } from "../../src/run/merge.ts";
import { runPaths } from "../../src/run/outputs.ts";
import { runStage } from "../../src/run/runner.ts";
import { analyzeShardPaths, inShard, parseShard, runShardPaths, type Shard } from "../../src/run/shard.ts";
import { mockEnv, prompts, testConfig } from "./fixtures.ts";
import { runDirFiles } from "./runDirFiles.ts";

process.env.SEMPRESS_NO_BAR = "1";
const PS = prompts();
const CHUNK = 2;
const BATCH = 2;
const IDENTITY = ["profile", "model_spec", "model_id", "prompt_format", "dataset", "config_hash", "llm_provider", "dataset_llm"] as const;

const json = (f: string) => JSON.parse(readFileSync(f, "utf8")) as Record<string, unknown> & { run: Record<string, unknown> };

/** The unsharded run and analyze (root A) and a sharded run merged into root B's runs/. */
async function fixture() {
  const a = testConfig(mkdtempSync(join(tmpdir(), "shard-a-")));
  await runStage(a, mockEnv(), { prompts: PS, resume: false, chunkSize: CHUNK });
  await analyzeStage(a, mockEnv(), { prompts: PS, batch: BATCH });
  const b = testConfig(mkdtempSync(join(tmpdir(), "shard-b-")));
  const shards: Shard[] = [parseShard("0/2"), parseShard("1/2")];
  for (const shard of shards) await runStage(b, mockEnv(), { prompts: PS, resume: false, chunkSize: CHUNK, shard });
  return { a, b, dirs: shards.map((s) => runShardPaths(b, s).runs) };
}

const ready = fixture();

test("when a run is cut in shards then each shard directory holds whole chunks c with c mod N = i, and nothing else", async () => {
  const { b, dirs } = await ready;
  const ids = PS.map((p) => p.prompt_id);
  dirs.forEach((dir, i) => {
    const done = readFileSync(join(dir, "progress.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { prompt_id: string; chunk: number });
    assert.deepEqual(done.map((d) => d.prompt_id), ids.filter((_, k) => inShard(Math.floor(k / CHUNK), { index: i, count: 2 })));
    assert.deepEqual(json(join(dir, "run.json")).run.shard, { index: i, count: 2 });
  });
  assert.ok(dirs[0].endsWith("runs.shard-0-of-2") && !existsSync(runPaths(b).progress), "the shards leave runs/ alone");
});

test("when the run shards are merged then every run file equals the unsharded run's byte for byte, and run.json keeps the identity", async () => {
  const { a, b, dirs } = await ready;
  const s = mergeRunShards(dirs, runPaths(b).runs);
  assert.deepEqual([s.kind, s.prompts, s.files["units.jsonl"], s.files["mechanistic_trace/"]], ["run", 7, 7, 14]);
  assert.deepEqual(runDirFiles(runPaths(b).runs), runDirFiles(runPaths(a).runs));
  const [ma, mb] = [json(runPaths(a).manifest), json(runPaths(b).manifest)];
  for (const k of IDENTITY) assert.deepEqual(mb[k], ma[k], k);
  assert.deepEqual(mb.p0_check, ma.p0_check);
  assert.deepEqual(mb.run, ma.run);
  assert.equal(mb.command, "merge");
  assert.deepEqual((mb.merged_from as { shard: string }[]).map((m) => m.shard), ["0/2", "1/2"]);
});

test("when the merged run is analyzed in shards and those are merged then the analysis files equal an unsharded analyze", async () => {
  const { a, b } = await ready;
  for (const shard of [parseShard("1/2"), parseShard("0/2")]) await analyzeStage(b, mockEnv(), { prompts: PS, batch: BATCH, shard });
  const dirs = [0, 1].map((i) => analyzeShardPaths(b, { index: i, count: 2 }).shardDir!);
  const rows = (d: string) => readFileSync(join(d, "logit_lens.csv"), "utf8").trim().split("\n").length - 1;
  assert.ok(rows(dirs[0]) > 0 && rows(dirs[1]) > 0, "both shards did lens work");
  const s = mergeAnalyzeShards(dirs, runPaths(b).runs, ANALYSIS_LIST);
  assert.equal(s.kind, "analyze");
  assert.deepEqual(runDirFiles(runPaths(b).runs, { run: false, analysis: true }), runDirFiles(runPaths(a).runs, { run: false, analysis: true }));
  const built = await buildReport({ ...b, analysis: { ...b.analysis, bootstrapB: 20 } });
  const tables = JSON.parse(readFileSync(built.tables, "utf8")) as { dataset: { n_prompts: number } };
  assert.equal(tables.dataset.n_prompts, 7);
});

test("when a shard is missing, doubled, from another config, or the output holds a run then merge says so in one line", async () => {
  const { b, dirs } = await ready;
  const out = join(mkdtempSync(join(tmpdir(), "shard-out-")), "runs");
  assert.throws(() => mergeRunShards([dirs[0]], out), /prompt 2 \(chunk 1\) is done in no shard: finish shard 1 with `sempress run --shard 1\/2 --resume`/);
  const copy = `${dirs[1]}-copy`;
  cpSync(dirs[0], copy, { recursive: true });
  assert.throws(() => mergeRunShards([dirs[0], copy], out), /are both shard 0\/2/);
  const other = testConfig(mkdtempSync(join(tmpdir(), "shard-c-")));
  other.seeds.torch = 7;
  await runStage(other, mockEnv(), { prompts: PS, resume: false, chunkSize: CHUNK, shard: parseShard("1/2") });
  assert.throws(() => mergeRunShards([dirs[0], runShardPaths(other, parseShard("1/2")).runs], out), /run\.json: config hash differs from .*shards of one run share/);
  assert.throws(() => mergeRunShards(dirs, runPaths(b).runs), /already holds files; pass --force/);
  rmSync(copy, { recursive: true });
  writeFileSync(join(dirs[1], "progress.jsonl"), readFileSync(join(dirs[1], "progress.jsonl"), "utf8") + readFileSync(join(dirs[0], "progress.jsonl"), "utf8"));
  assert.throws(() => mergeRunShards(dirs, out), /is done in both/);
});

test("when analyze shards are merged into a run they did not read, or one is missing, then merge refuses", async () => {
  const { a, b } = await ready;
  const dirs = [0, 1].map((i) => analyzeShardPaths(b, { index: i, count: 2 }).shardDir!);
  assert.ok(existsSync(join(dirs[0], "analyze.json")), "runs after the analyze-shard test");
  assert.throws(() => mergeAnalyzeShards([dirs[0]], runPaths(b).runs, ANALYSIS_LIST), /analyze shards given: 0 of 2/);
  const other = testConfig(mkdtempSync(join(tmpdir(), "shard-d-")));
  other.seeds.torch = 7;
  await runStage(other, mockEnv(), { prompts: PS, resume: false, chunkSize: CHUNK });
  assert.throws(() => mergeAnalyzeShards(dirs, runPaths(other).runs, ANALYSIS_LIST), /not the run the analyze shards read/);
  assert.ok(runPaths(a).runs !== runPaths(b).runs);
});
