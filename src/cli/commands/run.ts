import type { Command } from "commander";
import { InputError } from "../../errors.ts";
import { configFor, printJson } from "../common.ts";
import { connectRunEnv } from "../../run/connect.ts";
import { assertSameRun, datasetFacts, RUN_HINT, runIdentity } from "../../run/identity.ts";
import { parseShard, runShardPaths, shardLabel, type Shard } from "../../run/shard.ts";
import { DEFAULT_CHUNK, runStage } from "../../run/runner.ts";
import { defaultPromptsFile, loadPrompts } from "../../run/prompts.ts";

export function parsePositiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InputError(`${name} must be a positive integer, got "${v}"`);
    return n;
  };
}

export interface RunCliOptions {
  prompts?: string;
  model?: string;
  limit?: number;
  resume?: boolean;
  force?: boolean;
  trace?: "decision" | "full";
  promptFormat?: "raw" | "chat";
  chunk?: number;
  shard?: Shard;
}

export function register(program: Command): void {
  program
    .command("run")
    .description("greedy pass with traces, sampling pass, detection, P0/P1 and behaviour for every prompt × condition")
    .option("--prompts <file>", "prompts JSONL (default data/validated/prompts.jsonl under the data root)")
    .option("--model <id>", "HF id, local dir, .gguf, random:<config.json> or default (embedded)")
    .option("--limit <n>", "only the first n prompts", parsePositiveInt("--limit"))
    .option("--resume", "continue an interrupted run (finished chunks are kept); refused if model, prompt format, dataset or config differ")
    .option("--force", "start a new run directory: the existing runs/ is renamed to runs.<UTC stamp>/ first")
    .option("--trace <mode>", "decision (attention rows at the decision step, default) or full (every position, hidden states too)")
    .option("--prompt-format <fmt>", "raw or chat")
    .option("--chunk <n>", `prompts per sidecar batch (default ${DEFAULT_CHUNK}, paper profile 32; a resume reuses the run's)`, parsePositiveInt("--chunk"))
    .option("--shard <i/N>", "only chunks c with c mod N = i, into runs.shard-i-of-N/ (combine with `sempress merge`)", parseShard)
    .action(async (o: RunCliOptions, cmd: Command) => {
      const cfg = configFor(cmd, { model: o.model, trace: o.trace, promptFormat: o.promptFormat });
      const file = o.prompts ?? defaultPromptsFile(cfg);
      const prompts = loadPrompts(file, o.limit);
      if (o.force && o.resume) throw new InputError("--force and --resume exclude each other: --force starts a new run directory");
      // Refuse a different run before the model is loaded (runStage checks again with the resolved model id).
      if (!o.force) assertSameRun(runShardPaths(cfg, o.shard).manifest, runIdentity(cfg, datasetFacts(file, prompts), null), cfg, RUN_HINT);
      const env = await connectRunEnv(cfg);
      try {
        const s = await runStage(cfg, env, {
          prompts,
          resume: Boolean(o.resume),
          force: Boolean(o.force),
          chunkSize: o.chunk,
          shard: o.shard,
          promptsFile: file,
          command: `run${o.limit ? ` --limit ${o.limit}` : ""}${o.resume ? " --resume" : ""}${o.force ? " --force" : ""}${o.shard ? ` --shard ${shardLabel(o.shard)}` : ""}`,
        });
        printJson({ ...s, model: env.hello.model_id, sidecars: env.pool.workers.length, runs: cfg.dataRoot, ...(o.shard ? { shard_dir: runShardPaths(cfg, o.shard).runs } : {}) });
      } finally {
        await env.close();
      }
    });
}
