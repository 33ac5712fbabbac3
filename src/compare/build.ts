/**
 * `compareRuns(dirs, opts)`: several run directories → OUT/compare.html, OUT/compare.json,
 * OUT/compare_bootstrap.csv and one unit explorer per run (OUT/explorer-A.html, …) linked from the
 * page. Each run's numbers are computed as its own report computes them; the comparison adds relative
 * depth, paired or by-bin differences, and where patching ΔP changes sign.
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { log } from "../log.ts";
import { BootstrapRow } from "../schemas.ts";
import { checkEdges } from "../stats/bins.ts";
import { writeCsv } from "../util/csv.ts";
import { writeFileAtomic, writeJson } from "../util/jsonl.ts";
import { writeExplorer } from "../report/explorer/index.ts";
import { createDocument, renderFigure } from "../report/figures/render.ts";
import type { PatchRule } from "../report/patchSubset.ts";
import { compareFigures } from "./figures.ts";
import { renderCompareHtml } from "./html.ts";
import { compareRunFacts } from "./runDir.ts";
import { loadCompareRun } from "./runSummary.ts";
import { compareTables, type CompareMode } from "./tables.ts";

export interface CompareBuildOptions {
  out: string;
  edges: readonly number[];
  B: number;
  seed: number;
  patchRule: PatchRule;
  now?: Date;
}

export interface CompareSummary {
  ok: true;
  report: string;
  json: string;
  bootstrap_results: string;
  explorers: Record<string, string>;
  mode: CompareMode | "mixed";
  runs: { label: string; data_root: string; model: string; slope: { estimate: number | null; ci_low: number | null; ci_high: number | null } }[];
  /** B − A slope differences (paired or by bin), in pair order. */
  slope_differences: { a: string; b: string; mode: CompareMode; estimate: number | null; ci_low: number | null; ci_high: number | null }[];
  seconds: number;
}

export async function compareRuns(dirs: readonly string[], opts: CompareBuildOptions): Promise<CompareSummary> {
  const t0 = Date.now();
  checkEdges(opts.edges);
  const facts = compareRunFacts(dirs);
  const out = resolve(opts.out);
  mkdirSync(out, { recursive: true });
  const runs = facts.map((f) => loadCompareRun(f, { edges: opts.edges, B: opts.B, seed: opts.seed, patchRule: opts.patchRule }));
  log().info({ runs: runs.map((r) => ({ label: r.facts.label, prompts: r.views.length, layers: r.n_layers })), ms: Date.now() - t0 }, "compare: runs loaded");
  const { tables, book } = compareTables(runs, { edges: opts.edges, B: opts.B, seed: opts.seed }, opts.now ?? new Date());

  const reportPath = join(out, "compare.html");
  const explorers: Record<string, string> = {};
  for (const r of runs) {
    const file = join(out, `explorer-${r.facts.label}.html`);
    writeExplorer(r.data, file, { report: reportPath, label: r.facts.label });
    explorers[r.facts.label] = `explorer-${r.facts.label}.html`;
  }
  const document = createDocument();
  const figures = compareFigures(tables.runs, opts.edges).map((f) => renderFigure(f, document));
  writeFileAtomic(reportPath, renderCompareHtml(tables, figures, explorers));
  const jsonPath = join(out, "compare.json");
  writeJson(jsonPath, { ...tables, explorers });
  const bootPath = join(out, "compare_bootstrap.csv");
  writeCsv(bootPath, Object.keys(BootstrapRow.shape), book.rows);
  const seconds = (Date.now() - t0) / 1000;
  log().info({ seconds, mode: tables.comparison.mode }, "compare: done");
  return {
    ok: true,
    report: reportPath,
    json: jsonPath,
    bootstrap_results: bootPath,
    explorers: Object.fromEntries(Object.entries(explorers).map(([k, v]) => [k, join(out, v)])),
    mode: tables.comparison.mode,
    runs: tables.runs.map((r) => ({ label: r.label, data_root: r.data_root, model: r.name, slope: r.logistic.slope })),
    slope_differences: tables.comparison.pairs.map((p) => ({
      a: p.a, b: p.b, mode: p.mode, ...(p.paired?.logistic.slope_difference ?? p.by_bin!.logistic.slope_difference),
    })),
    seconds,
  };
}
