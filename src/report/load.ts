/**
 * Reads everything the report needs from a data root, validating each row through src/schemas.ts.
 * P_sem and behaviour are required; the analyze outputs are optional (their figures then say "no
 * data" and their tables are empty), so a report can be made as soon as `sempress run` is done.
 */
import { existsSync, readFileSync } from "node:fs";
import type { z } from "zod";
import { dataPath, type Config } from "../config.ts";
import { InputError } from "../errors.ts";
import {
  AttentionRow,
  BehaviorRow,
  CompletionRecord,
  DecompRow,
  DetectionRecord,
  LogitLensRow,
  PatchRow,
  PromptRecord,
  PsemRow,
  RunManifest,
} from "../schemas.ts";
import { readCsv } from "../util/csv.ts";
import { readJsonl } from "../util/jsonl.ts";

/** Paths (relative to the data root) of the files read. Names are part of the interface (DESIGN.md). */
export const INPUT_FILES = {
  prompts: "data/validated/prompts.jsonl",
  psem: "runs/psem.csv",
  behavior: "runs/behavior.csv",
  greedyCompletions: "runs/completions_greedy.jsonl",
  greedyDetections: "runs/detection_mapping_greedy.jsonl",
  sampleDetections: "runs/detection_mapping.jsonl",
  attention: "runs/attention_metrics.csv",
  logitLens: "runs/logit_lens.csv",
  decomp: "runs/ffn_attn_decomp.csv",
  patching: "runs/patching_results.csv",
  manifest: "runs/run.json",
  datasetReport: "data/validated/report.json",
} as const;

export interface RunData {
  root: string;
  prompts: PromptRecord[];
  psem: PsemRow[];
  behavior: BehaviorRow[];
  greedyCompletions: CompletionRecord[];
  greedyDetections: DetectionRecord[];
  /** Only the negative-condition detections with X present (failures), for the appendix. */
  sampleFailures: DetectionRecord[];
  /** Global- and layer-scope rows only (head rows are not used by the report). */
  attention: AttentionRow[];
  logitLens: LogitLensRow[];
  decomp: DecompRow[];
  patching: PatchRow[];
  manifest: RunManifest | null;
  /**
   * runs/run.json as written, including sections the schema does not name (`run.prompts_file`, …);
   * read defensively by the report header.
   */
  manifestRaw: Record<string, unknown> | null;
  /** data/validated/report.json (the dataset build's report), as written; null when absent. */
  datasetReport: Record<string, unknown> | null;
  /** Input file → row count, for provenance; absent files are listed in `missing`. */
  counts: Record<string, number>;
  missing: string[];
}

/** Loads a data root's run outputs. Throws InputError naming the file when a required one is missing. */
export function loadRunData(cfg: Pick<Config, "dataRoot">): RunData {
  const root = dataPath(cfg);
  const p = (rel: string) => dataPath(cfg, rel);
  const missing: string[] = [];
  const counts: Record<string, number> = {};
  const need = (rel: string) => {
    if (!existsSync(p(rel))) throw InputError.at(p(rel), null, null, "file not found (run `sempress run` first)");
  };
  const optionalCsv = <S extends z.ZodTypeAny>(rel: string, schema: S, keep?: (raw: Record<string, string>) => boolean) => {
    if (!existsSync(p(rel))) {
      missing.push(rel);
      return [] as z.output<S>[];
    }
    const rows = readCsv(p(rel), schema, keep);
    counts[rel] = rows.length;
    return rows;
  };
  const optionalJsonl = <S extends z.ZodTypeAny>(rel: string, schema: S) => {
    if (!existsSync(p(rel))) {
      missing.push(rel);
      return [] as z.output<S>[];
    }
    const rows = readJsonl(p(rel), schema);
    counts[rel] = rows.length;
    return rows;
  };

  need(INPUT_FILES.psem);
  need(INPUT_FILES.behavior);
  const psem = optionalCsv(INPUT_FILES.psem, PsemRow);
  const behavior = optionalCsv(INPUT_FILES.behavior, BehaviorRow);
  const prompts = optionalJsonl(INPUT_FILES.prompts, PromptRecord);
  const greedyCompletions = optionalJsonl(INPUT_FILES.greedyCompletions, CompletionRecord);
  const greedyDetections = optionalJsonl(INPUT_FILES.greedyDetections, DetectionRecord);
  const sampleFailures = optionalJsonl(INPUT_FILES.sampleDetections, DetectionRecord).filter(
    (d) => d.condition === "negative" && d.present,
  );
  const attention = optionalCsv(INPUT_FILES.attention, AttentionRow, (raw) => raw.scope !== "head");
  const logitLens = optionalCsv(INPUT_FILES.logitLens, LogitLensRow);
  const decomp = optionalCsv(INPUT_FILES.decomp, DecompRow);
  const patching = optionalCsv(INPUT_FILES.patching, PatchRow);

  let manifest: RunManifest | null = null;
  let manifestRaw: Record<string, unknown> | null = null;
  if (existsSync(p(INPUT_FILES.manifest))) {
    let obj: unknown;
    try {
      obj = JSON.parse(readFileSync(p(INPUT_FILES.manifest), "utf8"));
    } catch (e) {
      throw InputError.at(p(INPUT_FILES.manifest), null, null, `not valid JSON (${(e as Error).message})`);
    }
    const r = RunManifest.safeParse(obj);
    if (!r.success) {
      const iss = r.error.issues[0];
      throw InputError.at(p(INPUT_FILES.manifest), null, iss.path.join(".") || null, iss.message);
    }
    manifest = r.data;
    manifestRaw = obj as Record<string, unknown>;
  } else missing.push(INPUT_FILES.manifest);
  const datasetReport = readOptionalJson(p(INPUT_FILES.datasetReport));
  if (datasetReport === null) missing.push(INPUT_FILES.datasetReport);

  // Bootstraps resample rows by index: a fixed row order (by prompt, stable otherwise) keeps every CI
  // independent of the order in which a stage happened to write its file.
  for (const rows of [psem, behavior, attention, logitLens, decomp, patching] as { prompt_id: string }[][]) {
    rows.sort((a, b) => (a.prompt_id < b.prompt_id ? -1 : a.prompt_id > b.prompt_id ? 1 : 0));
  }
  return {
    root, prompts, psem, behavior, greedyCompletions, greedyDetections, sampleFailures,
    attention, logitLens, decomp, patching, manifest, manifestRaw, datasetReport, counts, missing,
  };
}

/** A JSON object file, or null when it is absent; anything but an object is an InputError. */
function readOptionalJson(file: string): Record<string, unknown> | null {
  if (!existsSync(file)) return null;
  let obj: unknown;
  try {
    obj = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw InputError.at(file, null, null, `not valid JSON (${(e as Error).message})`);
  }
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) throw InputError.at(file, null, null, "expected a JSON object");
  return obj as Record<string, unknown>;
}
