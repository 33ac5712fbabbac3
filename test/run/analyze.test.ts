import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { analyzeStage } from "../../src/analyze/index.ts";
import { attentionAnalysis } from "../../src/analyze/attention.ts";
import { runStage } from "../../src/run/runner.ts";
import { runPaths } from "../../src/run/outputs.ts";
import { AttentionRow, DecompRow, LogitLensRow, PatchRow, PsemRow, BehaviorRow } from "../../src/schemas.ts";
import { readCsv } from "../../src/util/csv.ts";
import { mockEnv, prompts, testConfig } from "./fixtures.ts";

process.env.SEMPRESS_NO_BAR = "1";

async function ranRoot() {
  const root = mkdtempSync(join(tmpdir(), "analyze-"));
  const cfg = testConfig(root);
  await runStage(cfg, mockEnv(), { prompts: prompts(), resume: false, chunkSize: 3 });
  return cfg;
}

test("when analyze runs after a run then all four CSVs have the expected rows", async () => {
  const cfg = await ranRoot();
  const env = mockEnv();
  const s = await analyzeStage(cfg, env, { prompts: prompts() });
  const p = runPaths(cfg);
  const att = readCsv(p.attention, AttentionRow);
  assert.equal(att.length, 7 * (3 * 2 + 3 + 1));
  assert.ok(att.every((r) => r.condition === "negative"));
  const beh = readCsv(p.behavior, BehaviorRow);
  for (const r of att.filter((r) => r.scope === "global")) {
    const b = beh.find((x) => x.prompt_id === r.prompt_id && x.condition === "negative")!;
    assert.equal(r.outcome, b.greedy_violation ? "failure" : "success");
    assert.ok(r.iar > 0 && r.iar < 1 && r.nf > 0 && r.nf < 1 && r.tmf > 0 && r.tmf < 1);
    assert.ok(Math.abs(r.pi - (r.tmf - r.nf)) < 1e-12);
  }
  const lens = readCsv(p.logitLens, LogitLensRow);
  assert.equal(lens.length, 7 * 2 * 4);
  // one layer convention: -1 = embeddings, then blocks 0..2 of the 3-block mock, as in the decomposition
  assert.deepEqual([...new Set(lens.map((r) => r.layer))].sort((a, b) => a - b), [-1, 0, 1, 2]);
  // the mock's last lens layer (block L-1) is the model's own distribution: for the baseline (decision
  // step 0, prompt only) the city's first token carries ≥ 0.85.
  const last = lens.filter((r) => r.layer === 2 && r.condition === "baseline");
  assert.ok(last.length > 0);
  assert.ok(last.every((r) => r.mass >= 0.85 && r.mass <= 1), JSON.stringify(last.map((r) => r.mass)));
  const dec = readCsv(p.decomp, DecompRow);
  assert.equal(dec.length, 7 * 2 * 3);
  for (const r of dec) assert.ok(Math.abs(r.attn_contrib + r.ffn_contrib - (r.p_out - r.p_in)) < 1e-12);
  const patch = readCsv(p.patching, PatchRow);
  assert.ok(s.patch && s.patch.patched > 0, JSON.stringify(s.patch));
  assert.equal(patch.length, s.patch!.patched * 2 * 3);
  const psem = new Map(readCsv(p.psem, PsemRow).map((r) => [r.prompt_id, r]));
  for (const r of patch) {
    assert.ok(psem.get(r.prompt_id)!.p0 >= s.patch!.threshold);
    assert.ok(Math.abs(r.p_negative - psem.get(r.prompt_id)!.p1) < 1e-12, "unpatched P_sem equals P1 from the run");
    assert.ok(Math.abs(r.delta_p - (r.p_patched - r.p_negative)) < 1e-15);
  }
  // resid patch at the last layer copies the baseline's next-token distribution (mock: w = 1)
  const top = patch.filter((r) => r.site === "resid" && r.layer === 2);
  assert.ok(top.every((r) => r.delta_p > 0.2), JSON.stringify(top));
});

test("when --only lens is given then only the logit lens file is written", async () => {
  const cfg = await ranRoot();
  const env = mockEnv();
  const s = await analyzeStage(cfg, env, { prompts: prompts(), only: ["lens"] });
  const p = runPaths(cfg);
  assert.deepEqual(Object.keys(s.rows), ["lens"]);
  assert.ok(existsSync(p.logitLens));
  assert.ok(!existsSync(p.attention) && !existsSync(p.patching) && !existsSync(p.decomp));
  assert.deepEqual(
    env.sidecar.calls.map((c) => c.op).filter((o) => o !== "hello"),
    ["logit_lens"],
  );
});

test("when nothing was run then analyze says so", async () => {
  const cfg = testConfig(mkdtempSync(join(tmpdir(), "analyze-")));
  await assert.rejects(analyzeStage(cfg, mockEnv(), { prompts: prompts() }), /no finished prompts/);
});

test("when the chat format is used then prompts go through the template and attention spans are still found", async () => {
  const root = mkdtempSync(join(tmpdir(), "analyze-chat-"));
  const cfg = testConfig(root);
  cfg.model.promptFormat = "chat";
  const env = mockEnv();
  await runStage(cfg, env, { prompts: prompts(2), resume: false, chunkSize: 2 });
  const chat = env.sidecar.calls.filter((c) => c.op === "chat_template");
  assert.equal(chat.length, 1);
  assert.equal((chat[0].args.texts as string[]).length, 4);
  const s = await analyzeStage(cfg, mockEnv(), { prompts: prompts(2), only: ["attention"] });
  assert.equal(s.rows.attention, 2 * (3 * 2 + 3 + 1));
  const { loadTrace, tracePath } = await import("../../src/run/traceFile.ts");
  const t = loadTrace(tracePath(runPaths(cfg).runs, prompts(1)[0].prompt_id, "negative"));
  assert.equal(t.meta.prompt_format, "chat");
  assert.ok(env.sidecar.model.decode(t.promptIds).startsWith("<|user|>Answer with"));
});

