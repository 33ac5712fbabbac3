/**
 * `buildReport(cfg)`: run outputs → figures (SVG + PNG), assets/tables.json,
 * runs/bootstrap_results.csv, assets/appendix_examples/*.json and assets/report.html. Deterministic
 * for given inputs and config apart from the generation timestamp (`now`).
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { dataPath, type Config } from "../config.ts";
import { log } from "../log.ts";
import { BootstrapRow } from "../schemas.ts";
import { checkEdges } from "../stats/bins.ts";
import { writeCsv } from "../util/csv.ts";
import { writeFileAtomic, writeJson } from "../util/jsonl.ts";
import { exampleFileName, selectExamples } from "./examples.ts";
import { writeExplorer } from "./explorer/index.ts";
import { FIGURES } from "./figures/index.ts";
import { createDocument, fontFiles, renderFigure, svgToPng, type RenderedFigure } from "./figures/render.ts";
import { renderHtml } from "./html.ts";
import { loadRunData } from "./load.ts";
import { buildMeta } from "./meta.ts";
import { patchRuleOf } from "./patchSubset.ts";
import { computeTables } from "./tables.ts";

/** 2: observed-range logistic curve, `sparse` bin flags, per-bin summary, patching subset, report header. */
export const TABLES_SCHEMA_VERSION = 2;

export interface ReportSummary {
  ok: true;
  data_root: string;
  report: string;
  tables: string;
  bootstrap_results: string;
  figures: { name: string; svg: string; png: string }[];
  appendix_examples: string[];
  /** assets/explorer.html: every prompt × condition, linked from the report. */
  explorer: string;
  n_prompts: number;
  missing_inputs: string[];
  seconds: number;
}

export interface BuildOptions {
  /** Timestamp recorded as the report's generation time (tests pin it). */
  now?: Date;
}

export async function buildReport(cfg: Config, opts: BuildOptions = {}): Promise<ReportSummary> {
  const t0 = Date.now();
  const edges = cfg.dataset.binEdges;
  checkEdges(edges);
  const data = loadRunData(cfg);
  log().info({ prompts: data.psem.length, missing: data.missing }, "report: inputs loaded");

  const { tables, bootstrapRows, views } = computeTables(data, { edges, B: cfg.analysis.bootstrapB, seed: cfg.seeds.python, patchRule: patchRuleOf(cfg) });
  log().info({ intervals: bootstrapRows.length, ms: Date.now() - t0 }, "report: tables computed");
  const meta = buildMeta(data, cfg, opts.now ?? new Date());

  const figDir = dataPath(cfg, "assets/figures");
  mkdirSync(figDir, { recursive: true });
  const document = createDocument();
  const fonts = fontFiles();
  const figures: RenderedFigure[] = [];
  const figurePaths: ReportSummary["figures"] = [];
  for (const f of FIGURES) {
    const rendered = renderFigure(f.build({ tables, views, data, edges }), document);
    const svgPath = join(figDir, `${rendered.name}.svg`);
    const pngPath = join(figDir, `${rendered.name}.png`);
    writeFileAtomic(svgPath, rendered.svg);
    writeFileAtomic(pngPath, svgToPng(rendered.svg, fonts));
    figures.push(rendered);
    figurePaths.push({ name: rendered.name, svg: svgPath, png: pngPath });
  }
  log().info({ figures: figures.length, ms: Date.now() - t0 }, "report: figures rendered");

  const tablesPath = dataPath(cfg, "assets/tables.json");
  writeJson(tablesPath, { schema_version: TABLES_SCHEMA_VERSION, meta, ...tables });
  const bootPath = dataPath(cfg, "runs/bootstrap_results.csv");
  writeCsv(bootPath, Object.keys(BootstrapRow.shape), bootstrapRows);

  const exDir = dataPath(cfg, "assets/appendix_examples");
  if (existsSync(exDir)) for (const f of readdirSync(exDir)) if (f.endsWith(".json")) rmSync(join(exDir, f));
  mkdirSync(exDir, { recursive: true });
  const examples = selectExamples(data, views, 20);
  const exPaths = examples.map((e) => {
    const p = join(exDir, exampleFileName(e));
    writeJson(p, e);
    return p;
  });

  const reportPath = dataPath(cfg, "assets/report.html");
  writeFileAtomic(reportPath, renderHtml({ tables, meta, figures, examples, explorer: "explorer.html" }));
  const explorer = writeExplorer(data, dataPath(cfg, "assets/explorer.html"), { report: reportPath });
  const seconds = (Date.now() - t0) / 1000;
  log().info({ seconds }, "report: done");
  return {
    ok: true,
    data_root: data.root,
    report: reportPath,
    tables: tablesPath,
    bootstrap_results: bootPath,
    figures: figurePaths,
    appendix_examples: exPaths,
    explorer: explorer.path,
    n_prompts: tables.dataset.n_prompts,
    missing_inputs: data.missing,
    seconds,
  };
}
