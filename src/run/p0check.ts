/**
 * P0 at selection time vs P0 in the run. The dataset's selection step recorded each prompt's P0
 * (prompts.jsonl `p0`) and balanced the pressure bins on it; the run measures P0 again (psem.csv).
 * With the same model and prompt format they agree up to batching noise; a different model, format
 * or tokenizer moves prompts between bins, and the bins the study reports are then not the bins the
 * dataset balanced. The check reports the largest |Δ| and every prompt whose bin changed, both bins
 * by the one bin function (stats/bins.ts) with the run's edges.
 */
import { log } from "../log.ts";
import type { PromptRecord } from "../schemas.ts";
import { binLabel, binOf } from "../stats/bins.ts";

export interface BinChange {
  prompt_id: string;
  dataset_p0: number;
  run_p0: number;
  /** Bin labels, e.g. "[0.2, 0.4)" and "[0.8, 1]". */
  from_bin: string;
  to_bin: string;
}

export interface P0Check {
  /** Prompts with a P0 in both the dataset and the run. */
  compared: number;
  /** max |run P0 − dataset P0| over the compared prompts (null when none were compared). */
  max_abs_diff: number | null;
  /** Prompt id of the largest |Δ|. */
  max_abs_diff_prompt: string | null;
  bin_changes: BinChange[];
}

/** Pure comparison; `runP0` maps prompt_id → P0 from psem.csv. Prompts missing from the run are skipped. */
export function p0Check(prompts: readonly Pick<PromptRecord, "prompt_id" | "p0">[], runP0: ReadonlyMap<string, number>, edges: readonly number[]): P0Check {
  const out: P0Check = { compared: 0, max_abs_diff: null, max_abs_diff_prompt: null, bin_changes: [] };
  for (const p of prompts) {
    const run = runP0.get(p.prompt_id);
    if (run === undefined || !Number.isFinite(p.p0)) continue;
    out.compared++;
    const d = Math.abs(run - p.p0);
    if (out.max_abs_diff === null || d > out.max_abs_diff) {
      out.max_abs_diff = d;
      out.max_abs_diff_prompt = p.prompt_id;
    }
    const from = binOf(p.p0, edges);
    const to = binOf(run, edges);
    if (from !== to) {
      out.bin_changes.push({ prompt_id: p.prompt_id, dataset_p0: p.p0, run_p0: run, from_bin: binLabel(from, edges), to_bin: binLabel(to, edges) });
    }
  }
  return out;
}

/** Bin changes logged one warning each, up to this many; the rest are counted (all are in run.json). */
export const LOGGED_BIN_CHANGES = 20;

/** Logs the check: one warning per bin change (capped), one summary line. */
export function logP0Check(c: P0Check): void {
  for (const b of c.bin_changes.slice(0, LOGGED_BIN_CHANGES)) {
    log().warn(b, `P0 bin changed since selection: ${b.prompt_id} ${b.from_bin} → ${b.to_bin} (dataset ${b.dataset_p0.toFixed(4)}, run ${b.run_p0.toFixed(4)})`);
  }
  const more = c.bin_changes.length - LOGGED_BIN_CHANGES;
  const summary = { compared: c.compared, max_abs_diff: c.max_abs_diff, bin_changes: c.bin_changes.length };
  if (c.bin_changes.length) {
    log().warn(summary, `P0 check: ${c.bin_changes.length} of ${c.compared} prompts changed bin${more > 0 ? ` (${more} more not shown; all in run.json p0_check)` : ""}`);
  } else {
    log().info(summary, "P0 check: every prompt kept its selection-time bin");
  }
}
