/**
 * The end-to-end bench (`sempress bench`): the real run and analyze stages, as the CLI runs them, over N
 * synthetic prompts (./synthetic.ts) with the design's shapes (both conditions, samplesPerPrompt ×
 * sampleMaxNewTokens samples, greedy traces, P_sem), then attention + lens + decompose, then patching of
 * `patch` prompts, in a scratch data root. Per stage: prompts/s, wall, GPU busy %, sidecar service vs
 * TypeScript-only time, and each op's rate (./meter.ts); plus trace file sizes against the previous
 * default's (hidden states of every layer and attention rows at every generation step, computed from
 * the same shapes).
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
import { GpuSampler, OpMeter } from "./meter.ts";
import { syntheticPrompts } from "./synthetic.ts";

export interface BenchOptions {
  prompts: number;
  patch: number;
  chunk?: number;
  dataRoot?: string;
}

/** Bytes of one trace in the format before unit records (rows mode: hidden + attention rows per step). */
export function rowsModeBytes(steps: number, promptLen: number, L: number, heads: number, hidden: number, floatBytes: number): number {
  const seq = promptLen + steps - 1;
  return (steps * (L + 1) * hidden + steps * L * heads * seq) * floatBytes + 8 * (promptLen + steps);
}

export async function benchE2E(base: Config, o: BenchOptions) {
  const root = o.dataRoot ?? mkdtempSync(join(tmpdir(), "sempress-bench-"));
  const cfg: Config = { ...base, dataRoot: root, analysis: { ...base.analysis, patchMinPrompts: o.patch } };
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
      gpu_busy_pct: hasGpu ? gpu.mean(a, b) : null,
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
    traces: { files: files.length, mean_bytes: mean(files), rows_mode_mean_bytes: mean(old), ratio: mean(old) / Math.max(1, mean(files)) },
  };
}
