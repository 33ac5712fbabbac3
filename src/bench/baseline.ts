/**
 * The in-process rates the end-to-end bench sets the CLI's op rates against: py-sidecar/bench/gpu_bench.py
 * calls each op in the sidecar's own process on batches of the design's shapes, so its rate is what the op
 * can do with no TypeScript, no bridge and no waiting. Either run here for the same model (after the CLI
 * stages, so the two never share the GPU) or read from a file that script wrote (`--out`).
 *
 * Both sides count the same work items per op (./meter.ts itemsOf ≙ gpu_bench.e2e_items): score items,
 * generate samples (prompts × n, greedy and sampling apart), trace sequences, lens/decompose items,
 * patch layer-patches.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import type { Config } from "../config.ts";
import { InputError, SempressError } from "../errors.ts";
import { log } from "../log.ts";
import { REPO_ROOT } from "../rpc/process.ts";
import { sidecarEnv } from "../rpc/childEnv.ts";
import { readJsonFile } from "../util/jsonl.ts";

const GpuBenchFile = z.object({
  facts: z.record(z.string(), z.unknown()).optional(),
  results: z.array(z.object({ op: z.string().optional(), stage: z.string(), items_per_s: z.number().optional() }).passthrough()),
});

export interface Baseline {
  /** Where the rates came from: the file read, or the command run. */
  source: string;
  facts: Record<string, unknown> | null;
  /** Work items per second per op key (meter.ts keys: score, generate:greedy, generate:sample, trace, …). */
  perS: Record<string, number>;
}

/** Reads a gpu_bench.py `--out` file; stages without an `op` and `items_per_s` (older files) are skipped. */
export function readBaseline(file: string): Baseline {
  if (!existsSync(file)) throw InputError.at(file, null, null, "baseline file not found (write one with py-sidecar/bench/gpu_bench.py --out)");
  const doc = readJsonFile(file, GpuBenchFile);
  const perS: Record<string, number> = {};
  for (const r of doc.results) if (r.op && r.items_per_s !== undefined) perS[r.op] = r.items_per_s;
  if (Object.keys(perS).length === 0) throw InputError.at(file, null, "results", "no stage has op and items_per_s (written by an older gpu_bench.py?)");
  return { source: file, facts: doc.facts ?? null, perS };
}

export interface InProcessOptions {
  /** gpu_bench.py --scale (1: its full batch sizes; CPU smoke runs use ≈ 0.01). */
  scale: number;
  maxBatchTokens?: number;
}

/** Runs gpu_bench.py (ops' own rates only, no naive loops) for `model` with the configured Python. */
export async function runInProcess(cfg: Pick<Config, "sidecar">, model: string, o: InProcessOptions): Promise<Baseline> {
  const dir = mkdtempSync(join(tmpdir(), "sempress-inproc-"));
  const out = join(dir, "gpu_bench.json");
  const args = [join(REPO_ROOT, "py-sidecar", "bench", "gpu_bench.py"), "--model", model, "--no-naive", "--scale", String(o.scale)];
  if (o.maxBatchTokens) args.push("--max-batch-tokens", String(o.maxBatchTokens));
  const command = `${cfg.sidecar.python} ${args.join(" ")}`;
  args.push("--out", out);
  log().info({ command }, "in-process baseline");
  try {
    const tail: string[] = [];
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(cfg.sidecar.python, args, { cwd: REPO_ROOT, env: { ...sidecarEnv(process.env), PYTHONUNBUFFERED: "1" }, stdio: ["ignore", "pipe", "pipe"] });
      const keep = (d: Buffer) => tail.push(...d.toString().split("\n").filter(Boolean).slice(-20));
      child.stdout.on("data", keep);
      child.stderr.on("data", keep);
      child.once("error", (e) => (tail.push(e.message), resolve(null)));
      child.once("exit", resolve);
    });
    if (code !== 0) throw new SempressError("baseline_failed", `in-process baseline (${command}) failed (exit ${code}): ${tail.slice(-3).join(" | ")}`);
    return { ...readBaseline(out), source: command };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface OpRate {
  items: number;
  seconds: number;
  per_s: number;
}

/** Each op's CLI rate with the in-process rate beside it and their ratio (null where the baseline lacks the op). */
export function againstBaseline<T extends OpRate>(ops: Record<string, T>, b: Baseline | null): Record<string, T & { baseline_per_s: number | null; of_baseline: number | null }> {
  const out: Record<string, T & { baseline_per_s: number | null; of_baseline: number | null }> = {};
  for (const [op, s] of Object.entries(ops)) {
    const base = b?.perS[op] ?? null;
    out[op] = { ...s, baseline_per_s: base, of_baseline: base ? s.per_s / base : null };
  }
  return out;
}
