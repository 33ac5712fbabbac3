/**
 * An analysis: a named step of `analyze` that reads unit records (../run/units.ts), declares what it
 * needs from the traces, and produces the rows of one CSV. The run captures in its traces the union of
 * what the analyses declare (./index.ts TRACE_NEEDS; decision-mode traces hold exactly DECISION_TRACE_HOLDS,
 * and a test fails when an analysis declares more), so a trace holds nothing no analysis reads.
 */
import type { Config } from "../config.ts";
import type { RunEnv } from "../run/env.ts";
import type { RunPaths } from "../run/outputs.ts";
import type { Shard } from "../run/shard.ts";
import type { UnitRecord } from "../run/units.ts";

/** What an analysis reads from a trace file; "decision_attention": every head's attention row at the decision step. */
export type TraceNeed = "decision_attention";

/** What a decision-mode trace file holds (../run/traceFile.ts). */
export const DECISION_TRACE_HOLDS: ReadonlySet<TraceNeed> = new Set(["decision_attention"]);

/** Both conditions' unit records of one finished prompt. */
export interface UnitPair {
  baseline: UnitRecord;
  negative: UnitRecord;
}

export interface AnalysisContext {
  cfg: Config;
  env: RunEnv;
  paths: RunPaths;
  /** Finished prompts in run order. */
  units: readonly UnitPair[];
  /** Prompts per lens/decompose request; half of it per patch request. */
  batch: number;
  patchLimit?: number;
  /** analyze --shard: `units` is already the shard's slice, except for patch, which slices its own batches. */
  shard?: Shard;
}

export interface AnalysisOutput<Row> {
  rows: Row[];
  /** Extra facts for the command's summary (e.g. the patching subset). */
  summary?: Record<string, unknown>;
}

export const ANALYSES = ["attention", "lens", "decompose", "patch"] as const;
export type AnalysisName = (typeof ANALYSES)[number];

export interface Analysis<Row extends object = object> {
  readonly name: AnalysisName;
  readonly needs: readonly TraceNeed[];
  readonly columns: readonly string[];
  /** The CSV it writes. */
  file(paths: RunPaths): string;
  run(ctx: AnalysisContext): Promise<AnalysisOutput<Row>>;
}

export function chunks<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}
