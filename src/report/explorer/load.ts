/**
 * What the explorer reads beyond the report's own inputs (../load.ts): the unit records
 * (runs/units.jsonl) and every sampled completion's detection record (runs/detection_mapping.jsonl;
 * the report keeps only the failures). Both validated through their schemas; errors name file, line, field.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { UnitRecord } from "../../run/units.ts";
import { DetectionRecord } from "../../schemas.ts";
import { readJsonl } from "../../util/jsonl.ts";
import type { RunData } from "../load.ts";
import type { ExplorerInputs } from "./model.ts";

export const EXPLORER_FILES = { units: "runs/units.jsonl", sampleDetections: "runs/detection_mapping.jsonl" } as const;

export interface LoadedExplorerInputs extends ExplorerInputs {
  /** Files the explorer wanted and did not find (relative to the data root). */
  missing: string[];
}

export function loadExplorerInputs(data: Pick<RunData, "root" | "greedyDetections" | "attention" | "logitLens">): LoadedExplorerInputs {
  const missing: string[] = [];
  const read = <S extends typeof UnitRecord | typeof DetectionRecord>(rel: string, schema: S) => {
    const file = join(data.root, rel);
    if (!existsSync(file)) missing.push(rel);
    return readJsonl(file, schema) as ReturnType<S["parse"]>[];
  };
  return {
    units: read(EXPLORER_FILES.units, UnitRecord),
    sampleDetections: read(EXPLORER_FILES.sampleDetections, DetectionRecord),
    greedyDetections: data.greedyDetections,
    attention: data.attention,
    logitLens: data.logitLens,
    missing,
  };
}
