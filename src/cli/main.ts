import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { SempressError } from "../errors.ts";
import { log, scrubSecrets } from "../log.ts";

/**
 * Each stage contributes one module that registers its sub-command(s). Add a line here when a stage
 * gains a command; nothing else in this file needs to change.
 */
const COMMAND_MODULES = [
  "./commands/sidecar.ts",
  "./commands/detect.ts",
  "./commands/psem.ts",
  "./commands/dataset.ts",
  "./commands/run.ts",
  "./commands/analyze.ts",
  "./commands/report.ts",
  "./commands/compare.ts",
  "./commands/pipeline.ts",
  "./commands/model.ts",
  "./commands/merge.ts",
  "./commands/bench.ts",
];

export async function buildProgram(): Promise<Command> {
  const program = new Command("sempress")
    .description("Semantic pressure: does a model's pull towards X predict saying X when told not to?")
    .option("--config <file>", "JSON config file (overrides profile defaults)")
    .option("--profile <name>", "default (embedded model, offline) or paper (Qwen2.5-7B-Instruct)")
    .option("--data-root <dir>", "root for data/, runs/ and assets/")
    .option("--log-level <level>", "pino level for stderr logs (default: SEMPRESS_LOG_LEVEL, else info)")
    .addOption(new Option("--prompt-format <fmt>", "raw or chat, for every stage (default: the profile's)").choices(["raw", "chat"]))
    .option("--trust-remote-code", "let a hub model run its own Python code (only for repos you trust)")
    .option("--devices <list>", "sidecars: auto (one per GPU), cpu, or cuda:0,cuda:1 (cuda:0+cuda:1 = one over both); default one over every device")
    .option("--sidecars <n>", "sidecars per --devices entry (e.g. --devices cpu --sidecars 2)", (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`--sidecars must be a positive integer, got "${v}"`);
      return n;
    })
    .showHelpAfterError();
  for (const m of COMMAND_MODULES) {
    let mod: { register?: (p: Command) => void };
    try {
      mod = await import(m);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND" && String(e).includes(m.slice(2))) continue;
      throw e;
    }
    mod.register?.(program);
  }
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = await buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode;
      return;
    }
    if (e instanceof SempressError) {
      process.stderr.write(`sempress: ${e.code}: ${scrubSecrets(e.message)}\n`);
      log().debug({ err: e, code: e.code }, "command failed");
      process.exitCode = e.exitCode;
      return;
    }
    process.stderr.write(`sempress: internal error: ${scrubSecrets((e as Error)?.stack ?? String(e))}\n`);
    process.exitCode = 1;
  }
}
