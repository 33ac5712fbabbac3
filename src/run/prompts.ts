/** Loads the prompts a run works on: data/validated/prompts.jsonl (or --prompts F), first --limit N. */
import { existsSync, readFileSync } from "node:fs";
import { dataPath, type Config } from "../config.ts";
import { InputError } from "../errors.ts";
import { PromptRecord } from "../schemas.ts";
import { readJsonl } from "../util/jsonl.ts";

export function defaultPromptsFile(cfg: Pick<Config, "dataRoot">): string {
  return dataPath(cfg, "data", "validated", "prompts.jsonl");
}

/**
 * `limit` prompts spread over categories *and* P0 bins: round-robin over the (bin, category) cells
 * (file order within each cell), so a small demo run covers every category and every pressure bin
 * instead of the lowest bins that selection writes first. Deterministic.
 */
export function stratifiedSubset(all: readonly PromptRecord[], limit: number): PromptRecord[] {
  const cells = new Map<string, PromptRecord[]>();
  const cats: string[] = [];
  for (const p of all) if (!cats.includes(p.category)) cats.push(p.category);
  const bins = [...new Set(all.map((p) => p.bin))].sort((a, b) => a - b);
  for (const p of all) {
    const k = `${p.bin}|${p.category}`;
    cells.set(k, [...(cells.get(k) ?? []), p]);
  }
  const queues = bins.flatMap((b) => cats.map((c) => cells.get(`${b}|${c}`) ?? [])).filter((q) => q.length > 0);
  const out: PromptRecord[] = [];
  const n = Math.min(limit, all.length);
  for (let i = 0; out.length < n; i++) {
    for (const q of queues) if (i < q.length && out.length < n) out.push(q[i]);
  }
  return out;
}

export function loadPrompts(file: string, limit?: number, stratified = false): PromptRecord[] {
  if (!existsSync(file)) throw InputError.at(file, null, null, "prompts file not found (build it with `sempress dataset build`)");
  const all = readJsonl(file, PromptRecord);
  if (all.length === 0) throw InputError.at(file, null, null, "no prompts in file");
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new InputError(`--limit must be a positive integer, got ${limit}`);
  if (limit === undefined) return all;
  return stratified ? stratifiedSubset(all, limit) : all.slice(0, limit);
}

/** The prompts file recorded by the last run (run.json → run.prompts_file), if any. */
export function promptsFileOfRun(manifestFile: string): string | null {
  if (!existsSync(manifestFile)) return null;
  try {
    const m = JSON.parse(readFileSync(manifestFile, "utf8")) as { run?: { prompts_file?: string | null } };
    return m.run?.prompts_file ?? null;
  } catch {
    return null;
  }
}
