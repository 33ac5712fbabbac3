/** The bytes of a run directory, for tests that compare runs made different ways (pool, shards, merge). */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { dirPaths } from "../../src/run/merge.ts";
import { appendedCsv, appendedJsonl } from "../../src/run/outputs.ts";

/**
 * What `run` wrote under `runs` (appended files, progress, traces as base64) and, with `analysis`, what
 * `analyze` wrote; keyed by path inside `runs`.
 */
export function runDirFiles(runs: string, o: { run?: boolean; analysis?: boolean } = {}): Record<string, string> {
  const p = dirPaths(runs);
  const run = o.run ?? true;
  const list = [
    ...(run ? [...appendedJsonl(p), ...appendedCsv(p), p.progress] : []),
    ...(o.analysis ? [p.attention, p.logitLens, p.decomp, p.patching, p.patchingSubset] : []),
  ];
  const out: Record<string, string> = Object.fromEntries(list.map((f) => [relative(runs, f), readFileSync(f, "utf8")]));
  if (run) for (const f of readdirSync(p.traceDir).sort()) out[relative(runs, join(p.traceDir, f))] = readFileSync(join(p.traceDir, f)).toString("base64");
  return out;
}
