import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runStage, samplingSeed } from "../../src/run/runner.ts";
import { appendedCsv, appendedJsonl, runPaths } from "../../src/run/outputs.ts";
import { loadTrace, tracePath } from "../../src/run/traceFile.ts";
import { BehaviorRow, CompletionRecord, DetectionRecord, PsemRow, RunManifest } from "../../src/schemas.ts";
import { readCsv } from "../../src/util/csv.ts";
import { readJsonl } from "../../src/util/jsonl.ts";
import { mockEnv, prompts, testConfig } from "./fixtures.ts";

process.env.SEMPRESS_NO_BAR = "1";
const tmp = () => mkdtempSync(join(tmpdir(), "run-"));

function snapshot(root: string): Record<string, string> {
  const p = runPaths({ dataRoot: root });
  const out: Record<string, string> = {};
  for (const f of [...appendedJsonl(p), ...appendedCsv(p), p.progress]) out[f.slice(root.length)] = readFileSync(f, "utf8");
  for (const f of readdirSync(p.traceDir).sort()) out[f] = readFileSync(join(p.traceDir, f)).toString("base64");
  return out;
}

function tracedPrompts(env: ReturnType<typeof mockEnv>): number {
  return env.sidecar.calls.filter((c) => c.op === "trace").reduce((s, c) => s + (c.args.sequences as unknown[]).length, 0);
}

/** A fresh run that crashes once its n-th prompt is done, after `atCrash` (e.g. tearing a file). */
async function crashAt(cfg: ReturnType<typeof testConfig>, ps: ReturnType<typeof prompts>, chunkSize: number, n: number, atCrash?: () => void) {
  const onPromptDone = (_id: string, done: number) => {
    if (done !== n) return;
    atCrash?.();
    throw new Error("simulated crash");
  };
  await assert.rejects(runStage(cfg, mockEnv(), { prompts: ps, resume: false, chunkSize, onPromptDone }), /simulated crash/);
}

test("when the run finishes then every file holds one record per prompt × condition (× sample)", async () => {
  const root = tmp();
  const cfg = testConfig(root);
  const env = mockEnv();
  const ps = prompts();
  const s = await runStage(cfg, env, { prompts: ps, resume: false, chunkSize: 3 });
  assert.deepEqual({ prompts: s.prompts, ran: s.ran, chunks: s.chunks }, { prompts: 7, ran: 7, chunks: 3 });
  const p = runPaths(cfg);
  const greedy = readJsonl(p.completionsGreedy, CompletionRecord);
  assert.equal(greedy.length, 14);
  assert.ok(greedy.every((g) => g.sample_index === null && g.seed === null));
  const samples = readJsonl(p.completionsSampled, CompletionRecord);
  assert.equal(samples.length, 7 * 2 * 3);
  assert.equal(samples[0].seed, samplingSeed(cfg, ps[0].prompt_id, "baseline"));
  assert.equal(readJsonl(p.detectionGreedy, DetectionRecord).length, 14);
  assert.equal(readJsonl(p.detectionSampled, DetectionRecord).length, 42);
  const psem = readCsv(p.psem, PsemRow);
  assert.deepEqual(psem.map((r) => r.prompt_id), ps.map((x) => x.prompt_id));
  for (const r of psem) {
    assert.ok(r.p0 > 0.8 && r.p0 <= 1, `p0 ${r.p0}`);
    assert.ok(Math.abs(r.delta - (r.p0 - r.p1)) < 1e-12);
    assert.equal(r.bin, 4);
  }
  const beh = readCsv(p.behavior, BehaviorRow);
  assert.equal(beh.length, 14);
  // greedy: baseline always says the city; negative fails on odd-indexed prompts only.
  const gv = (i: number, c: string) => beh.find((b) => b.prompt_id === ps[i].prompt_id && b.condition === c)!.greedy_violation;
  assert.deepEqual(ps.map((_, i) => gv(i, "baseline")), [1, 1, 1, 1, 1, 1, 1]);
  assert.deepEqual(ps.map((_, i) => gv(i, "negative")), [0, 1, 0, 1, 0, 1, 0]);
  const dets = readJsonl(p.detectionGreedy, DetectionRecord);
  assert.ok(dets.filter((d) => d.present).every((d) => d.decision_step === 0 && d.matches[0].token_start === 0));
  // trace file
  const t = loadTrace(tracePath(p.runs, ps[1].prompt_id, "negative"));
  assert.equal(t.meta.condition, "negative");
  assert.equal(t.meta.model_id, "mock");
  assert.equal(t.meta.prompt_len, t.promptIds.length);
  assert.deepEqual(t.meta.generated, greedy[3].token_ids);
  // decision mode: one row per layer and head, over prompt + greedy tokens before the decision step
  assert.equal(t.meta.mode, "decision");
  assert.deepEqual(t.attentions.shape, [3, 2, t.promptIds.length + t.meta.decision_step]);
  assert.equal(t.hidden, null);
  const man = RunManifest.parse(JSON.parse(readFileSync(p.manifest, "utf8")));
  assert.equal((man.model as { model_id: string }).model_id, "mock");
  assert.ok(!("tokenizer_json" in (man.model as object)));
  assert.match(String((man.model as Record<string, unknown>).tokenizer_json_sha256), /^[0-9a-f]{64}$/);
});

