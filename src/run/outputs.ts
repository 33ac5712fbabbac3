/**
 * The run stage's files under the data root, and resume bookkeeping.
 *
 * A prompt's records are appended to every output file (its unit records last), its traces are written, and only then one line
 * {prompt_id, index, chunk} goes to runs/progress.jsonl: that line is the prompt's "done" marker.
 *
 * Resume works per chunk (prompts are processed in fixed chunks by index, and a chunk's batch
 * composition affects floating-point results under padding): a chunk counts as done only when every
 * prompt in it has its marker. On resume every record of a prompt outside the done chunks is dropped
 * from every file (its partial or even complete records), and those chunks are run again whole, so a
 * resumed run writes exactly the bytes an uninterrupted run writes.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { dataPath, type Config } from "../config.ts";
import { parseCsv } from "../util/csv.ts";
import { readJsonl, repairJsonlTail, writeFileAtomic } from "../util/jsonl.ts";

export interface RunPaths {
  runs: string;
  traceDir: string;
  completionsGreedy: string;
  completionsSampled: string;
  detectionGreedy: string;
  detectionSampled: string;
  mappingErrors: string;
  psem: string;
  behavior: string;
  progress: string;
  /** One UnitRecord per prompt × condition (./units.ts): what analyze reads. */
  units: string;
  manifest: string;
  attention: string;
  logitLens: string;
  decomp: string;
  patching: string;
  /** The patching subset analyze chose: rule settings, threshold, counts and the patched prompt ids. */
  patchingSubset: string;
}

export function runPaths(cfg: Pick<Config, "dataRoot">): RunPaths {
  const runs = dataPath(cfg, "runs");
  return {
    runs,
    traceDir: join(runs, "mechanistic_trace"),
    completionsGreedy: join(runs, "completions_greedy.jsonl"),
    completionsSampled: join(runs, "failure_samples", "completions.jsonl"),
    detectionGreedy: join(runs, "detection_mapping_greedy.jsonl"),
    detectionSampled: join(runs, "detection_mapping.jsonl"),
    mappingErrors: join(runs, "errors", "mapping_errors.jsonl"),
    psem: join(runs, "psem.csv"),
    behavior: join(runs, "behavior.csv"),
    progress: join(runs, "progress.jsonl"),
    units: join(runs, "units.jsonl"),
    manifest: join(runs, "run.json"),
    attention: join(runs, "attention_metrics.csv"),
    logitLens: join(runs, "logit_lens.csv"),
    decomp: join(runs, "ffn_attn_decomp.csv"),
    patching: join(runs, "patching_results.csv"),
    patchingSubset: join(runs, "patching_subset.json"),
  };
}

/** Files the run appends per prompt (JSONL, then CSV), in the order they are written. */
export function appendedJsonl(p: RunPaths): string[] {
  return [p.completionsGreedy, p.completionsSampled, p.detectionGreedy, p.detectionSampled, p.units];
}
export function appendedCsv(p: RunPaths): string[] {
  return [p.psem, p.behavior];
}

export const ProgressLine = z.object({ prompt_id: z.string(), index: z.number().int(), chunk: z.number().int() });
export type ProgressLine = z.infer<typeof ProgressLine>;

export function readProgress(p: RunPaths): ProgressLine[] {
  repairJsonlTail(p.progress);
  return readJsonl(p.progress, ProgressLine);
}

/** Prompt indices per chunk: [c·size, (c+1)·size) clipped to n. */
export function chunkIndices(n: number, size: number): number[][] {
  const out: number[][] = [];
  for (let s = 0; s < n; s += size) out.push(Array.from({ length: Math.min(size, n - s) }, (_, i) => s + i));
  return out;
}

/**
 * Prompt ids whose chunk is complete: every prompt of the chunk (by the current prompt list and chunk
 * size) has a marker. Records of all other prompts are to be dropped and their chunks run again.
 */
export function completedPrompts(promptIds: readonly string[], chunkSize: number, progress: readonly ProgressLine[]): Set<string> {
  const marked = new Set(progress.map((l) => l.prompt_id));
  const keep = new Set<string>();
  for (const chunk of chunkIndices(promptIds.length, chunkSize)) {
    if (chunk.every((i) => marked.has(promptIds[i]))) for (const i of chunk) keep.add(promptIds[i]);
  }
  return keep;
}

function filterJsonlText(text: string, keep: ReadonlySet<string>): string {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  const kept: string[] = [];
  for (const line of lines) {
    let id: unknown;
    try {
      id = (JSON.parse(line) as { prompt_id?: unknown }).prompt_id;
    } catch {
      continue; // torn tail
    }
    if (typeof id === "string" && keep.has(id)) kept.push(line);
  }
  return kept.length ? kept.join("\n") + "\n" : "";
}

function filterCsvText(text: string, keep: ReadonlySet<string>): string {
  const lines = text.split("\n").filter((l) => l !== "");
  if (lines.length === 0) return "";
  const header = lines[0];
  const col = parseCsv(header)[0].indexOf("prompt_id");
  const kept = [header];
  for (const line of lines.slice(1)) {
    const cells = parseCsv(line)[0] ?? [];
    if (col >= 0 && keep.has(cells[col])) kept.push(line);
  }
  return kept.join("\n") + "\n";
}

/** Drops every record (and marker) of prompts not in `keep` from the run's appended files. */
export function truncateToCompleted(p: RunPaths, keep: ReadonlySet<string>): void {
  for (const f of [...appendedJsonl(p), p.progress]) {
    if (!existsSync(f)) continue;
    const text = readFileSync(f, "utf8");
    const next = filterJsonlText(text, keep);
    if (next !== text) writeFileAtomic(f, next);
  }
  for (const f of appendedCsv(p)) {
    if (!existsSync(f)) continue;
    const text = readFileSync(f, "utf8");
    const next = filterCsvText(text, keep);
    if (next !== text) writeFileAtomic(f, next);
  }
}

/** Removes the run's outputs for a fresh start, and the analyze outputs that were computed from them. */
export function clearRunOutputs(p: RunPaths): void {
  const analysis = [p.attention, p.logitLens, p.decomp, p.patching];
  for (const f of [...appendedJsonl(p), ...appendedCsv(p), p.progress, p.mappingErrors, ...analysis]) rmSync(f, { force: true });
  rmSync(p.traceDir, { recursive: true, force: true });
}
