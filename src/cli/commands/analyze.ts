import type { Command } from "commander";
import { InputError } from "../../errors.ts";
import { configFor, printJson } from "../common.ts";
import { ANALYSES, analyzeStage, type AnalysisName as Analysis } from "../../analyze/index.ts";
import { connectRunEnv } from "../../run/connect.ts";
import { runPaths } from "../../run/outputs.ts";
import { ANALYZE_HINT, assertSameRun, datasetFacts, runDefaults, runIdentity } from "../../run/identity.ts";
import { defaultPromptsFile, loadPrompts, promptsFileOfRun } from "../../run/prompts.ts";
import { parsePositiveInt } from "./run.ts";
import { parseShard, type Shard } from "../../run/shard.ts";

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
    .option("--model <id>", "model id (default and only accepted value: the run's model)")
    .option("--prompt-format <fmt>", "raw or chat (default and only accepted value: the run's)")
    .option("--patch-limit <n>", "patch at most n prompts of the selected subset", parsePositiveInt("--patch-limit"))
    .option("--shard <i/N>", "batches g with g mod N = i of each analysis, into runs.analyze-shard-i-of-N/ (combine with `sempress merge`)", parseShard)
    .action(async (o: { only?: Analysis[]; prompts?: string; model?: string; promptFormat?: "raw" | "chat"; patchLimit?: number; shard?: Shard }, cmd: Command) => {
      // Default to the run's model, prompt format, trace mode and dataset provider (run.json), so
      // analyze reads its traces right; anything given that differs from the run is refused below.
      const used = runDefaults(runPaths(configFor(cmd)).manifest);
      const cfg = configFor(cmd, { model: o.model ?? used.model, promptFormat: o.promptFormat ?? used.promptFormat, trace: used.trace, llm: used.llm });
      const paths = runPaths(cfg);
      const file = o.prompts ?? promptsFileOfRun(paths.manifest) ?? defaultPromptsFile(cfg);
      const prompts = loadPrompts(file);
      assertSameRun(paths.manifest, runIdentity(cfg, datasetFacts(file, prompts), null), cfg, ANALYZE_HINT);
      const env = await connectRunEnv(cfg);
      try {
        const s = await analyzeStage(cfg, env, { prompts, promptsFile: file, only: o.only, patchLimit: o.patchLimit, shard: o.shard });
        printJson(s);
      } finally {
        await env.close();
      }
    });
}
