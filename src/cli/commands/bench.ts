/** `sempress bench`: the end-to-end bench (../../bench/e2e.ts); one JSON document on stdout. */
import type { Command } from "commander";
import { benchE2E } from "../../bench/e2e.ts";
import { InputError } from "../../errors.ts";
import { configFor, printJson } from "../common.ts";
import { parsePositiveInt } from "./run.ts";

interface BenchCliOptions {
  model?: string;
  prompts: number;
  patch: number;
  chunk?: number;
  keep?: string;
  baseline?: string;
  inProcess?: number | true;
}

function parseScale(v: string): number {
  const x = Number(v);
  if (!(x > 0)) throw new InputError(`--in-process: the scale must be a positive number, got "${v}"`);
  return x;
}

export function register(program: Command): void {
  program
    .command("bench")
    .description("end to end: run + analyze + patching through the real stages on N synthetic prompts; per-stage rates, GPU busy %, sidecar vs TS time")
    .option("--model <id>", "HF id, local dir, random:<config.json> or default (embedded)")
    .option("--prompts <n>", "synthetic prompts (both conditions each)", parsePositiveInt("--prompts"), 64)
    .option("--patch <n>", "prompts to patch", parsePositiveInt("--patch"), 8)
    .option("--chunk <n>", "prompts per run chunk (default: the profile's)", parsePositiveInt("--chunk"))
    .option("--keep <dir>", "data root to keep the bench run in (default: a temporary directory)")
    .option("--baseline <file>", "in-process op rates to set the CLI's against (py-sidecar/bench/gpu_bench.py --out)")
    .option("--in-process [scale]", "run py-sidecar/bench/gpu_bench.py for the same model after the stages (its --scale, default 1)", parseScale)
    .action(async (o: BenchCliOptions, cmd: Command) => {
      const cfg = configFor(cmd, { model: o.model });
      const inProcessScale = o.inProcess === undefined ? undefined : o.inProcess === true ? 1 : o.inProcess;
      printJson(await benchE2E(cfg, { prompts: o.prompts, patch: o.patch, chunk: o.chunk, dataRoot: o.keep, baseline: o.baseline, inProcessScale }));
    });
}
