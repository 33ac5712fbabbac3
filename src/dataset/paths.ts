/**
 * File locations of the dataset build under the data root (names from DESIGN.md "Outputs"), plus the
 * lookup for bundled inputs: data/raw/* and data/replay/* are read from the data root when present
 * there and otherwise from the repository's own copy, so a fresh data root works out of the box.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { isAbsolute, join, resolve } from "node:path";
import type { Config, Category } from "../config.ts";

export const REPO_ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));

export interface DatasetPaths {
  root: string;
  logs: string;
  steps: string;
  manifest: string;
  ledger: string;
  candidates: string;
  validated: string;
  prompts: string;
  report: string;
  candidateFile(c: Category): string;
  stepFile(name: string): string;
}

export function datasetPaths(cfg: Pick<Config, "dataRoot">): DatasetPaths {
  const root = resolve(cfg.dataRoot);
  const logs = join(root, "data/logs");
  const steps = join(logs, "steps");
  const candidates = join(root, "data/candidates");
  const validated = join(root, "data/validated");
  return {
    root,
    logs,
    steps,
    manifest: join(logs, "steps.json"),
    ledger: join(logs, "batches.json"),
    candidates,
    validated,
    prompts: join(validated, "prompts.jsonl"),
    report: join(validated, "report.json"),
    candidateFile: (c) => join(candidates, `${c}.jsonl`),
    stepFile: (name) => join(steps, name),
  };
}

/** A bundled input: `<dataRoot>/<rel>` when it exists, else the repository's `<rel>`. */
export function inputPath(cfg: Pick<Config, "dataRoot">, rel: string): string {
  if (isAbsolute(rel)) return rel;
  const own = resolve(cfg.dataRoot, rel);
  if (existsSync(own)) return own;
  const repo = join(REPO_ROOT, rel);
  return existsSync(repo) ? repo : own;
}
