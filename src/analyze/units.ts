/** Reads the finished prompts' unit records (runs/units.jsonl), paired by condition, in run order. */
import { InputError } from "../errors.ts";
import { readJsonl } from "../util/jsonl.ts";
import { readProgress, type RunPaths } from "../run/outputs.ts";
import { UnitRecord } from "../run/units.ts";
import type { UnitPair } from "./analysis.ts";

export function loadUnits(paths: RunPaths): UnitPair[] {
  const progress = readProgress(paths);
  if (progress.length === 0) throw new InputError(`${paths.progress}: no finished prompts; run \`sempress run\` first`);
  const byKey = new Map<string, UnitRecord>();
  for (const u of readJsonl(paths.units, UnitRecord)) byKey.set(`${u.prompt_id}|${u.condition}`, u);
  if (byKey.size === 0) throw new InputError(`${paths.units}: no unit records (a run made before units.jsonl existed): run \`sempress run --force\` again`);
  return progress.map(({ prompt_id }) => {
    const get = (c: "baseline" | "negative") => {
      const u = byKey.get(`${prompt_id}|${c}`);
      if (!u) throw InputError.at(paths.units, null, "prompt_id", `no ${c} unit for finished prompt ${prompt_id}`);
      return u;
    };
    return { baseline: get("baseline"), negative: get("negative") };
  });
}
