/**
 * `sempress merge DIR… [--out DIR]` for run shards (./shard.ts): checks that the shards are slices of one
 * run (run.json: profile, model as asked and as resolved, prompt format, dataset sha256, config hash,
 * prompt count, chunk size, shard count) and that their done markers (progress.jsonl) cover every prompt
 * exactly once, then writes one run directory (default runs/) that `analyze` and `report` read: every
 * appended file with each prompt's records from its shard in prompt order (./mergeFiles.ts), the traces,
 * and run.json.
 *
 * The merged run.json is shard 0's with: `created_at` now, `command` "merge", `run` without `shard`
 * (`resume` true when any shard was resumed), `p0_check` combined over the shards (the same numbers one
 * run computes: counts summed, the largest |Δ|, bin changes in prompt order), and `merged_from` (each
 * shard's directory, `i/N`, created_at and command). Its identity fields are the shards' (identity.ts),
 * so `analyze` and `run --resume` accept it as the unsharded run.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { z } from "zod";
import { InputError } from "../errors.ts";
import { log } from "../log.ts";
import { readJsonFile, readJsonl, writeJson } from "../util/jsonl.ts";
import { moveRunAside } from "./identity.ts";
import { readBlocks, writeMerged } from "./mergeFiles.ts";
import { appendedCsv, appendedJsonl, ProgressLine, runPaths, type RunPaths } from "./outputs.ts";
import type { P0Check } from "./p0check.ts";
import { rebasedPaths } from "./shard.ts";

const ShardIndex = z.object({ index: z.number().int().nonnegative(), count: z.number().int().positive() });
const BinChange = z.object({ prompt_id: z.string(), dataset_p0: z.number(), run_p0: z.number(), from_bin: z.string(), to_bin: z.string() });
const P0CheckJson = z.object({
  compared: z.number().int(),
  max_abs_diff: z.number().nullable(),
  max_abs_diff_prompt: z.string().nullable(),
  bin_changes: z.array(BinChange),
});

/** The fields of a shard's run.json that merge reads; everything else is carried over as written. */
export const ShardRunJson = z
  .object({
    created_at: z.string(),
    command: z.string(),
    profile: z.string(),
    model_spec: z.string(),
    model_id: z.string().nullable(),
    prompt_format: z.string(),
    dataset: z.object({ path: z.string().nullable(), sha256: z.string() }).passthrough(),
    config_hash: z.string(),
    run: z.object({ n_prompts: z.number().int(), chunk_size: z.number().int(), resume: z.boolean(), shard: ShardIndex.optional() }).passthrough(),
    p0_check: P0CheckJson.optional(),
  })
  .passthrough();
type ShardRunJson = z.infer<typeof ShardRunJson>;

/** The fields every shard must share, with how to read them. */
const SHARED: [string, (m: ShardRunJson) => unknown][] = [
  ["profile", (m) => m.profile],
  ["model", (m) => m.model_spec],
  ["model as resolved by the sidecar", (m) => m.model_id],
  ["prompt format", (m) => m.prompt_format],
  ["dataset sha256", (m) => m.dataset.sha256],
  ["config hash", (m) => m.config_hash],
  ["prompt count", (m) => m.run.n_prompts],
  ["chunk size", (m) => m.run.chunk_size],
  ["shard count", (m) => m.run.shard?.count],
];

export interface MergeSummary {
  kind: "run" | "analyze";
  out: string;
  shards: number;
  prompts: number;
  /** Merged file (relative to out) → prompts with records in it. */
  files: Record<string, number>;
  moved_aside?: string | null;
}

/** A directory's paths as a run directory (the same names as runs/). */
export function dirPaths(dir: string): RunPaths {
  return rebasedPaths(runPaths({ dataRoot: "." }), dir);
}

/** Checks that `values` agree, naming the first directory that differs. */
export function assertShared<T>(dirs: readonly string[], file: string, items: readonly T[], fields: readonly [string, (t: T) => unknown][]): void {
  for (const [field, get] of fields) {
    const first = JSON.stringify(get(items[0]));
    const k = items.findIndex((t) => JSON.stringify(get(t)) !== first);
    if (k > 0) {
      throw new InputError(
        `${join(dirs[k], file)}: ${field} differs from ${join(dirs[0], file)} (${JSON.stringify(get(items[k]))} vs ${first}): shards of one run share model, config hash and dataset`,
      );
    }
  }
}

/** Refuses to merge over a directory that holds files, unless `force` moves it aside first. */
export function prepareOut(out: string, force: boolean): string | null {
  // Empty folders (setupDirectories makes runs/'s) are nothing to keep.
  const occupied = existsSync(out) && readdirSync(out, { recursive: true, withFileTypes: true }).some((e) => !e.isDirectory());
  if (occupied && !force) throw new InputError(`${out}: already holds files; pass --force to move it aside (to ${out}.<UTC stamp>/) first`);
  const moved = occupied ? moveRunAside(out) : null;
  mkdirSync(out, { recursive: true });
  return moved;
}

