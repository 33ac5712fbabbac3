import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { InputError } from "../../errors.ts";
import { configFor, printJson } from "../common.ts";
import { ANALYSIS_LIST } from "../../analyze/index.ts";
import { ANALYZE_SHARD_FILE, mergeAnalyzeShards } from "../../analyze/shards.ts";
import { mergeRunShards } from "../../run/merge.ts";
import { runPaths } from "../../run/outputs.ts";

export function register(program: Command): void {
  program
    .command("merge")
    .description("combine shard directories (run --shard i/N, or analyze --shard i/N) into one run directory that analyze and report read")
    .argument("<dirs...>", "shard directories, e.g. runs.shard-*-of-4 (or runs.analyze-shard-*-of-4)")
    .option("--out <dir>", "run directory to write (default runs/ under the data root; for analyze shards: the run they analysed)")
    .option("--force", "run shards: move an --out that already holds files aside to <out>.<UTC stamp>/ first")
    .action((given: string[], o: { out?: string; force?: boolean }, cmd: Command) => {
      const cfg = configFor(cmd);
      const dirs = given.map((d) => resolve(d));
      for (const d of dirs) if (!existsSync(d) || !statSync(d).isDirectory()) throw new InputError(`${d}: no such shard directory`);
      const out = resolve(o.out ?? runPaths(cfg).runs);
      const analyze = dirs.filter((d) => existsSync(join(d, ANALYZE_SHARD_FILE)));
      if (analyze.length > 0 && analyze.length < dirs.length) {
        throw new InputError(`${dirs.find((d) => !analyze.includes(d))}: no ${ANALYZE_SHARD_FILE}, unlike ${analyze[0]}: merge run shards and analyze shards separately`);
      }
      printJson(analyze.length ? mergeAnalyzeShards(dirs, out, ANALYSIS_LIST) : mergeRunShards(dirs, out, Boolean(o.force)));
    });
}
