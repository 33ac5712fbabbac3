/**
 * The run stage (DESIGN.md Module 3): for every prompt × {baseline, negative}
 *   1. one `generate` per chunk: the sampling pass (samplesPerPrompt × sampleMaxNewTokens, temperature,
 *      top-p, seeded per prompt and condition with deriveSeed(seeds.torch, "{prompt_id}|{condition}"))
 *      and, in the same batch, each prompt's greedy row (≤ greedyMaxNewTokens) → completions, detections;
 *   2. the greedy detection's decision step fixes the trace input; one batched eager `trace` pass → trace
 *      file (attention rows at the decision step by default, everything with `--trace full`);
 *   3. P0 / P1 (P_sem under the baseline / negative prompt) → psem.csv; behaviour → behavior.csv;
 *   4. one unit record per prompt × condition → units.jsonl (./units.ts), the only input of analyze.
 * Prompts go in fixed chunks by index, so the sidecar batches are the same whether or not the run was
 * interrupted, and whichever sidecar of the pool (./pool.ts) runs a chunk; see ./outputs.ts for the
 * resume rule. `shard` keeps chunk c only when c mod N = i, in runs.shard-i-of-N/ (./shard.ts).
 * Detection mapping errors stop the run.
 * Before anything runs, the run's identity (./identity.ts) is checked against runs/run.json: a resume
 * or a fresh run over a different run is refused; `force` moves the old run directory aside first.
 * When the run ends, P0 is compared with prompts.jsonl's selection-time P0 (./p0check.ts).
 */
import { existsSync, readFileSync } from "node:fs";
import { setupDirectories, type Config } from "../config.ts";
import { detectInIds, type Detection } from "../detect/detector.ts";
import { InputError, MappingError } from "../errors.ts";
import { log } from "../log.ts";
import { behaviorRow, BEHAVIOR_COLUMNS } from "../metrics/behavior.ts";
import { suppression } from "../metrics/suppression.ts";
import { PsemRow, type Outcome, type CompletionRecord, type Condition, type DetectionRecord, type PromptRecord } from "../schemas.ts";
import { binOf } from "../stats/bins.ts";
import { appendCsv, readCsv } from "../util/csv.ts";
import { appendJsonl } from "../util/jsonl.ts";
import { deriveSeed } from "../util/prng.ts";
import { Progress } from "../util/progress.ts";
import { buildPrompts, type RunEnv } from "./env.ts";
import { psemBatch } from "../metrics/psem.ts";
import { decisionInput } from "../metrics/logitLens.ts";
import type { Spans } from "../metrics/spans.ts";
import type { OpResult } from "../rpc/protocol.ts";
import { negativeSpans, sxAfter } from "./unitFacts.ts";
import type { SxSet, UnitRecord } from "./units.ts";
import { assertSameRun, datasetFacts, moveRunAside, RUN_HINT, runIdentity } from "./identity.ts";
import { updateManifest, writeManifest } from "./manifest.ts";
import { logP0Check, p0Check, type P0Check } from "./p0check.ts";
import {
  chunkIndices,
  clearRunOutputs,
  completedPrompts,
  readProgress,
  truncateToCompleted,
  type RunPaths,
} from "./outputs.ts";
import { poolOf } from "./pool.ts";
import { inShard, runShardPaths, type Shard } from "./shard.ts";
import { traceFileName, tracePath, writeTrace } from "./traceFile.ts";

export const CONDITIONS: readonly Condition[] = ["baseline", "negative"];
export const DEFAULT_CHUNK = 8;

/** Prompts per chunk: 8 on CPU-sized profiles, 32 on the paper profile (GPU batches). */
export function defaultChunk(cfg: Pick<Config, "profile">): number {
  return cfg.profile === "paper" ? 32 : DEFAULT_CHUNK;
}

