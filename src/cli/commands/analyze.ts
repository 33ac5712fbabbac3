import type { Command } from "commander";
import { InputError } from "../../errors.ts";
import { configFor, printJson } from "../common.ts";
import { ANALYSES, analyzeStage, type Analysis } from "../../run/analyze.ts";
import { connectRunEnv } from "../../run/connect.ts";
import { runPaths } from "../../run/outputs.ts";
import { defaultPromptsFile, loadPrompts, promptsFileOfRun, runConfigOf } from "../../run/prompts.ts";
import { parsePositiveInt } from "./run.ts";

export function parseOnly(v: string, prev: Analysis[] = []): Analysis[] {
  const out = [...prev];
  for (const part of v.split(",").map((s) => s.trim()).filter(Boolean)) {
    if (!(ANALYSES as readonly string[]).includes(part)) throw new InputError(`--only: expected one of ${ANALYSES.join(", ")}, got "${part}"`);
    out.push(part as Analysis);
  }
  return out;
}

export function register(program: Command): void {
  program
    .command("analyze")
    .description("attention routing, logit lens, attention/FFN decomposition and activation patching from the run's traces")
    .option("--only <which>", `one or more of ${ANALYSES.join("|")} (comma separated or repeated)`, parseOnly)
    .option("--prompts <file>", "prompts JSONL (default: the one the run used)")
    .option("--model <id>", "model id (must be the run's model)")
    .option("--patch-limit <n>", "patch at most n prompts of the selected subset", parsePositiveInt("--patch-limit"))
    .action(async (o: { only?: Analysis[]; prompts?: string; model?: string; patchLimit?: number }, cmd: Command) => {
      // Default to the model and prompt format the run used (run.json), so analyze reads its traces right.
      const probe = runPaths(configFor(cmd));
      const used = runConfigOf(probe.manifest);
      const cfg = configFor(cmd, { model: o.model ?? used?.id, promptFormat: used?.promptFormat });
      const paths = runPaths(cfg);
      const file = o.prompts ?? promptsFileOfRun(paths.manifest) ?? defaultPromptsFile(cfg);
      const prompts = loadPrompts(file);
      const env = await connectRunEnv(cfg);
      try {
        const s = await analyzeStage(cfg, env, { prompts, only: o.only, patchLimit: o.patchLimit });
        printJson(s);
      } finally {
        await env.close();
      }
    });
}
