/**
 * analyze --shard i/N (../run/shard.ts): what a shard records beside its CSVs (analyze.json), and
 * `sempress merge` of analyze shards into the run directory they analysed.
 *
 * analyze.json: the run it read (run.json's config hash, model, dataset; the sha256 of its units.jsonl),
 * the analysis settings' hash, batch, patch limit, the analyses run, the shard and its row counts. It is
 * written last, so a shard without it is unfinished. Merge checks that every shard read the same run with
 * the same settings, that shards 0…N−1 are all there, and that each prompt's rows come from one shard;
 * then each CSV gets the prompts' rows in the run's order (the patching subset's order for patching),
 * byte for byte what an unsharded analyze writes, and patching_subset.json (the same in every shard).
 */
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { z } from "zod";
import { configHash, type Config } from "../config.ts";
import { InputError } from "../errors.ts";
import { log } from "../log.ts";
import { readRunJson } from "../run/identity.ts";
import { assertShared, dirPaths, type MergeSummary } from "../run/merge.ts";
import { readBlocks, writeMerged, type PromptBlocks } from "../run/mergeFiles.ts";
import type { RunPaths } from "../run/outputs.ts";
import type { Shard } from "../run/shard.ts";
import { readJsonFile, writeJson } from "../util/jsonl.ts";
import type { Analysis, AnalysisName } from "./analysis.ts";
import { loadUnits } from "./units.ts";

export const ANALYZE_SHARD_FILE = "analyze.json";

const RunRef = z.object({ config_hash: z.string().nullable(), model_id: z.string().nullable(), dataset_sha256: z.string().nullable() });

export const AnalyzeShardJson = z.object({
  created_at: z.string(),
  shard: z.object({ index: z.number().int().nonnegative(), count: z.number().int().positive() }),
  run: RunRef,
  units_sha256: z.string(),
  /** configHash over everything but where-to-run settings: the analysis settings included. */
  analysis_hash: z.string(),
  batch: z.number().int().positive(),
  patch_limit: z.number().int().nullable(),
  only: z.array(z.string()),
  rows: z.record(z.string(), z.number().int()),
});
export type AnalyzeShardJson = z.infer<typeof AnalyzeShardJson>;

function sha256File(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

function runRef(manifest: string): z.infer<typeof RunRef> {
  const m = readRunJson(manifest);
  return { config_hash: m?.config_hash ?? null, model_id: m?.model_id ?? null, dataset_sha256: m?.dataset?.sha256 ?? null };
}

/** Written by analyze --shard after its CSVs: the shard is finished. */
export function writeAnalyzeShard(
  dir: string,
  paths: RunPaths,
  cfg: Config,
  o: { shard: Shard; batch: number; patchLimit?: number; only: readonly AnalysisName[]; rows: Partial<Record<AnalysisName, number>> },
): void {
  const rec: AnalyzeShardJson = {
    created_at: new Date().toISOString(),
    shard: o.shard,
    run: runRef(paths.manifest),
    units_sha256: sha256File(paths.units),
    analysis_hash: configHash(cfg),
    batch: o.batch,
    patch_limit: o.patchLimit ?? null,
    only: [...o.only],
    rows: o.rows as Record<string, number>,
  };
  writeJson(join(dir, ANALYZE_SHARD_FILE), rec);
}

const SHARED: [string, (r: AnalyzeShardJson) => unknown][] = [
  ["run", (r) => r.run],
  ["units.jsonl sha256", (r) => r.units_sha256],
  ["analysis settings hash", (r) => r.analysis_hash],
  ["batch", (r) => r.batch],
  ["patch limit", (r) => r.patch_limit],
  ["analyses", (r) => r.only],
  ["shard count", (r) => r.shard.count],
];

/** Each prompt's one shard in one analysis's CSV; a prompt in two shards, or in none, is refused. */
function owners(shards: readonly PromptBlocks[], order: readonly string[], what: string): Map<string, number> {
  const owner = new Map<string, number>();
  shards.forEach((s, k) => {
    for (const id of s.blocks.keys()) {
      if (owner.has(id) && owner.get(id) !== k) throw new InputError(`${what}: prompt ${id} has rows in ${shards[owner.get(id)!].file} and ${s.file}`);
      owner.set(id, k);
    }
  });
  const missing = order.find((id) => !owner.has(id));
  if (missing !== undefined) throw new InputError(`${what}: prompt ${missing} has rows in no shard (is a shard missing or unfinished?)`);
  return owner;
}

export function mergeAnalyzeShards(dirs: readonly string[], out: string, analyses: readonly Analysis[]): MergeSummary {
  const recs = dirs.map((d) => readJsonFile(join(d, ANALYZE_SHARD_FILE), AnalyzeShardJson));
  assertShared(dirs, ANALYZE_SHARD_FILE, recs, SHARED);
  const count = recs[0].shard.count;
  const idx = recs.map((r) => r.shard.index).sort((a, b) => a - b);
  if (idx.length !== count || idx.some((v, i) => v !== i)) {
    throw new InputError(`analyze shards given: ${idx.join(", ")} of ${count}; merge needs each of 0…${count - 1} once`);
  }
  const o = dirPaths(out);
  const target = runRef(o.manifest);
  if (JSON.stringify(target) !== JSON.stringify(recs[0].run) || !existsSync(o.units) || sha256File(o.units) !== recs[0].units_sha256) {
    throw new InputError(`${out}: not the run the analyze shards read (run.json or units.jsonl differ); merge them into that run's directory (--out)`);
  }
  const order = loadUnits(o).map((u) => u.negative.prompt_id);
  const files: Record<string, number> = {};
  const ps = dirs.map(dirPaths);
  for (const a of analyses.filter((x) => recs[0].only.includes(x.name))) {
    let expected = order;
    if (a.name === "patch") {
      const subset = ps.map((p) => readFileSync(p.patchingSubset, "utf8"));
      const k = subset.findIndex((t) => t !== subset[0]);
      if (k > 0) throw new InputError(`${ps[k].patchingSubset}: differs from ${ps[0].patchingSubset}; the shards chose different patching subsets`);
      expected = (JSON.parse(subset[0]) as { patched: string[] }).patched;
      copyFileSync(ps[0].patchingSubset, o.patchingSubset);
    }
    const blocks = ps.map((p) => readBlocks(a.file(p)));
    const missingFile = blocks.find((b) => !existsSync(b.file));
    if (missingFile) throw InputError.at(missingFile.file, null, null, "missing: is that shard unfinished?");
    const owner = owners(blocks, expected, basename(a.file(o)));
    files[basename(a.file(o))] = writeMerged(a.file(o), blocks, expected, (id) => owner.get(id)!);
  }
  log().info({ out, shards: dirs.length, files }, "analyze shards merged");
  return { kind: "analyze", out, shards: dirs.length, prompts: order.length, files };
}