test("when traces are full instead of decision rows then the attention metrics are identical", async () => {
  const out: string[] = [];
  for (const mode of ["decision", "full"] as const) {
    const cfg = testConfig(mkdtempSync(join(tmpdir(), `analyze-${mode}-`)));
    cfg.generation.traceMode = mode;
    await runStage(cfg, mockEnv(), { prompts: prompts(3), resume: false, chunkSize: 3 });
    await analyzeStage(cfg, mockEnv(), { prompts: prompts(3), only: ["attention"] });
    out.push(readFileSync(runPaths(cfg).attention, "utf8"));
  }
  assert.ok(out[0].split("\n").length > 10);
  assert.equal(out[1], out[0]);
});

test("when the tokenizer puts a BOS in front of prompts then traces carry it and spans still line up", async () => {
  const base = mkdtempSync(join(tmpdir(), "analyze-nobos-"));
  const withBos = mkdtempSync(join(tmpdir(), "analyze-bos-"));
  const rows: string[] = [];
  for (const [root, bos] of [[base, false], [withBos, true]] as const) {
    const cfg = testConfig(root);
    const env = mockEnv();
    if (bos) env.tokenizer = { ...env.tokenizer, encodePrompt: (t: string) => [1, ...env.tokenizer.encode(t)] };
    await runStage(cfg, env, { prompts: prompts(2), resume: false, chunkSize: 2 });
    const { loadTrace, tracePath } = await import("../../src/run/traceFile.ts");
    const t = loadTrace(tracePath(runPaths(cfg).runs, prompts(1)[0].prompt_id, "negative"));
    assert.equal(t.promptIds[0] === 1, bos);
    const env2 = mockEnv();
    if (bos) env2.tokenizer = { ...env2.tokenizer, encodePrompt: (t: string) => [1, ...env2.tokenizer.encode(t)] };
    await analyzeStage(cfg, env2, { prompts: prompts(2), only: ["attention"] });
    rows.push(readFileSync(runPaths(cfg).attention, "utf8"));
  }
  assert.equal(rows[0].split("\n").length, rows[1].split("\n").length);
});

test("when every run file but the unit records, progress markers, run.json and traces is gone then analyze writes the same CSVs", async () => {
  const cfg = await ranRoot();
  const p = runPaths(cfg);
  const outputs = [p.attention, p.logitLens, p.decomp, p.patching, p.patchingSubset];
  await analyzeStage(cfg, mockEnv(), { prompts: prompts() });
  const before = outputs.map((f) => readFileSync(f, "utf8"));
  const { rmSync } = await import("node:fs");
  for (const f of [p.completionsGreedy, p.completionsSampled, p.detectionGreedy, p.detectionSampled, p.psem, p.behavior, ...outputs]) rmSync(f);
  const env = mockEnv();
  await analyzeStage(cfg, env, { prompts: prompts() });
  assert.deepEqual(outputs.map((f) => readFileSync(f, "utf8")), before);
  // nothing is re-derived from text: no prompt building, tokenizing or decoding at the sidecar
  assert.deepEqual([...new Set(env.sidecar.calls.map((c) => c.op))].sort(), ["decompose", "logit_lens", "patch"]);
});

test("when the unit records are missing then analyze says to re-run, naming the file", async () => {
  const cfg = await ranRoot();
  const { rmSync } = await import("node:fs");
  rmSync(runPaths(cfg).units);
  await assert.rejects(analyzeStage(cfg, mockEnv(), { prompts: prompts() }), /units\.jsonl: no unit records/);
});

test("every trace need an analysis declares is held by a decision-mode trace", async () => {
  const { TRACE_NEEDS } = await import("../../src/analyze/index.ts");
  const { DECISION_TRACE_HOLDS } = await import("../../src/analyze/analysis.ts");
  assert.ok(TRACE_NEEDS.size > 0);
  for (const need of TRACE_NEEDS) assert.ok(DECISION_TRACE_HOLDS.has(need), `decision traces lack ${need}`);
});

test("when the sidecar is on a GPU the analyses run together and write the same CSVs as one after another", async () => {
  const cfg = await ranRoot();
  const p = runPaths(cfg);
  const files = [p.attention, p.logitLens, p.decomp, p.patching];
  // Counts the lens and decompose requests sent before attention's run has finished.
  let attentionOver = false;
  let early = 0;
  const run = attentionAnalysis.run;
  attentionAnalysis.run = async (ctx) => {
    attentionOver = false;
    const out = await run(ctx);
    attentionOver = true;
    return out;
  };
  const watched = (device: string) => {
    const env = mockEnv();
    env.hello = { ...env.hello, device };
    const call = env.sidecar.call.bind(env.sidecar);
    env.sidecar.call = ((op, args, o) => {
      if (!attentionOver && (op === "logit_lens" || op === "decompose")) early++;
      return call(op, args, o);
    }) as typeof env.sidecar.call;
    return env;
  };
  try {
    await analyzeStage(cfg, watched("cpu"), { prompts: prompts() });
    assert.equal(early, 0, "on a CPU sidecar lens and decompose wait for attention");
    const sequential = files.map((f) => readFileSync(f, "utf8"));
    await analyzeStage(cfg, watched("cuda:0"), { prompts: prompts() });
    assert.ok(early > 0, "on a GPU sidecar lens and decompose requests go out while attention reads traces");
    assert.deepEqual(files.map((f) => readFileSync(f, "utf8")), sequential);
  } finally {
    attentionAnalysis.run = run;
  }
});
