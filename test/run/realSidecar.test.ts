/**
 * The run and analyze stages against the real Python sidecar on the tiny random Qwen2 model
 * (random weights, real Qwen tokenizer). Skipped when the venv is missing.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, type Config } from "../../src/config.ts";
import { analyzeStage } from "../../src/analyze/index.ts";
import { connectRunEnv } from "../../src/run/connect.ts";
import type { RunEnv } from "../../src/run/env.ts";
import { runPaths } from "../../src/run/outputs.ts";
import { runStage } from "../../src/run/runner.ts";
import { buildReport } from "../../src/report/build.ts";
import { LogitLensRow, PatchRow } from "../../src/schemas.ts";
import { readFileSync, writeFileSync } from "node:fs";
import { readCsv } from "../../src/util/csv.ts";
import { prompts } from "./fixtures.ts";
import { needVenv } from "../fixtures/requirements.ts";

process.env.SEMPRESS_NO_BAR = "1";
const SKIP_PY = needVenv(["py-sidecar/configs/qwen2-tiny.json"]);
const HAVE_PY = !SKIP_PY;

let cfg: Config;
let env: (RunEnv & { close(): Promise<void> }) | undefined;

before(async () => {
  if (!HAVE_PY) return;
  cfg = loadConfig({
    profile: "default",
    env: {},
    flags: {
      dataRoot: mkdtempSync(join(tmpdir(), "run-real-")),
      model: { id: "random:py-sidecar/configs/qwen2-tiny.json" },
      generation: { greedyMaxNewTokens: 3, samplesPerPrompt: 2, sampleMaxNewTokens: 3 },
      // T = clamp(q75, 0, 0) = 0: every prompt is "high pressure", so the patch op really runs.
      analysis: { patchThresholdMin: 0, patchThresholdMax: 0 },
    } as never,
  });
  env = await connectRunEnv(cfg);
});

after(async () => {
  await env?.close();
});

test("when the same seeds are sampled twice, alone or batched, then the sequences are identical", { skip: SKIP_PY }, async () => {
  const e = env!;
  const ids = ["Answer: The capital of France is", "Question: one word for the sky colour? Answer:"].map((t) => e.tokenizer.encode(t));
  const o = { max_new_tokens: 4, do_sample: true, temperature: 1, top_p: 0.9, n: 3, seeds: [11, 12] };
  const a = await e.sidecar.generate(ids, o);
  const b = await e.sidecar.generate(ids, o);
  assert.deepEqual(a, b);
  const alone = await e.sidecar.generate([ids[1]], { ...o, seeds: [12] });
  assert.deepEqual(alone[0], a[1]);
  const other = await e.sidecar.generate(ids, { ...o, seeds: [99, 98] });
  assert.notDeepEqual(other, a);
});

test("when run --limit 3 and analyze are done then every output file exists", { skip: SKIP_PY }, async () => {
  const e = env!;
  const ps = prompts(3);
  const s = await runStage(cfg, e, { prompts: ps, resume: false });
  assert.equal(s.ran, 3);
  const a = await analyzeStage(cfg, e, { prompts: ps, patchLimit: 2 });
  const p = runPaths(cfg);
  for (const f of [
    p.completionsGreedy,
    p.completionsSampled,
    p.detectionGreedy,
    p.detectionSampled,
    p.psem,
    p.behavior,
    p.progress,
    p.manifest,
    p.attention,
    p.logitLens,
    p.decomp,
    p.patching,
  ]) {
    assert.ok(existsSync(f) && statSync(f).size > 0, f);
  }
  assert.equal(readdirSync(p.traceDir).length, 6);
  const h = e.hello;
  assert.equal(a.rows.attention, 3 * (h.n_layers * h.n_heads + h.n_layers + 1));
  assert.equal(a.rows.lens, 3 * 2 * (h.n_layers + 1));
  assert.equal(a.rows.decompose, 3 * 2 * h.n_layers);
  const patch = readCsv(p.patching, PatchRow);
  assert.equal(patch.length, a.patch!.patched * 2 * h.n_layers);
  assert.ok(a.patch!.patched >= 1);
  for (const r of patch) assert.ok(Number.isFinite(r.delta_p) && r.p_patched >= 0 && r.p_patched <= 1 + 1e-6);
});

test("a report built from that real run labels both conditions of a prompt with its negative-prompt outcome", { skip: SKIP_PY }, async () => {
  const p = runPaths(cfg);
  assert.ok(existsSync(p.logitLens), "runs after the previous test");
  // Make one prompt's two conditions disagree (a random model rarely says X), then re-run the lens.
  const lines = readFileSync(p.detectionGreedy, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { prompt_id: string; condition: string; present: boolean });
  const first = lines[0].prompt_id;
  const neg = lines.find((d) => d.prompt_id === first && d.condition === "negative")!;
  for (const d of lines) if (d.prompt_id === first && d.condition === "baseline") d.present = !neg.present;
  writeFileSync(p.detectionGreedy, lines.map((d) => JSON.stringify(d)).join("\n") + "\n");
  await analyzeStage(cfg, env!, { prompts: prompts(3), only: ["lens"] });
  const greedy = lines;
  const negOutcome = new Map(greedy.filter((d) => d.condition === "negative").map((d) => [d.prompt_id, d.present ? "failure" : "success"]));
  const lens = readCsv(p.logitLens, LogitLensRow);
  assert.ok(lens.some((r) => r.condition === "baseline"));
  for (const r of lens) assert.equal(r.outcome, negOutcome.get(r.prompt_id), `${r.prompt_id} ${r.condition}`);
  const built = await buildReport({ ...cfg, analysis: { ...cfg.analysis, bootstrapB: 20 } });
  const tables = JSON.parse(readFileSync(built.tables, "utf8")) as { meta: { header: { model_id: string } }; dataset: { n_prompts: number } };
  assert.equal(tables.dataset.n_prompts, 3);
  assert.equal(tables.meta.header.model_id, "random:py-sidecar/configs/qwen2-tiny.json");
  assert.ok(readFileSync(built.report, "utf8").includes("both conditions of a prompt share its outcome label"));
});
