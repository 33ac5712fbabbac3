/**
 * The end-to-end bench (`sempress bench`): the real run and analyze stages, as the CLI runs them, over N
 * synthetic prompts (./synthetic.ts) with the design's shapes (both conditions, samplesPerPrompt ×
 * sampleMaxNewTokens samples, greedy traces, P_sem), then attention + lens + decompose, then patching of
 * `patch` prompts, in a scratch data root. Per stage: prompts/s, wall, GPU busy %, sidecar service vs
 * TypeScript-only time, and each op's rate (./meter.ts); plus trace file sizes against the previous
 * default's (hidden states of every layer and attention rows at every generation step, computed from
 * the same shapes). With a baseline (./baseline.ts: gpu_bench.py run here after the stages, or its file),
 * each op's rate is set against the op's own in-process rate.
 */
import { mkdtempSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setupDirectories, type Config } from "../config.ts";
import { analyzeStage } from "../analyze/index.ts";
import { connectRunEnv } from "../run/connect.ts";
import { runPaths } from "../run/outputs.ts";
import { runStage } from "../run/runner.ts";
import { UnitRecord } from "../run/units.ts";
import { readJsonl } from "../util/jsonl.ts";
import { againstBaseline, readBaseline, runInProcess, type Baseline } from "./baseline.ts";
import { GpuSampler, gpusOf, OpMeter } from "./meter.ts";
import { syntheticPrompts } from "./synthetic.ts";

export interface BenchOptions {
  prompts: number;
  patch: number;
  chunk?: number;
  dataRoot?: string;
  /** A gpu_bench.py --out file with the ops' in-process rates. */
  baseline?: string;
  /** Run gpu_bench.py for the same model after the stages, at this --scale (ignored with `baseline`). */
  inProcessScale?: number;
}

/** Bytes of one trace in the format before unit records (rows mode: hidden + attention rows per step). */
export function rowsModeBytes(steps: number, promptLen: number, L: number, heads: number, hidden: number, floatBytes: number): number {
  const seq = promptLen + steps - 1;
  return (steps * (L + 1) * hidden + steps * L * heads * seq) * floatBytes + 8 * (promptLen + steps);
}

export async function benchE2E(base: Config, o: BenchOptions) {
  const root = o.dataRoot ?? mkdtempSync(join(tmpdir(), "sempress-bench-"));
  let baseline: Baseline | null = o.baseline ? readBaseline(o.baseline) : null;
  // Threshold 0: every prompt is "high pressure", so exactly `patch` prompts are patched whatever P0 the
  // model gives (random weights put every P0 far below the design's 0.7 floor, which would patch none).
  const analysis = { ...base.analysis, patchMinPrompts: o.patch, patchThresholdMin: 0, patchThresholdMax: 0 };
  const cfg: Config = { ...base, dataRoot: root, analysis };
  setupDirectories(cfg);
  const prompts = syntheticPrompts(o.prompts);
  const promptsFile = join(root, "bench_prompts.jsonl");
  writeFileSync(promptsFile, prompts.map((p) => JSON.stringify(p)).join("\n") + "\n");
  const t0 = performance.now();
  const env = await connectRunEnv(cfg);
  const loadS = (performance.now() - t0) / 1000;
  const h = env.hello;
  const meter = new OpMeter(h.n_layers);
  for (const w of env.pool.workers) meter.attach(w.sidecar);
  const gpu = new GpuSampler();
  const hasGpu = gpu.start();
  const stages: Record<string, unknown> = {};
  const stage = async (name: string, n: number, fn: () => Promise<unknown>) => {
    const a = performance.now();
    const r = (await fn()) as Record<string, unknown>;
    // The synthetic prompts' P0 is a placeholder, so the run's P0 check is noise here.
    const { p0_check: _p0, ...summary } = r;
    const b = performance.now();
    const wall = (b - a) / 1000;
    const m = meter.take();
    stages[name] = {
      prompts: n,
      wall_s: wall,
      prompts_per_s: n / wall,
      gpu_busy_pct: hasGpu ? gpu.mean(a, b, gpusOf(env.pool.workers.map((w) => w.device))) : null,
      sidecar_service_s: m.sidecar_service_s,
      ts_only_s: Math.max(0, wall - m.sidecar_service_s / env.pool.workers.length),
      ops: m.ops,
      summary,
    };
  };
  try {
    await stage("run", o.prompts, () => runStage(cfg, env, { prompts, resume: false, promptsFile, chunkSize: o.chunk, command: "bench" }));
    await stage("analyze", o.prompts, () => analyzeStage(cfg, env, { prompts, promptsFile, only: ["attention", "lens", "decompose"] }));
    await stage("patch", o.patch, () => analyzeStage(cfg, env, { prompts, promptsFile, only: ["patch"], patchLimit: o.patch }));
  } finally {
    gpu.stop();
    await env.close();
  }
  if (!baseline && o.inProcessScale !== undefined) baseline = await runInProcess(cfg, cfg.model.id, { scale: o.inProcessScale, maxBatchTokens: h.max_batch_tokens });
  for (const st of Object.values(stages) as { ops: Parameters<typeof againstBaseline>[0] }[]) st.ops = againstBaseline(st.ops, baseline);
  const paths = runPaths(cfg);
  const files = readdirSync(paths.traceDir).map((f) => statSync(join(paths.traceDir, f)).size);
  const floatBytes = h.dtype.includes("bfloat16") || h.dtype.includes("float16") ? 2 : 4;
  const old = readJsonl(paths.units, UnitRecord).map((u) =>
    rowsModeBytes(u.greedy.token_ids.length, u.prompt_ids.length, h.n_layers, h.n_heads, h.hidden_size, floatBytes),
  );
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const total = Object.values(stages).reduce((s: number, x) => s + (x as { wall_s: number }).wall_s, 0);
  return {
    model: h.model_id,
    dtype: h.dtype,
    device: h.device,
    sidecars: env.pool.workers.length,
    data_root: root,
    load_s: loadS,
    total_after_load_s: total,
    stages,
    baseline: baseline && { source: baseline.source, facts: baseline.facts },
    traces: { files: files.length, mean_bytes: mean(files), rows_mode_mean_bytes: mean(old), ratio: mean(old) / Math.max(1, mean(files)) },
  };
}
