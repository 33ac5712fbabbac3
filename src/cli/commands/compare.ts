/** `sempress compare RUN_DIR… [--out DIR]`: one comparison page, compare.json and a unit explorer per run. */
import type { Command } from "commander";
import { dataPath } from "../../config.ts";
import { compareRuns } from "../../compare/build.ts";
import { patchRuleOf } from "../../report/patchSubset.ts";
import { configFor, printJson } from "../common.ts";

export function register(program: Command): void {
  program
    .command("compare")
    .description("compare several runs (data roots, or their runs/ directories): OUT/compare.html, compare.json and a unit explorer per run")
    .argument("<run_dirs...>", "two or more data roots (directories holding runs/run.json) or runs/ directories")
    .option("--out <dir>", "output directory (default: <data root>/assets/compare)")
    .action(async (dirs: string[], opts: { out?: string }, cmd: Command) => {
      const cfg = configFor(cmd);
      const s = await compareRuns(dirs, {
        out: opts.out ?? dataPath(cfg, "assets/compare"),
        edges: cfg.dataset.binEdges,
        B: cfg.analysis.bootstrapB,
        seed: cfg.seeds.python,
        patchRule: patchRuleOf(cfg),
      });
      printJson(s);
    });
}