test("when a run crashes after k prompts and resumes then files are byte-identical and finished chunks are not re-run", async () => {
  const ps = prompts();
  const whole = tmp();
  await runStage(testConfig(whole), mockEnv(), { prompts: ps, resume: false, chunkSize: 3 });
  const want = snapshot(whole);

  for (const k of [3, 4]) {
    const root = tmp();
    const cfg = testConfig(root);
    await crashAt(cfg, ps, 3, k);
    const env2 = mockEnv();
    const s = await runStage(cfg, env2, { prompts: ps, resume: true, chunkSize: 3 });
    assert.equal(s.skipped, 3, `k=${k}: chunk 0 is complete`);
    assert.equal(tracedPrompts(env2), (7 - 3) * 2, `k=${k}: only chunks 1 and 2 are sent again`);
    assert.deepEqual(snapshot(root), want, `k=${k}`);
    const ids = readJsonl(runPaths(cfg).completionsGreedy, CompletionRecord).map((r) => `${r.prompt_id}|${r.condition}`);
    assert.equal(new Set(ids).size, ids.length);
  }
});

test("when a resumed run is already complete then nothing is sent and nothing changes", async () => {
  const root = tmp();
  const cfg = testConfig(root);
  await runStage(cfg, mockEnv(), { prompts: prompts(), resume: false, chunkSize: 3 });
  const before = snapshot(root);
  const env = mockEnv();
  const s = await runStage(cfg, env, { prompts: prompts(), resume: true, chunkSize: 3 });
  assert.equal(s.ran, 0);
  assert.equal(tracedPrompts(env), 0);
  assert.deepEqual(snapshot(root), before);
});

test("when a crash leaves a torn last line then resume repairs it", async () => {
  const root = tmp();
  const cfg = testConfig(root);
  const ps = prompts(4);
  await crashAt(cfg, ps, 2, 3, () => require_fs().appendFileSync(runPaths(cfg).completionsSampled, '{"prompt_id":"facts_rome'));
  await runStage(cfg, mockEnv(), { prompts: ps, resume: true, chunkSize: 2 });
  const whole = tmp();
  await runStage(testConfig(whole), mockEnv(), { prompts: ps, resume: false, chunkSize: 2 });
  assert.deepEqual(snapshot(root), snapshot(whole));
});

test("when the sampling seed is derived then it depends on prompt and condition only", () => {
  const cfg = testConfig(tmp());
  assert.equal(samplingSeed(cfg, "a", "baseline"), samplingSeed(cfg, "a", "baseline"));
  assert.notEqual(samplingSeed(cfg, "a", "baseline"), samplingSeed(cfg, "a", "negative"));
  assert.notEqual(samplingSeed(cfg, "a", "baseline"), samplingSeed({ seeds: { ...cfg.seeds, torch: 1 } }, "a", "baseline"));
});

test("when prompt ids repeat then the run refuses before doing anything", async () => {
  const ps = prompts(2);
  ps[1] = { ...ps[1], prompt_id: ps[0].prompt_id };
  await assert.rejects(runStage(testConfig(tmp()), mockEnv(), { prompts: ps, resume: false }), /duplicate prompt_id/);
});

import * as fs from "node:fs";
function require_fs() {
  return fs;
}

test("when a detected X cannot be mapped to tokens then the run stops, records it and writes no marker for that chunk", async () => {
  const root = tmp();
  const cfg = testConfig(root);
  cfg.generation.greedyMaxNewTokens = 10;
  const env = mockEnv();
  const m = env.sidecar.model;
  const honest = env.tokenizer;
  // A tokenizer whose decode shows city tokens only in long decodes (≥ 10 ids): the full text has X,
  // but no run of ≤ 8 tokens does, so the detector cannot map the match.
  const cityIds = new Set([" Paris", " London"].map((w) => m.id(w)));
  env.tokenizer = {
    encode: honest.encode,
    decode: (ids, o) => (ids.length >= 10 ? honest.decode(ids, o) : honest.decode(ids.filter((i) => !cityIds.has(i)), o)),
  };
  const p = runPaths(cfg);
  await assert.rejects(runStage(cfg, env, { prompts: prompts(2), resume: false, chunkSize: 2 }), (e: Error & { code?: string }) => e.code === "mapping_error");
  const errs = readFileSync(p.mappingErrors, "utf8").trim().split("\n").map((l) => JSON.parse(l));
  assert.ok(errs.length >= 1);
  assert.equal(errs[0].prompt_id, prompts(1)[0].prompt_id);
  assert.equal(errs[0].target_word, "Paris");
  assert.ok(!fs.existsSync(p.progress) || readFileSync(p.progress, "utf8") === "");
});

test("when a resume gives no chunk size then the interrupted run's chunk size is reused", async () => {
  const ps = prompts();
  const whole = tmp();
  await runStage(testConfig(whole), mockEnv(), { prompts: ps, resume: false, chunkSize: 2 });
  const root = tmp();
  const cfg = testConfig(root);
  await crashAt(cfg, ps, 2, 3);
  const env = mockEnv();
  const s = await runStage(cfg, env, { prompts: ps, resume: true });
  assert.equal(s.skipped, 2);
  assert.deepEqual(snapshot(root), snapshot(whole));
});
