/** `sempress report`: figures, tables.json, bootstrap_results.csv, appendix examples and report.html. */
import type { Command } from "commander";
import { buildReport } from "../../report/build.ts";
import { configFor, printJson } from "../common.ts";

export function register(program: Command): void {
  program
    .command("report")
    .description("build assets/figures, assets/tables.json, runs/bootstrap_results.csv and assets/report.html from runs/")
    .action(async (_opts: Record<string, unknown>, cmd: Command) => {
      const cfg = configFor(cmd);
      const s = await buildReport(cfg);
      printJson({
        ok: s.ok,
        report: s.report,
        tables: s.tables,
        bootstrap_results: s.bootstrap_results,
        figures: s.figures.flatMap((f) => [f.svg, f.png]),
        appendix_examples: s.appendix_examples.length,
        appendix_dir: s.appendix_examples.length ? s.appendix_examples[0].replace(/\/[^/]+$/, "") : null,
        explorer: s.explorer,
        n_prompts: s.n_prompts,
        missing_inputs: s.missing_inputs,
        seconds: s.seconds,
      });
    });
}
