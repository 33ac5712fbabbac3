/** Run and report metadata for tables.json and the provenance section (from runs/run.json). */
import { readFileSync } from "node:fs";
import { runConfigHash, type Config } from "../config.ts";
import { reportHeader, type ReportHeader } from "./header.ts";
import type { RunData } from "./load.ts";

export interface Meta {
  /** What the report header states: profile, model, prompt format, dataset source, LLM provider, demo. */
  header: ReportHeader;
  model_id: string | null;
  /** Scalar model facts from the sidecar's hello (tokenizer and chat template left out). */
  model_facts: Record<string, string | number | boolean>;
  run_created_at: string | null;
  run_command: string | null;
  run_config_hash: string | null;
  report_config_hash: string;
  seeds: Record<string, number> | null;
  prompt_format: string | null;
  bootstrap: { B: number; seed: number };
  bin_edges: number[];
  report_generated_at: string;
  data_root: string;
  versions: Record<string, string>;
  /** Input file → rows read. */
  inputs: Record<string, number>;
  missing_inputs: string[];
}

const HIDDEN = new Set(["tokenizer_json", "tokenizer_config", "chat_template", "model_id", "pid"]);

function versionOf(pkgJson: URL): string {
  try {
    return JSON.parse(readFileSync(pkgJson, "utf8")).version ?? "unknown";
  } catch {
    return "unknown";
  }
}

export function buildMeta(data: RunData, cfg: Config, now: Date): Meta {
  const m = data.manifest;
  const facts: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(m?.model ?? {})) {
    if (HIDDEN.has(k)) continue;
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") facts[k] = v;
    else if (Array.isArray(v) && v.length <= 8) facts[k] = JSON.stringify(v);
  }
  const modelId = (m?.model?.model_id as string | undefined) ?? null;
  const runCfgModel = (m?.config as { model?: { promptFormat?: string } } | undefined)?.model;
  return {
    header: reportHeader(data),
    model_id: modelId,
    model_facts: facts,
    run_created_at: m?.created_at ?? null,
    run_command: m?.command ?? null,
    run_config_hash: m?.config_hash ?? null,
    report_config_hash: runConfigHash(cfg),
    seeds: m?.seeds ?? null,
    prompt_format: data.prompts[0]?.prompt_format ?? runCfgModel?.promptFormat ?? null,
    bootstrap: { B: cfg.analysis.bootstrapB, seed: cfg.seeds.python },
    bin_edges: [...cfg.dataset.binEdges],
    report_generated_at: now.toISOString(),
    data_root: data.root,
    versions: {
      ...(m?.versions ?? {}),
      sempress_report: versionOf(new URL("../../package.json", import.meta.url)),
      node_report: process.version,
      "@observablehq/plot": versionOf(new URL("../../node_modules/@observablehq/plot/package.json", import.meta.url)),
      "@resvg/resvg-js": versionOf(new URL("../../node_modules/@resvg/resvg-js/package.json", import.meta.url)),
    },
    inputs: data.counts,
    missing_inputs: data.missing,
  };
}
