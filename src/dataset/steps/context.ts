/**
 * What every build step gets, and the one shape a step has (inspect_ai style: a name, the files it
 * reads and writes, and a run function returning the counts that go into steps.json and report.json).
 */
import type { Config } from "../../config.ts";
import type { Ledger } from "../batch/ledger.ts";
import type { SplitLimits } from "../batch/files.ts";
import type { BatchProvider } from "../llm/provider.ts";
import type { DatasetPaths } from "../paths.ts";
import type { P0Probe } from "../probe.ts";

export interface StepContext {
  cfg: Config;
  paths: DatasetPaths;
  provider: BatchProvider;
  ledger: Ledger;
  probe: P0Probe;
  /** Source label of generated candidates: llm | replay | replay_demo */
  generatedSource: string;
  limits?: SplitLimits;
}

export type Counts = Record<string, unknown>;

export interface Step {
  name: string;
  /** Files (relative to the data root) the step reads — documentation and the manifest. */
  inputs: readonly string[];
  /** Files the step writes; a finished step whose outputs are all present is skipped on --resume. */
  outputs: (p: DatasetPaths) => string[];
  run(ctx: StepContext): Promise<Counts>;
}
