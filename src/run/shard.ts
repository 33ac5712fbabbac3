/**
 * `--shard i/N` (issue 13): a deterministic slice of the work, in its own directory, for runs spread over
 * machines by any scheduler (a Slurm job array, Ray, a shell loop); `sempress merge` (./merge.ts) combines
 * the slices.
 *
 * run:      chunk c (prompts c·size … c·size + size − 1, the run's fixed chunking) belongs to shard c mod N,
 *           so a shard's sidecar batches are the unsharded run's and merged files equal its files byte for
 *           byte. A shard writes `runs.shard-i-of-N/` beside `runs/` (same files, run.json says `run.shard`).
 * analyze:  reads the merged run in `runs/` (so the patching subset is chosen over all prompts) and does
 *           work group g of each analysis (its batches of units, or of patched prompts) when g mod N = i;
 *           it writes its CSVs and `analyze.json` (what it covered) to `runs.analyze-shard-i-of-N/`.
 */
import { basename, dirname, join, relative } from "node:path";
import type { Config } from "../config.ts";
import { InputError } from "../errors.ts";
import { runPaths, type RunPaths } from "./outputs.ts";

export interface Shard {
  index: number;
  count: number;
}

/** `i/N` with 0 ≤ i < N. */
export function parseShard(v: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(v.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index >= count) throw new InputError(`--shard: expected i/N with 0 ≤ i < N (e.g. 0/4), got "${v}"`);
  return { index, count };
}

export function shardLabel(s: Shard): string {
  return `${s.index}/${s.count}`;
}

/** Whether work group (chunk) `g` belongs to the shard; every group does without one. */
export function inShard(g: number, s: Shard | undefined): boolean {
  return !s || g % s.count === s.index;
}

/** The shard's groups of `groups`, in order. */
export function shardGroups<T>(groups: readonly T[], s: Shard | undefined): T[] {
  return groups.filter((_, g) => inShard(g, s));
}

function besideRuns(cfg: Pick<Config, "dataRoot">, kind: "shard" | "analyze-shard", s: Shard): string {
  const runs = runPaths(cfg).runs;
  return join(dirname(runs), `${basename(runs)}.${kind}-${s.index}-of-${s.count}`);
}

/** Every path of `base` moved from base.runs to `dir` (same names inside). */
export function rebasedPaths(base: RunPaths, dir: string): RunPaths {
  return Object.fromEntries(Object.entries(base).map(([k, p]) => [k, join(dir, relative(base.runs, p))])) as unknown as RunPaths;
}

/** Where `run` writes: runs/, or runs.shard-i-of-N/ for a shard. */
export function runShardPaths(cfg: Pick<Config, "dataRoot">, s: Shard | undefined): RunPaths {
  return s ? rebasedPaths(runPaths(cfg), besideRuns(cfg, "shard", s)) : runPaths(cfg);
}

/** The CSVs (and subset file) analyze writes; everything else it reads. */
export const ANALYZE_OUTPUTS = ["attention", "logitLens", "decomp", "patching", "patchingSubset"] as const satisfies readonly (keyof RunPaths)[];

/** analyze's paths: the run's inputs in runs/, its outputs in runs.analyze-shard-i-of-N/ for a shard. */
export function analyzeShardPaths(cfg: Pick<Config, "dataRoot">, s: Shard | undefined): RunPaths & { shardDir: string | null } {
  const base = runPaths(cfg);
  if (!s) return { ...base, shardDir: null };
  const dir = besideRuns(cfg, "analyze-shard", s);
  const moved = rebasedPaths(base, dir);
  return { ...base, ...Object.fromEntries(ANALYZE_OUTPUTS.map((k) => [k, moved[k]])), shardDir: dir };
}
