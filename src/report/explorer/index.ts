/**
 * The unit explorer of a run: assets/explorer.html beside report.html (which links to it). Every
 * prompt × condition of runs/units.jsonl in a searchable, sortable table; opening one shows its
 * prompt, greedy answer, samples with X marked at the detector's span, S(X), attention by layer and
 * logit-lens curve. A run made before unit records existed gets a page that says so.
 */
import { statSync } from "node:fs";
import { basename, dirname, relative } from "node:path";
import { log } from "../../log.ts";
import { writeFileAtomic } from "../../util/jsonl.ts";
import type { RunData } from "../load.ts";
import { EXPLORER_FILES, loadExplorerInputs } from "./load.ts";
import { explorerModel } from "./model.ts";
import { renderExplorer } from "./page.ts";

export interface ExplorerSummary {
  path: string;
  units: number;
  samples: number;
  bytes: number;
  missing_inputs: string[];
}

export interface ExplorerOptions {
  /** The report page to link back to (its path; the link is made relative to the explorer). */
  report?: string | null;
  /** Names the run in the title (compare labels its runs). */
  label?: string | null;
}

/** The model a run names in run.json (top-level model_id, hello facts, config), else "unknown model". */
export function runModelName(data: Pick<RunData, "manifestRaw">): string {
  const m = data.manifestRaw as { model_id?: unknown; model?: { model_id?: unknown } | null; config?: { model?: { id?: unknown } } } | null;
  const id = [m?.model_id, m?.model?.model_id, m?.config?.model?.id].find((v) => typeof v === "string" && v.length > 0);
  return (id as string | undefined) ?? "unknown model";
}

export function writeExplorer(data: RunData, file: string, opts: ExplorerOptions = {}): ExplorerSummary {
  const t0 = Date.now();
  const inputs = loadExplorerInputs(data);
  const model = explorerModel(inputs);
  const notice = inputs.missing.includes(EXPLORER_FILES.units)
    ? `${EXPLORER_FILES.units} not found in ${data.root}: this run was made before unit records existed, so there is nothing to explore; \`sempress run --force\` makes a run that has them.`
    : inputs.missing.length
      ? `Not found (the parts built from them are empty): ${inputs.missing.join(", ")}.`
      : null;
  const samples = model.chunks.reduce((a, c) => a + c.reduce((b, u) => b + u.samples.length, 0), 0);
  const name = runModelName(data);
  const html = renderExplorer({
    title: `Unit explorer — ${opts.label ? `${opts.label}: ` : ""}${name}`,
    subtitle: `${model.rows.length} units (prompt × condition), ${samples} sampled completions · data root ${data.root}`,
    reportHref: opts.report ? relative(dirname(file), opts.report) || basename(opts.report) : null,
    notice,
    model,
  });
  writeFileAtomic(file, html);
  const bytes = statSync(file).size;
  log().info({ units: model.rows.length, samples, bytes, ms: Date.now() - t0 }, "report: explorer written");
  return { path: file, units: model.rows.length, samples, bytes, missing_inputs: inputs.missing };
}
