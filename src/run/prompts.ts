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
 * `limit` prompts spread evenly over the P0 bins first and the categories second: each round takes one
 * prompt from every bin that has one left, and within a bin the categories take turns (file order within
 * each). A small demo run thus covers every pressure bin as evenly as the dataset allows, instead of the
 * lowest bins that selection writes first, and still draws from every category. Deterministic.
 */
export function stratifiedSubset(all: readonly PromptRecord[], limit: number): PromptRecord[] {
  const cats: string[] = [];
  for (const p of all) if (!cats.includes(p.category)) cats.push(p.category);
  const bins = [...new Set(all.map((p) => p.bin))].sort((a, b) => a - b);
  // per bin: its prompts in category round-robin order
  const perBin = bins.map((b) => {
    const queues = cats.map((c) => all.filter((p) => p.bin === b && p.category === c));
    const order: PromptRecord[] = [];
    for (let i = 0; queues.some((q) => i < q.length); i++) for (const q of queues) if (i < q.length) order.push(q[i]);
    return order;
  });
  const out: PromptRecord[] = [];
  const n = Math.min(limit, all.length);
  for (let i = 0; out.length < n; i++) {
    for (const q of perBin) if (i < q.length && out.length < n) out.push(q[i]);
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