function recordedChunkSize(manifest: string): number | null {
  if (!existsSync(manifest)) return null;
  try {
    const n = (JSON.parse(readFileSync(manifest, "utf8")) as { run?: { chunk_size?: unknown } }).run?.chunk_size;
    return typeof n === "number" && Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

export const PSEM_COLUMNS = [
  "prompt_id",
  "category",
  "target_word",
  "bin",
  "p0",
  "p1",
  "delta",
  "rel_suppression",
  "log_ratio",
  "p0_plain",
  "p1_plain",
] as const;

export interface RunOptions {
  prompts: readonly PromptRecord[];
  resume: boolean;
  /** Start a new run directory: the existing runs/ is renamed to runs.<UTC stamp>/ first. */
  force?: boolean;
  chunkSize?: number;
  /** Recorded in run.json. */
  command?: string;
  promptsFile?: string;
  /** Only this slice of the chunks, in runs.shard-i-of-N/ (./shard.ts). */
  shard?: Shard;
  /** Called after each prompt's done marker (tests simulate a crash by throwing here). */
  onPromptDone?: (promptId: string, doneCount: number) => void;
}

export interface RunSummary {
  prompts: number;
  skipped: number;
  ran: number;
  chunks: number;
  seconds: number;
  /** Where --force moved the previous run directory (null: nothing moved). */
  moved_aside: string | null;
  /** Selection-time P0 (prompts.jsonl) vs the run's P0 (psem.csv). */
  p0_check: P0Check;
}

/**
 * Chunks in flight per sidecar. TypeScript's work on a finished chunk (detection, records, trace files)
 * blocks the event loop; at two, a chunk's trace could be the sidecar's only queued request then, and on
 * the H200 at 7B shapes the GPU idled ≈ 38 % of the run (docs/BENCHMARKS.md). Three keeps the next
 * chunk's generate and score queued behind it.
 */
export const RUN_DEPTH = 3;

/** The sampling seed of one prompt × condition. */
export function samplingSeed(cfg: Pick<Config, "seeds">, promptId: string, condition: Condition): number {
  return deriveSeed(cfg.seeds.torch, `${promptId}|${condition}`);
}

interface PerCondition {
  text: string;
  ids: number[];
  generated: number[];
  trace: OpResult<"trace">["items"][number];
  greedy: Detection;
  decisionStep: number;
  spans: Spans | null;
  sxPrompt: SxSet;
  sxDecision: SxSet;
  samples: { ids: number[]; det: Detection }[];
  seed: number;
  psem: { p: number; plain: number };
}

export async function runStage(cfg: Config, env: RunEnv, opts: RunOptions): Promise<RunSummary> {
  const t0 = Date.now();
  if (opts.force && opts.resume) throw new InputError("--force and --resume exclude each other: --force starts a new run directory");
  const ids = opts.prompts.map((p) => p.prompt_id);
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  if (dup !== undefined) throw new InputError(`${opts.promptsFile ?? "prompts"}: duplicate prompt_id ${dup}`);
  const paths = runShardPaths(cfg, opts.shard);
  const identity = runIdentity(cfg, datasetFacts(opts.promptsFile, opts.prompts), env.hello.model_id);
  setupDirectories(cfg);
  const movedAside = opts.force ? moveRunAside(paths.runs) : null;
  if (movedAside) {
    log().warn({ from: paths.runs, to: movedAside }, `--force: the previous run directory is now ${movedAside}`);
    setupDirectories(cfg);
  }
  if (!opts.force) assertSameRun(paths.manifest, identity, cfg, RUN_HINT);
  // A resume keeps the chunking of the run it continues (run.json), unless told otherwise.
  const chunkSize = opts.chunkSize ?? (opts.resume ? recordedChunkSize(paths.manifest) : null) ?? defaultChunk(cfg);
  let done = new Set<string>();
  if (opts.resume) {
    done = completedPrompts(ids, chunkSize, readProgress(paths));
    truncateToCompleted(paths, done);
    log().info({ done: done.size, total: ids.length }, "resuming run");
  } else {
    clearRunOutputs(paths);
  }
  writeManifest(paths.manifest, cfg, env.hello, {
    command: opts.command ?? "run",
    ...identity,
    run: { prompts_file: opts.promptsFile ?? null, n_prompts: ids.length, chunk_size: chunkSize, resume: opts.resume, ...(opts.shard ? { shard: opts.shard } : {}) },
  });
  const mine = chunkIndices(ids.length, chunkSize).filter((c) => inShard(Math.floor(c[0] / chunkSize), opts.shard));
  const chunks = mine.filter((c) => !c.every((i) => done.has(ids[i])));
  const total = mine.reduce((n, c) => n + c.length, 0);
  const skipped = total - chunks.reduce((n, c) => n + c.length, 0);
  const bar = new Progress("run", total, skipped);
  let count = skipped;
  // The pool keeps RUN_DEPTH chunks per sidecar in flight (later chunks' requests are queued while this
  // one's records are detected, built and written, so no model waits on TypeScript) and hands results
  // back in chunk order; each chunk's batches are the same as with one sidecar and no overlap.
  const results = poolOf(env.sidecar, env.hello).ordered(
    chunks,
    (sidecar, chunk) => processChunk(cfg, { ...env, sidecar }, paths, chunk.map((i) => opts.prompts[i])),
    RUN_DEPTH,
  );
  try {
    for (let c = 0; ; c++) {
      let next: IteratorResult<Record<Condition, PerCondition>[]>;
      try {
        next = await results.next();
      } catch (e) {
        if (e instanceof MappingError) {
          log().error({ record: e.record, file: paths.mappingErrors }, "detection mapping error: run stopped");
          process.stderr.write(`mapping error record (also in ${paths.mappingErrors}):\n${JSON.stringify(e.record)}\n`);
        }
        throw e;
      }
      if (next.done) break;
      const chunk = chunks[c];
      const recs = chunk.map((i) => opts.prompts[i]);
      for (let j = 0; j < recs.length; j++) {
        writePrompt(cfg, env, paths, recs[j], next.value[j], chunk[j], Math.floor(chunk[0] / chunkSize));
        count++;
        bar.tick();
        opts.onPromptDone?.(recs[j].prompt_id, count);
      }
    }
  } finally {
    bar.stop();
    await results.return(undefined);
  }
  const runP0 = new Map(existsSync(paths.psem) ? readCsv(paths.psem, PsemRow).map((r) => [r.prompt_id, r.p0]) : []);
  const check = p0Check(opts.prompts, runP0, cfg.dataset.binEdges);
  logP0Check(check);
  updateManifest(paths.manifest, { p0_check: check });
  return {
    prompts: total,
    skipped,
    ran: total - skipped,
    chunks: chunks.length,
    seconds: (Date.now() - t0) / 1000,
    moved_aside: movedAside,
    p0_check: check,
  };
}

async function processChunk(cfg: Config, env: RunEnv, paths: RunPaths, recs: readonly PromptRecord[]): Promise<Record<Condition, PerCondition>[]> {
  const g = cfg.generation;
  // Order everywhere: rec0 baseline, rec0 negative, rec1 baseline, ...
  const jobs = recs.flatMap((rec) => CONDITIONS.map((condition) => ({ rec, condition })));
  const built = await buildPrompts(cfg, env, jobs);
  const inputIds = built.map((b) => env.tokenizer.encodePrompt?.(b.text) ?? env.tokenizer.encode(b.text)); // same ids as psemBatch scores (BOS when the model adds one)
  const seeds = jobs.map((j) => samplingSeed(cfg, j.rec.prompt_id, j.condition));
  // Independent requests go out together: the sidecar serves them in order without waiting for TS. The
  // greedy row of each prompt decodes in the sampling batch (greedy_tokens): one prefill, one decode loop.
  const [generated, psem] = await Promise.all([
    env.sidecar.generateRows(inputIds, {
      max_new_tokens: g.sampleMaxNewTokens,
      do_sample: true,
      temperature: g.temperature,
      top_p: g.topP,
      n: g.samplesPerPrompt,
      seeds,
      greedy_tokens: g.greedyMaxNewTokens,
    }),
    psemBatch(
      env.sidecar,
      env.tokenizer,
      built.map((b, k) => ({ prompt: b.text, target: jobs[k].rec.target_word })),
      { maxBatchTokens: cfg.sidecar.maxBatchTokens },
    ),
  ]);
  const sampled = generated.sequences;
  const greedyIds = generated.greedy!;
  const detect = (k: number, tokens: number[], sample_index: number | null): Detection =>
    detectInIds(jobs[k].rec.target_word, tokens, env.tokenizer, {
      mappingErrorFile: paths.mappingErrors,
      context: { prompt_id: jobs[k].rec.prompt_id, condition: jobs[k].condition, sample_index },
    });
  const greedy = greedyIds.map((ids, k) => detect(k, ids, null));
  const steps = greedy.map((d) => d.decision_step ?? 0);
  // decision: the query of the decision step is the last position of prompt + greedy[:step];
  // full: the whole teacher-forced greedy pass, as the step's row is one of its rows.
  const traceInputs = jobs.map((_, k) =>
    g.traceMode === "full" ? [...inputIds[k], ...greedyIds[k].slice(0, -1)] : decisionInput(inputIds[k], greedyIds[k], steps[k]),
  );
  const traces = await env.sidecar.trace(traceInputs, g.traceMode);
  const out: Record<Condition, PerCondition>[] = recs.map(() => ({}) as Record<Condition, PerCondition>);
  for (const [k, job] of jobs.entries()) {
    const target = job.rec.target_word;
    out[Math.floor(k / 2)][job.condition] = {
      text: built[k].text,
      ids: inputIds[k],
      generated: greedyIds[k],
      trace: traces[k],
      greedy: greedy[k],
      decisionStep: steps[k],
      spans: job.condition === "negative" ? await negativeSpans(env, inputIds[k], built[k].text, target, job.rec.question_text) : null,
      sxPrompt: sxAfter(env, inputIds[k], target),
      sxDecision: sxAfter(env, decisionInput(inputIds[k], greedyIds[k], steps[k]), target),
      samples: sampled[k].map((s, i) => ({ ids: s, det: detect(k, s, i) })),
      seed: seeds[k],
      psem: { p: psem[k].p_sem, plain: psem[k].p_sem_plain },
    };
  }
  return out;
}

function writePrompt(
  cfg: Config,
  env: RunEnv,
  paths: RunPaths,
  rec: PromptRecord,
  r: Record<Condition, PerCondition>,
  index: number,
  chunk: number,
): void {
  const pid = rec.prompt_id;
  const greedy: CompletionRecord[] = [];
  const samples: CompletionRecord[] = [];
  const detG: DetectionRecord[] = [];
  const detS: DetectionRecord[] = [];
  const detRecord = (condition: Condition, sample_index: number | null, d: Detection): DetectionRecord => ({
    prompt_id: pid,
    condition,
    sample_index,
    target_word: rec.target_word,
    present: d.present,
    matches: d.matches,
    decision_step: d.decision_step ?? 0,
    text: d.text,
  });
  for (const c of CONDITIONS) {
    const x = r[c];
    greedy.push({ prompt_id: pid, condition: c, sample_index: null, seed: null, token_ids: x.generated, text: x.greedy.text });
    detG.push(detRecord(c, null, x.greedy));
    x.samples.forEach((s, i) => {
      samples.push({ prompt_id: pid, condition: c, sample_index: i, seed: x.seed, token_ids: s.ids, text: s.det.text });
      detS.push(detRecord(c, i, s.det));
    });
    writeTrace(tracePath(paths.runs, pid, c), x.trace, x.ids, {
      prompt_id: pid,
      condition: c,
      model_id: env.hello.model_id,
      prompt_format: cfg.model.promptFormat,
      mode: cfg.generation.traceMode,
      prompt_len: x.ids.length,
      generated: x.generated,
      decision_step: x.decisionStep,
      target_word: rec.target_word,
    });
  }
  appendJsonl(paths.completionsGreedy, greedy);
  appendJsonl(paths.completionsSampled, samples);
  appendJsonl(paths.detectionGreedy, detG);
  appendJsonl(paths.detectionSampled, detS);
  const p0 = r.baseline.psem.p;
  const p1 = r.negative.psem.p;
  const s = suppression(p0, p1, cfg.analysis.epsilon);
  const psemRow: PsemRow = {
    prompt_id: pid,
    category: rec.category,
    target_word: rec.target_word,
    bin: binOf(p0, cfg.dataset.binEdges),
    p0,
    p1,
    ...s,
    p0_plain: r.baseline.psem.plain,
    p1_plain: r.negative.psem.plain,
  };
  appendCsv(paths.psem, PSEM_COLUMNS, [psemRow]);
  appendJsonl(paths.units, CONDITIONS.map((c) => unitRecord(cfg, rec, c, r, psemRow)));
  appendCsv(
    paths.behavior,
    BEHAVIOR_COLUMNS,
    CONDITIONS.map((c) => behaviorRow(pid, c, r[c].samples.map((x) => x.det), r[c].greedy.present)),
  );
  appendJsonl(paths.progress, [{ prompt_id: pid, index, chunk }]);
}

function unitRecord(cfg: Config, rec: PromptRecord, c: Condition, r: Record<Condition, PerCondition>, psem: PsemRow): UnitRecord {
  const x = r[c];
  const outcome = (present: boolean): Outcome => (present ? "failure" : "success");
  return {
    prompt_id: rec.prompt_id,
    condition: c,
    category: rec.category,
    target_word: rec.target_word,
    question_text: rec.question_text,
    prompt_format: cfg.model.promptFormat,
    prompt_text: x.text,
    prompt_ids: x.ids,
    spans: x.spans,
    greedy: { token_ids: x.generated, text: x.greedy.text, present: x.greedy.present, decision_step: x.decisionStep },
    own_outcome: outcome(x.greedy.present),
    outcome: outcome(r.negative.greedy.present),
    sx_prompt: x.sxPrompt,
    sx_decision: x.sxDecision,
    p_sem: x.psem.p,
    p0: psem.p0,
    bin: psem.bin,
    seed: x.seed,
    samples: { n: x.samples.length, violations: x.samples.filter((s) => s.det.present).length },
    trace: { file: `mechanistic_trace/${traceFileName(rec.prompt_id, c)}`, mode: cfg.generation.traceMode },
  };
}
