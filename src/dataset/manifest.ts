/**
 * data/logs/steps.json: which build steps finished, with their outputs and counts. Written after each
 * step (atomically) before the next starts; `--resume` skips every finished step whose outputs exist.
 */
import { existsSync, readFileSync } from "node:fs";
import { z } from "zod";
import { InputError } from "../errors.ts";
import { writeJson } from "../util/jsonl.ts";

export const StepEntry = z.object({
  status: z.literal("done"),
  outputs: z.array(z.string()),
  counts: z.record(z.string(), z.unknown()),
  finished_at: z.string(),
});
export const Manifest = z.object({
  config_hash: z.string(),
  provider: z.string(),
  probe: z.string(),
  steps: z.record(z.string(), StepEntry),
});
export type Manifest = z.infer<typeof Manifest>;

export function readManifest(file: string): Manifest | null {
  if (!existsSync(file)) return null;
  const r = Manifest.safeParse(JSON.parse(readFileSync(file, "utf8")));
  if (!r.success) throw InputError.at(file, null, r.error.issues[0].path.join("."), r.error.issues[0].message);
  return r.data;
}

export function writeManifest(file: string, m: Manifest): void {
  writeJson(file, m);
}

/** Counts of every finished step, in step order (no timestamps: report.json must be reproducible). */
export function funnel(m: Manifest, order: readonly string[]): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const s of order) if (m.steps[s]) out[s] = m.steps[s].counts;
  return out;
}
