/** `sempress bench`: the end-to-end bench (../../bench/e2e.ts); one JSON document on stdout. */
import type { Command } from "commander";
import { benchE2E } from "../../bench/e2e.ts";
import { configFor, printJson } from "../common.ts";
import { parsePositiveInt } from "./run.ts";

export function register(program: Command): void {
  program
    .command("bench")
    .description("end to end: run + analyze + patching through the real stages on N synthetic prompts; per-stage rates, GPU busy %, sidecar vs TS time")
    .option("--model <id>", "HF id, local dir, random:<config.json> or default (embedded)")
    .option("--prompts <n>", "synthetic prompts (both conditions each)", parsePositiveInt("--prompts"), 64)
    .option("--patch <n>", "prompts to patch", parsePositiveInt("--patch"), 8)
    .option("--chunk <n>", "prompts per run chunk (default: the profile's)", parsePositiveInt("--chunk"))
    .option("--keep <dir>", "data root to keep the bench run in (default: a temporary directory)")
    .action(async (o: { model?: string; prompts: number; patch: number; chunk?: number; keep?: string }, cmd: Command) => {
      const cfg = configFor(cmd, { model: o.model });
      printJson(await benchE2E(cfg, { prompts: o.prompts, patch: o.patch, chunk: o.chunk, dataRoot: o.keep }));
    });
}