export function mergeRunShards(dirs: readonly string[], out: string, force = false): MergeSummary {
  const ps = dirs.map(dirPaths);
  const ms = ps.map((p) => readJsonFile(p.manifest, ShardRunJson));
  const raw = ps.map((p) => JSON.parse(readFileSync(p.manifest, "utf8")) as Record<string, unknown>);
  ms.forEach((m, k) => {
    if (!m.run.shard) throw InputError.at(ps[k].manifest, null, "run.shard", "not a shard (made without `run --shard i/N`)");
  });
  assertShared(dirs, "run.json", ms, SHARED);
  const seen = new Map<number, string>();
  ms.forEach((m, k) => {
    const i = m.run.shard!.index;
    if (seen.has(i)) throw new InputError(`${dirs[k]} and ${seen.get(i)} are both shard ${i}/${m.run.shard!.count}`);
    seen.set(i, dirs[k]);
  });
  const n = ms[0].run.n_prompts;
  const ids: string[] = new Array(n);
  const owner = new Map<string, number>();
  ps.forEach((p, k) => {
    for (const l of readJsonl(p.progress, ProgressLine)) {
      if (l.index < 0 || l.index >= n) throw InputError.at(p.progress, null, "index", `${l.index} is outside 0..${n - 1}`);
      if (owner.has(l.prompt_id)) throw new InputError(`prompt ${l.prompt_id} is done in both ${dirs[owner.get(l.prompt_id)!]} and ${dirs[k]}`);
      owner.set(l.prompt_id, k);
      ids[l.index] = l.prompt_id;
    }
  });
  const size = ms[0].run.chunk_size;
  for (let i = 0; i < n; i++) {
    if (ids[i] === undefined) {
      const c = Math.floor(i / size);
      throw new InputError(`prompt ${i} (chunk ${c}) is done in no shard: finish shard ${c % ms[0].run.shard!.count} with \`sempress run --shard ${c % ms[0].run.shard!.count}/${ms[0].run.shard!.count} --resume\``);
    }
  }
  const movedAside = prepareOut(out, force);
  const o = dirPaths(out);
  const files: Record<string, number> = {};
  const ownerOf = (id: string) => owner.get(id)!;
  // Every file the run appends per prompt (outputs.ts), its done markers and its mapping errors.
  for (const f of [...appendedJsonl(o), ...appendedCsv(o), o.progress, o.mappingErrors]) {
    const rel = relative(out, f);
    files[rel] = writeMerged(f, dirs.map((d) => readBlocks(join(d, rel))), ids, ownerOf);
  }
  files["mechanistic_trace/"] = copyTraces(ps, o.traceDir);
  writeJson(o.manifest, mergedManifest(raw[0], ms, dirs, ids));
  log().info({ out, shards: dirs.length, prompts: n }, "run shards merged");
  return { kind: "run", out, shards: dirs.length, prompts: n, files, moved_aside: movedAside };
}

function copyTraces(ps: readonly RunPaths[], dest: string): number {
  mkdirSync(dest, { recursive: true });
  const from = new Map<string, string>();
  for (const p of ps) {
    if (!existsSync(p.traceDir)) continue;
    for (const f of readdirSync(p.traceDir).sort()) {
      if (from.has(f)) throw new InputError(`trace ${f} is in both ${from.get(f)} and ${p.traceDir}: the shards overlap`);
      from.set(f, p.traceDir);
      copyFileSync(join(p.traceDir, f), join(dest, f));
    }
  }
  return from.size;
}

function mergedManifest(first: Record<string, unknown>, ms: readonly ShardRunJson[], dirs: readonly string[], ids: readonly string[]): Record<string, unknown> {
  const { shard: _shard, ...run } = first.run as Record<string, unknown>;
  const checks = ms.map((m) => m.p0_check);
  const merged: Record<string, unknown> = {
    ...first,
    created_at: new Date().toISOString(),
    command: "merge",
    run: { ...run, resume: ms.some((m) => m.run.resume) },
    merged_from: ms.map((m, k) => ({ dir: dirs[k], shard: `${m.run.shard!.index}/${m.run.shard!.count}`, created_at: m.created_at, command: m.command })),
  };
  if (checks.every((c) => c !== undefined)) merged.p0_check = combineP0Checks(checks as P0Check[], ids);
  else delete merged.p0_check;
  return merged;
}

/** The P0 check one run over every prompt makes (p0check.ts), from the shards' checks: prompt order decides ties. */
export function combineP0Checks(checks: readonly P0Check[], order: readonly string[]): P0Check {
  const pos = new Map(order.map((id, i) => [id, i]));
  const at = (id: string | null) => (id === null ? Infinity : (pos.get(id) ?? Infinity));
  let best: P0Check | null = null;
  for (const c of checks) {
    if (c.max_abs_diff === null) continue;
    if (!best || c.max_abs_diff > best.max_abs_diff! || (c.max_abs_diff === best.max_abs_diff && at(c.max_abs_diff_prompt) < at(best.max_abs_diff_prompt))) best = c;
  }
  return {
    compared: checks.reduce((n, c) => n + c.compared, 0),
    max_abs_diff: best?.max_abs_diff ?? null,
    max_abs_diff_prompt: best?.max_abs_diff_prompt ?? null,
    bin_changes: checks.flatMap((c) => c.bin_changes).sort((a, b) => at(a.prompt_id) - at(b.prompt_id)),
  };
}
