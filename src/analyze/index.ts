/**
 * The analyze stage (DESIGN.md Module 5): a list of small analyses over the run's unit records
 * (runs/units.jsonl), each writing one CSV:
 *   attention   runs/attention_metrics.csv   negative condition, decision-step attention routing
 *   lens        runs/logit_lens.csv          both conditions, S(X) first-token mass per layer
 *   decompose   runs/ffn_attn_decomp.csv     both conditions, p_in / p_attn / p_out per layer
 *   patch       runs/patching_results.csv    high-pressure subset, ΔP per layer for resid and attn patches
 * Outcome = the negative prompt's greedy outcome (unit.outcome), shared by both conditions' rows, so that
 * baseline and negative curves of one outcome group are the same prompts (figure 5's caption).
 * A different profile, model, prompt format, dataset file or config hash than the run's (run.json,
 * ../run/identity.ts) is refused before anything is read. `shard` (../run/shard.ts) does a slice of each
 * analysis's batches into runs.analyze-shard-i-of-N/ (with analyze.json, ./shards.ts) for `sempress merge`.
 */
import type { Config } from "../config.ts";
import type { PromptRecord } from "../schemas.ts";
import { writeCsv } from "../util/csv.ts";
import type { RunEnv } from "../run/env.ts";
import { ANALYZE_HINT, assertSameRun, datasetFacts, runIdentity } from "../run/identity.ts";
import { analyzeShardPaths, shardGroups, type Shard } from "../run/shard.ts";
import { ANALYSES, chunks, type Analysis, type AnalysisContext, type AnalysisName, type AnalysisOutput, type TraceNeed } from "./analysis.ts";
import { writeAnalyzeShard } from "./shards.ts";
import { attentionAnalysis } from "./attention.ts";
import { decomposeAnalysis, lensAnalysis } from "./lens.ts";
import { patchAnalysis } from "./patch.ts";
import { loadUnits } from "./units.ts";

/** Run order; names as in ./analysis.ts ANALYSES. */
export const ANALYSIS_LIST: readonly Analysis[] = [attentionAnalysis, lensAnalysis, decomposeAnalysis, patchAnalysis];
export { ANALYSES, type AnalysisName };

/** What the run's traces must hold: the union of the analyses' declared needs. */
export const TRACE_NEEDS: ReadonlySet<TraceNeed> = new Set(ANALYSIS_LIST.flatMap((a) => a.needs));

export interface AnalyzeOptions {
  prompts: readonly PromptRecord[];
  /** The file the prompts came from (its sha256 must be the run's dataset hash). */
  promptsFile?: string;
  only?: AnalysisName[];
  /** Cap on patched prompts (after the balanced, shuffled selection); default all. */
  patchLimit?: number;
  /** Prompts per lens/decompose request and per patch request. */
  batch?: number;
  /** Only this slice of each analysis's batches, written to runs.analyze-shard-i-of-N/. */
  shard?: Shard;
}

export interface AnalyzeSummary {
  prompts: number;
  rows: Partial<Record<AnalysisName, number>>;
  patch?: { threshold: number; highPressure: number; patched: number };
  seconds: number;
}

export async function analyzeStage(cfg: Config, env: RunEnv, opts: AnalyzeOptions): Promise<AnalyzeSummary> {
  const t0 = Date.now();
  const paths = analyzeShardPaths(cfg, opts.shard);
  assertSameRun(paths.manifest, runIdentity(cfg, datasetFacts(opts.promptsFile, opts.prompts), env.hello.model_id), cfg, ANALYZE_HINT);
  const only = new Set<AnalysisName>(opts.only?.length ? opts.only : ANALYSES);
  const units = loadUnits(paths);
  const batch = opts.batch ?? 8;
  // A shard's units are whole batches (the unsharded run's); patch picks its subset over all units first.
  const ctx = { cfg, env, paths, units: shardGroups(chunks(units, batch), opts.shard).flat(), batch, patchLimit: opts.patchLimit, shard: opts.shard };
  const summary: AnalyzeSummary = { prompts: units.length, rows: {}, seconds: 0 };
  const selected = ANALYSIS_LIST.filter((a) => only.has(a.name));
  const write = (a: Analysis, out: { rows: object[]; summary?: Record<string, unknown> }) => {
    writeCsv(a.file(paths), a.columns, out.rows as Record<string, unknown>[]);
    summary.rows[a.name] = out.rows.length;
    if (a.name === "patch") summary.patch = out.summary as AnalyzeSummary["patch"];
  };
  const together = selected.filter((a) => a.name !== "patch");
  const outs = await runAnalyses(together, ctx, !env.hello.device.startsWith("cpu"));
  outs.forEach((out, i) => write(together[i], out));
  for (const a of selected.filter((x) => x.name === "patch")) write(a, await a.run({ ...ctx, units }));
  if (opts.shard && paths.shardDir) {
    writeAnalyzeShard(paths.shardDir, paths, cfg, { shard: opts.shard, batch, patchLimit: opts.patchLimit, only: ANALYSES.filter((n) => only.has(n)), rows: summary.rows });
  }
  summary.seconds = (Date.now() - t0) / 1000;
  return summary;
}

/**
 * Attention is TypeScript over the trace files, lens and decompose are sidecar requests: on a GPU they
 * run together, so the sidecars work while TypeScript reads traces (each analysis's rows and CSV are what
 * they were); all are awaited before the first failure is thrown. A CPU sidecar shares the CPU with
 * TypeScript, so there they run one after another.
 */
async function runAnalyses(list: readonly Analysis[], ctx: AnalysisContext, overlap: boolean): Promise<AnalysisOutput<object>[]> {
  if (!overlap) {
    const out: AnalysisOutput<object>[] = [];
    for (const a of list) out.push(await a.run(ctx));
    return out;
  }
  const settled = await Promise.allSettled(list.map((a) => a.run(ctx)));
  return settled.map((r) => {
    if (r.status === "rejected") throw r.reason;
    return r.value;
  });
}
