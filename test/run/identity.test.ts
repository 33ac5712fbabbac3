import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { runConfigHash, type Config } from "../../src/config.ts";
import { analyzeStage } from "../../src/analyze/index.ts";
import { moveRunAside } from "../../src/run/identity.ts";
import { runPaths } from "../../src/run/outputs.ts";
import { runPipeline } from "../../src/run/pipeline.ts";
import { runStage } from "../../src/run/runner.ts";
import { register as registerAnalyze } from "../../src/cli/commands/analyze.ts";
import type { PromptRecord } from "../../src/schemas.ts";
import { mockEnv, prompts, testConfig } from "./fixtures.ts";

process.env.SEMPRESS_NO_BAR = "1";
const tmp = () => mkdtempSync(join(tmpdir(), "identity-"));

function writePrompts(root: string, ps: readonly PromptRecord[]): string {
  const file = join(root, "prompts.jsonl");
  writeFileSync(file, ps.map((p) => JSON.stringify(p)).join("\n") + "\n");
  return file;
}

/** Every file under dir (relative path → bytes as base64). */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const f = join(e.parentPath, e.name);
    out[f.slice(dir.length)] = readFileSync(f).toString("base64");
  }
  return out;
}

async function ran(ps = prompts(4)): Promise<{ root: string; cfg: Config; file: string }> {
  const root = tmp();
  const cfg = testConfig(root);
  const file = writePrompts(root, ps);
  await runStage(cfg, mockEnv(), { prompts: ps, resume: false, chunkSize: 2, promptsFile: file });
  return { root, cfg, file };
}

const withModel = (cfg: Config, id: string): Config => ({ ...cfg, model: { ...cfg.model, id } });
const isMismatch = (re: RegExp) => (e: Error & { code?: string }) => e.code === "run_mismatch" && re.test(e.message) && !e.message.includes("\n");

test("when a run ends then run.json records profile, model, prompt format, dataset file and hash, config hash and provider", async () => {
  const ps = prompts(2);
  ps[0] = { ...ps[0], source: "replay_demo" };
  const { cfg, file } = await ran(ps);
  const m = JSON.parse(readFileSync(runPaths(cfg).manifest, "utf8"));
  const { createHash } = await import("node:crypto");
  assert.equal(m.profile, "default");
  assert.equal(m.model_spec, "default");
  assert.equal(m.model_id, "mock");
  assert.equal(m.prompt_format, "raw");
  assert.deepEqual(m.dataset, { path: file, sha256: createHash("sha256").update(readFileSync(file)).digest("hex"), demo: true });
  assert.equal(m.config_hash, runConfigHash(cfg));
  assert.equal(m.llm_provider, "replay");
  assert.equal(m.p0_check.compared, 2);
});

test("when a resume asks for a different model then it is refused naming both models, and nothing changes", async () => {
  const { root, cfg, file } = await ran();
  const before = tree(join(root, "runs"));
  await assert.rejects(
    runStage(withModel(cfg, "Qwen/Other"), mockEnv(), { prompts: prompts(4), resume: true, promptsFile: file }),
    isMismatch(/run\.json: model differs: run has "default", this invocation has "Qwen\/Other"; use --force to start a new run directory/),
  );
  assert.deepEqual(tree(join(root, "runs")), before);
});

test("when the sidecar resolves the same model spec to another model then a resume is refused", async () => {
  const { cfg, file } = await ran();
  const env = mockEnv();
  env.hello = { ...env.hello, model_id: "embedded:new-model" };
  await assert.rejects(
    runStage(cfg, env, { prompts: prompts(4), resume: true, promptsFile: file }),
    isMismatch(/model as resolved by the sidecar differs: run has "mock", this invocation has "embedded:new-model"/),
  );
});

test("when a fresh run would overwrite a run of another model then it is refused too", async () => {
  const { cfg, file } = await ran();
  await assert.rejects(runStage(withModel(cfg, "other"), mockEnv(), { prompts: prompts(4), resume: false, promptsFile: file }), isMismatch(/model differs/));
});

test("when the prompts file changed since the run then a resume is refused with both hashes", async () => {
  const { root, cfg } = await ran();
  const ps = prompts(4);
  ps[0] = { ...ps[0], p0: 0.5 };
  const file = writePrompts(root, ps);
  await assert.rejects(runStage(cfg, mockEnv(), { prompts: ps, resume: true, promptsFile: file }), isMismatch(/dataset differs: run has ".*prompts\.jsonl sha256 [0-9a-f]{12}", this invocation has ".*sha256 [0-9a-f]{12}"/));
});

test("when a result setting differs then a resume is refused naming the config field", async () => {
  const { cfg, file } = await ran();
  const other = { ...cfg, generation: { ...cfg.generation, temperature: 0.7 } };
  await assert.rejects(
    runStage(other, mockEnv(), { prompts: prompts(4), resume: true, promptsFile: file }),
    isMismatch(/config hash differs: run has "[0-9a-f]{16}", this invocation has "[0-9a-f]{16}" \(first difference: generation\.temperature 1 vs 0\.7\)/),
  );
});

