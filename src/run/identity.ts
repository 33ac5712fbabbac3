/**
 * What a run directory is (DESIGN.md Module 3): its profile, model, prompt format, dataset file and
 * config hash, recorded at the top of runs/run.json. `run --resume`, a fresh `run` over an existing
 * run, and `analyze` refuse a different one with one line naming the field and both values.
 * `run --force` moves the existing runs/ aside to runs.<UTC stamp>/ (nothing written is lost) and
 * starts a new run directory.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, renameSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
import { firstConfigDifference, hashedConfig, runConfigHash, RUN_HASH_EXCLUDED, type Config } from "../config.ts";
import { isDemoGenerated, isDemoJudged, reportSaysDemo } from "../dataset/demo.ts";
import { ConfigError } from "../errors.ts";
import type { PromptRecord } from "../schemas.ts";

/** The prompts a run works on: the whole file's sha256, and whether it is demo data. */
export interface DatasetFacts {
  /** Absolute path of the prompts JSONL (null when the prompts were passed in memory). */
  path: string | null;
  /** sha256 of the file's bytes (of the prompts as JSONL when there is no file; "" = not known yet). */
  sha256: string;
  /**
   * True when any prompt came from the labelled demo replies (source `replay_demo`, or a validation
   * reply from the DEMO RULE), or the dataset's report.json says `llm.demo` (src/dataset/demo.ts).
   */
  demo: boolean;
}

/** The fields that make two invocations the same run; written at the top level of run.json. */
export interface RunIdentity {
  profile: Config["profile"];
  /** The model as asked for (`--model`: HF id, path, `random:…`, `default`). */
  model_spec: string;
  /** The model as the sidecar resolved it (hello.model_id); null before the sidecar answered. */
  model_id: string | null;
  prompt_format: Config["model"]["promptFormat"];
  dataset: DatasetFacts;
  /** runConfigHash: every config field except where-to-run settings and analysis settings. */
  config_hash: string;
  llm_provider: Config["llm"]["provider"];
  /** The LLM that actually built the dataset (llm_provider is only what this config would use); null when unrecorded. */
  dataset_llm: DatasetLlm | null;
}

export interface Mismatch {
  field: string;
  run: string;
  now: string;
  detail?: string;
}

export const RUN_HINT = "use --force to start a new run directory (the current one is moved aside, not deleted)";
export const ANALYZE_HINT = "analyze with the run's settings, or start a new run with `sempress run --force`";

function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** The dataset build's report.json beside the prompts file; null when absent or unreadable. */
function datasetReport(promptsFile: string): unknown {
  const report = join(dirname(promptsFile), "report.json");
  if (!existsSync(report)) return null;
  try {
    return JSON.parse(readFileSync(report, "utf8"));
  } catch {
    return null;
  }
}

function datasetReportSaysDemo(promptsFile: string): boolean {
  return reportSaysDemo(datasetReport(promptsFile));
}

/** The LLM that built the dataset, as its report.json's `llm` section records it (src/dataset/llm/provider.ts). */
export interface DatasetLlm {
  provider: string | null;
  /** The model name the build asked for. */
  model: string | null;
  /** The endpoint, without credentials. */
  base_url: string | null;
  /** The model id the server reported in its replies. */
  server_model: string | null;
}

export function datasetLlm(promptsFile: string | null): DatasetLlm | null {
  const llm = promptsFile ? (datasetReport(promptsFile) as { llm?: unknown } | null)?.llm : undefined;
  if (typeof llm !== "object" || llm === null) return null;
  const s = (k: string): string | null => {
    const v = (llm as Record<string, unknown>)[k];
    return typeof v === "string" ? v : null;
  };
  return { provider: s("provider"), model: s("model"), base_url: s("base_url"), server_model: s("server_model") };
}

export function datasetFacts(promptsFile: string | null | undefined, prompts: readonly PromptRecord[]): DatasetFacts {
  const demo = prompts.some((p) => isDemoGenerated(p) || isDemoJudged(p));
  if (!promptsFile) {
    return { path: null, sha256: sha256(prompts.map((p) => JSON.stringify(p) + "\n").join("")), demo };
  }
  return { path: resolve(promptsFile), sha256: sha256(readFileSync(promptsFile)), demo: demo || datasetReportSaysDemo(promptsFile) };
}

export function runIdentity(cfg: Config, dataset: DatasetFacts, modelId: string | null): RunIdentity {
  return {
    profile: cfg.profile,
    model_spec: cfg.model.id,
    model_id: modelId,
    prompt_format: cfg.model.promptFormat,
    dataset,
    config_hash: runConfigHash(cfg),
    llm_provider: cfg.llm.provider,
    dataset_llm: datasetLlm(dataset.path),
  };
}

interface Recorded {
  profile?: string;
  model_spec?: string;
  model_id?: string | null;
  prompt_format?: string;
  dataset?: { path?: string | null; sha256?: string };
  config_hash?: string;
  config?: Record<string, unknown> & { profile?: string; model?: { id?: string; promptFormat?: string } };
  model?: { model_id?: string } | null;
  run?: { prompts_file?: string | null; chunk_size?: number };
}

