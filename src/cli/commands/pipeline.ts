import type { Command } from "commander";
import { configFor, printJson } from "../common.ts";
import { runPipeline, type PipelineSummary } from "../../run/pipeline.ts";
import { parsePositiveInt } from "./run.ts";

export function register(program: Command): void {
  program
    .command("pipeline")
    .description("dataset build → run → analyze → report on the configured profile (one model load)")
    .option("--model <id>", "model for every stage (default: the profile's)")
    .option("--llm <spec>", 'dataset batch replies from "openai" or "replay:DIR"')
    .option("--resume", "continue an interrupted pipeline (dataset steps and run chunks already done are kept)")
    .option("--force", "start a new run directory: the existing runs/ is renamed to runs.<UTC stamp>/ first")
    .option("--limit <n>", "run only the first n prompts (default profile: 30)", parsePositiveInt("--limit"))
    .option("--all", "run every prompt and patch the whole subset, whatever the profile")
    .option("--patch-limit <n>", "patch at most n prompts (default profile: 8)", parsePositiveInt("--patch-limit"))
    .action(async (o: { model?: string; llm?: string; resume?: boolean; force?: boolean; limit?: number; all?: boolean; patchLimit?: number }, cmd: Command) => {
      const cfg = configFor(cmd, { model: o.model, llm: o.llm });
      const s = await runPipeline(cfg, {
        resume: o.resume,
        force: o.force,
        limit: o.all ? null : o.limit,
        patchLimit: o.all ? null : o.patchLimit,
      });
      printPipelineSummary(s);
    });
}

/** The summary as the one JSON document on stdout; the human-readable line goes to stderr. */
export function printPipelineSummary(s: PipelineSummary): void {
  printJson(s);
  process.stderr.write(`sempress pipeline: stages took ${Object.values(s.seconds).reduce((a, b) => a + b, 0).toFixed(0)} s; report at ${s.report}\n`);
}
