import type { Command } from "commander";
import { loadConfig, parseLlm, type Config } from "../config.ts";
import { initLogger } from "../log.ts";

/** Global options shared by every sub-command (set on the root program). */
export interface GlobalOpts {
  config?: string;
  profile?: "default" | "paper";
  dataRoot?: string;
  logLevel?: string;
  /** `--devices auto|cpu|cuda:0,cuda:1` and `--sidecars N` (config sidecar.devices / sidecar.sidecars). */
  devices?: string;
  sidecars?: number;
}

/** Flags a sub-command may add that map onto config fields. */
export interface ConfigFlags {
  model?: string;
  promptFormat?: "raw" | "chat";
  llm?: string;
  trace?: "decision" | "full";
  /** `--trust-remote-code`: let a hub model run its own Python code (config model.trustRemoteCode). */
  trustRemoteCode?: boolean;
}

/** Resolves the config for a command from the root's global options and the command's own flags. */
export function configFor(cmd: Command, flags: ConfigFlags = {}): Config {
  const g = cmd.optsWithGlobals() as GlobalOpts & ConfigFlags;
  initLogger({ level: g.logLevel });
  const over: Record<string, unknown> = {};
  if (g.dataRoot) over.dataRoot = g.dataRoot;
  if (g.devices !== undefined || g.sidecars !== undefined) over.sidecar = { devices: g.devices, sidecars: g.sidecars };
  const model: Record<string, unknown> = {};
  const m = flags.model ?? g.model;
  if (m) model.id = m;
  const pf = flags.promptFormat ?? g.promptFormat;
  if (pf) model.promptFormat = pf;
  if (flags.trustRemoteCode ?? g.trustRemoteCode) model.trustRemoteCode = true;
  if (Object.keys(model).length) over.model = model;
  const llm = flags.llm ?? g.llm;
  if (llm) over.llm = parseLlm(llm);
  const tr = flags.trace ?? g.trace;
  if (tr) over.generation = { traceMode: tr };
  return loadConfig({ profile: g.profile, file: g.config, flags: over as never });
}

/** Results go to stdout as one JSON document; logs and progress go to stderr. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}