/** run.json as written (null when absent or unreadable). */
export function readRunJson(manifestFile: string): Recorded | null {
  if (!existsSync(manifestFile)) return null;
  try {
    const m = JSON.parse(readFileSync(manifestFile, "utf8"));
    return typeof m === "object" && m !== null ? (m as Recorded) : null;
  } catch {
    return null;
  }
}

/**
 * The first field in which `now` differs from the run recorded in run.json, in the order profile,
 * model, model as resolved, prompt format, dataset, config hash; null when they agree or there is no
 * run.json. A run.json from before these fields existed is read through its `config` section. An empty
 * `now.dataset.sha256` (dataset not built yet) and a null `now.model_id` (sidecar not asked) are not compared.
 */
export function runMismatch(manifestFile: string, now: RunIdentity, cfg: Config): Mismatch | null {
  const m = readRunJson(manifestFile);
  if (!m) return null;
  const modern = typeof m.prompt_format === "string";
  const same = (field: string, run: string | null | undefined, cur: string | null | undefined, detail?: string): Mismatch | null =>
    run == null || cur == null || run === cur ? null : { field, run, now: cur, detail };
  const ds = m.dataset;
  const dsLabel = (path: string | null | undefined, sha: string) => `${path ?? "(in memory)"} sha256 ${sha.slice(0, 12)}`;
  const recordedHash = modern ? m.config_hash : m.config ? runConfigHash(m.config as unknown as Config) : undefined;
  const diff = m.config ? firstConfigDifference(hashedConfig(m.config, RUN_HASH_EXCLUDED), hashedConfig(cfg, RUN_HASH_EXCLUDED)) : null;
  return (
    same("profile", m.profile ?? m.config?.profile, now.profile) ??
    same("model", m.model_spec ?? m.config?.model?.id, now.model_spec) ??
    same("model as resolved by the sidecar", m.model_id ?? m.model?.model_id, now.model_id) ??
    same("prompt format", m.prompt_format ?? m.config?.model?.promptFormat, now.prompt_format) ??
    (ds?.sha256 && now.dataset.sha256 && ds.sha256 !== now.dataset.sha256
      ? { field: "dataset", run: dsLabel(ds.path, ds.sha256), now: dsLabel(now.dataset.path, now.dataset.sha256) }
      : null) ??
    same(
      "config hash",
      recordedHash,
      now.config_hash,
      diff ? `first difference: ${diff.path} ${JSON.stringify(diff.a) ?? "unset"} vs ${JSON.stringify(diff.b) ?? "unset"}` : undefined,
    )
  );
}

function shown(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : file;
}

export function mismatchMessage(manifestFile: string, d: Mismatch, hint: string): string {
  const detail = d.detail ? ` (${d.detail})` : "";
  return `${shown(manifestFile)}: ${d.field} differs: run has "${d.run}", this invocation has "${d.now}"${detail}; ${hint}`;
}

/** Throws ConfigError `run_mismatch` (one line) when `now` is not the run recorded in run.json. */
export function assertSameRun(manifestFile: string, now: RunIdentity, cfg: Config, hint: string): void {
  const d = runMismatch(manifestFile, now, cfg);
  if (d) throw new ConfigError(mismatchMessage(manifestFile, d, hint), "run_mismatch");
}

function holdsFiles(dir: string): boolean {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory() || holdsFiles(join(dir, e.name))) return true;
  }
  return false;
}

/**
 * `--force`: renames the run directory to `<runs>.<UTC yyyymmddThhmmssZ>` (`-2`, `-3`… if taken) beside
 * it, so every file of the previous run stays where it can be read. Returns the new path, or null
 * when there was nothing to keep (no directory, or only empty folders).
 */
export function moveRunAside(runsDir: string, now: Date = new Date()): string | null {
  if (!existsSync(runsDir) || !statSync(runsDir).isDirectory() || !holdsFiles(runsDir)) return null;
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  let dest = join(dirname(runsDir), `${basename(runsDir)}.${stamp}`);
  for (let n = 2; existsSync(dest); n++) dest = join(dirname(runsDir), `${basename(runsDir)}.${stamp}-${n}`);
  renameSync(runsDir, dest);
  return dest;
}

/** Flags `analyze` takes from the run when not given: model, prompt format, trace mode, dataset provider. */
export function runDefaults(manifestFile: string): { model?: string; promptFormat?: "raw" | "chat"; trace?: "decision" | "full"; llm?: string } {
  const c = readRunJson(manifestFile)?.config as
    | { model?: { id?: string; promptFormat?: "raw" | "chat" }; generation?: { traceMode?: "decision" | "full" }; llm?: { provider?: string; replayDir?: string | null } }
    | undefined;
  if (!c) return {};
  const llm = c.llm?.provider === "replay" && c.llm.replayDir ? `replay:${c.llm.replayDir}` : c.llm?.provider === "openai" || c.llm?.provider === "chat" ? c.llm.provider : undefined;
  return { model: c.model?.id, promptFormat: c.model?.promptFormat, trace: c.generation?.traceMode, llm };
}