test("when only the data root, timeouts, analysis settings, chunk flag or --limit differ then a resume is accepted", async () => {
  const { root, cfg, file } = await ran();
  const moved = `${root}-moved`;
  renameSync(root, moved);
  const movedFile = join(moved, "prompts.jsonl");
  const cfg2: Config = {
    ...cfg,
    dataRoot: moved,
    sidecar: { ...cfg.sidecar, requestTimeoutMs: 5, startTimeoutMs: 5, python: "/usr/bin/python3", transport: "tcp" },
    analysis: { ...cfg.analysis, patchQuantile: 0.5, bootstrapB: 10 },
  };
  assert.equal(runConfigHash(cfg2), runConfigHash(cfg));
  assert.ok(!existsSync(file));
  const s = await runStage(cfg2, mockEnv(), { prompts: prompts(3), resume: true, promptsFile: movedFile });
  assert.deepEqual({ skipped: s.skipped, ran: s.ran }, { skipped: 3, ran: 0 });
  const s2 = await runStage(cfg2, mockEnv(), { prompts: prompts(4), resume: true, chunkSize: 2, promptsFile: movedFile });
  // The limited resume dropped prompt 4's records, so its chunk (prompts 3–4) runs again.
  assert.deepEqual({ prompts: s2.prompts, ran: s2.ran }, { prompts: 4, ran: 2 });
});

test("when --force is given then the old run directory is kept whole beside the new one", async () => {
  const { root, cfg, file } = await ran();
  const before = tree(join(root, "runs"));
  assert.ok(Object.keys(before).some((f) => f.includes("mechanistic_trace")));
  const s = await runStage(withModel(cfg, "other"), mockEnv(), { prompts: prompts(2), resume: false, force: true, promptsFile: file });
  assert.match(s.moved_aside!, /runs\.\d{8}T\d{6}Z$/);
  assert.deepEqual(tree(s.moved_aside!), before);
  const now = JSON.parse(readFileSync(runPaths(cfg).manifest, "utf8"));
  assert.equal(now.model_spec, "other");
  assert.equal(now.run.n_prompts, 2);
  await assert.rejects(runStage(cfg, mockEnv(), { prompts: prompts(2), resume: true, force: true }), /--force and --resume exclude each other/);
});

test("when the stamped name is taken then the run is moved to a numbered name; empty folders are not moved", () => {
  const root = tmp();
  const at = new Date("2026-01-02T03:04:05.678Z");
  const runs = join(root, "runs");
  for (const want of ["runs.20260102T030405Z", "runs.20260102T030405Z-2"]) {
    mkdirSync(join(runs, "sub"), { recursive: true });
    writeFileSync(join(runs, "sub", "a.txt"), want);
    assert.equal(moveRunAside(runs, at), join(root, want));
    assert.equal(readFileSync(join(root, want, "sub", "a.txt"), "utf8"), want);
  }
  mkdirSync(join(runs, "empty"), { recursive: true });
  assert.equal(moveRunAside(runs, at), null);
  assert.ok(existsSync(runs));
});

test("when analyze is given another prompt format than the run's then it is refused", async () => {
  const { cfg, file } = await ran(prompts(2));
  const chat = { ...cfg, model: { ...cfg.model, promptFormat: "chat" as const } };
  await assert.rejects(
    analyzeStage(chat, mockEnv(), { prompts: prompts(2), promptsFile: file }),
    isMismatch(/prompt format differs: run has "raw", this invocation has "chat"; analyze with the run's settings/),
  );
  const s = await analyzeStage(cfg, mockEnv(), { prompts: prompts(2), promptsFile: file, only: ["lens"] });
  assert.equal(s.prompts, 2);
});

test("when `sempress analyze --prompt-format chat` meets a raw run then it stops before starting a sidecar", async () => {
  const { root } = await ran(prompts(2));
  const p = new Command("sempress").option("--data-root <dir>").option("--profile <name>").option("--config <file>").option("--log-level <level>", "", "warn").exitOverride();
  registerAnalyze(p);
  await assert.rejects(
    p.parseAsync(["node", "sempress", "--data-root", root, "analyze", "--prompt-format", "chat"]),
    isMismatch(/prompt format differs: run has "raw", this invocation has "chat"/),
  );
});

test("when a pipeline asks for another model than the existing run's then it stops before the dataset step", async () => {
  const { cfg } = await ran(prompts(2));
  const env = mockEnv();
  await assert.rejects(runPipeline(withModel(cfg, "other"), { env }), isMismatch(/model differs: run has "default", this invocation has "other"/));
  assert.deepEqual(env.sidecar.calls.filter((c) => c.op !== "hello"), []);
});
