/**
 * The dataset build (design "Dataset"): eight small steps run in order, each writing its outputs and
 * then its entry in data/logs/steps.json before the next starts. `resume` skips finished steps whose
 * outputs exist; batches inside a step resume from data/logs/batches.json, so nothing is submitted
 * twice. The log directory is checked for writability before any provider is touched.
 */
import { accessSync, constants, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { configHash, setupDirectories, type Config } from "../config.ts";
import { ConfigError } from "../errors.ts";
import { log } from "../log.ts";
import type { SplitLimits } from "./batch/files.ts";
import { Ledger } from "./batch/ledger.ts";
import { ChatProvider } from "./llm/chat.ts";
import { OpenAIBatchProvider } from "./llm/openai.ts";
import { DEMO_SOURCE } from "./demo.ts";
import type { BatchProvider } from "./llm/provider.ts";
import { ReplayProvider } from "./llm/replay.ts";
import { readManifest, writeManifest, type Manifest } from "./manifest.ts";
import { datasetPaths, inputPath, type DatasetPaths } from "./paths.ts";
import type { P0Probe } from "./probe.ts";
import { collectStep } from "./steps/collect.ts";
import type { Step, StepContext } from "./steps/context.ts";
import { filterStep } from "./steps/filter.ts";
import { gapsStep } from "./steps/gaps.ts";
import { generateStep } from "./steps/generate.ts";
import { ingestStep } from "./steps/ingest.ts";
import { probeStep } from "./steps/probe.ts";
import { selectStep } from "./steps/select.ts";
import { validateStep } from "./steps/validate.ts";

export const STEPS: readonly Step[] = [collectStep, gapsStep, generateStep, ingestStep, filterStep, validateStep, probeStep, selectStep];
/** The steps that ask the LLM provider. */
const LLM_STEPS = [generateStep.name, validateStep.name];

export interface BuildOptions {
  resume?: boolean;
  probe: P0Probe;
  /** Overrides the provider chosen from cfg.llm (tests). */
  provider?: BatchProvider;
  limits?: SplitLimits;
}

export interface BuildResult {
  prompts: string;
  report: string;
  ran: string[];
  skipped: string[];
}

/** Stops before anything is sent when a log path cannot be written. */
export function checkLogsWritable(paths: DatasetPaths, cfg: Config): void {
  setupDirectories(cfg);
  for (const dir of [paths.logs, paths.steps, paths.candidates, paths.validated]) {
    try {
      mkdirSync(dir, { recursive: true });
      accessSync(dir, constants.W_OK);
      for (const f of readdirSync(dir)) if (f.endsWith(".json") || f.endsWith(".jsonl")) accessSync(join(dir, f), constants.W_OK);
    } catch (e) {
      throw new ConfigError(`log path ${dir} is not writable (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); nothing was sent`, "log_unwritable");
    }
  }
}

export function makeProvider(cfg: Config): BatchProvider {
  if (cfg.llm.provider === "replay") {
    if (!cfg.llm.replayDir) throw new ConfigError("llm.provider is replay but llm.replayDir is not set");
    return new ReplayProvider(inputPath(cfg, cfg.llm.replayDir));
  }
  if (cfg.llm.provider === "chat") {
    const paths = datasetPaths(cfg);
    return new ChatProvider({ endpoint: { baseURL: cfg.llm.baseURL, model: cfg.llm.model }, chat: cfg.llm.chat, logsDir: paths.logs, ledgerFile: paths.ledger });
  }
  if (!process.env.OPENAI_API_KEY) {
    throw new ConfigError("llm.provider is openai but OPENAI_API_KEY is not set (use --llm replay:DIR to build offline)", "openai_key_missing");
  }
  return new OpenAIBatchProvider({ baseURL: cfg.llm.baseURL, model: cfg.llm.model }, { pollIntervalMs: cfg.llm.pollIntervalMs, pollMaxIntervalMs: cfg.llm.pollMaxIntervalMs });
}

function generatedSource(p: BatchProvider): string {
  if (p instanceof ReplayProvider) return p.isDemo ? DEMO_SOURCE : "replay";
  return p.name === "openai" || p.name === "chat" ? "llm" : p.name;
}

/** Moves a previous build's manifest and ledger aside for a fresh (non-resumed) build. */
function startFresh(paths: DatasetPaths): void {
  const ledger = new Ledger(paths.ledger);
  const live = ledger.all().filter((e) => e.batch_id && !["completed", "expired", "failed", "cancelled"].includes(e.status) && e.provider === "openai");
  if (live.length) {
    throw new ConfigError(
      `batch ${live[0].batch_id} (${live[0].part_key}) is still in flight per ${paths.ledger}; rerun with --resume so it is not paid twice`,
      "batch_in_flight",
    );
  }
  for (const f of [paths.manifest, paths.ledger]) if (existsSync(f)) renameSync(f, f.replace(/\.json$/, ".prev.json"));
  // Intermediates of the previous build (a half-written probe file among them) must not leak in.
  rmSync(paths.steps, { recursive: true, force: true });
  mkdirSync(paths.steps, { recursive: true });
}

export async function buildDataset(cfg: Config, opts: BuildOptions): Promise<BuildResult> {
  const paths = datasetPaths(cfg);
  checkLogsWritable(paths, cfg);
  const hash = configHash(cfg);
  const prev = readManifest(paths.manifest);
  if (opts.resume && prev && prev.config_hash !== hash) {
    throw new ConfigError(`--resume: config differs from the build recorded in ${paths.manifest} (hash ${prev.config_hash} ≠ ${hash})`, "resume_config_changed");
  }
  const provider = opts.provider ?? makeProvider(cfg);
  // Before a fresh build moves the previous one aside: a wrong endpoint must not cost the old build.
  const llmDone = opts.resume && prev && LLM_STEPS.every((s) => prev.steps[s]);
  if (!llmDone) await provider.preflight?.();
  if (!opts.resume) startFresh(paths);
  const manifest: Manifest = opts.resume && prev ? prev : { config_hash: hash, provider: provider.name, probe: opts.probe.probeName ?? "custom", steps: {} };
  writeManifest(paths.manifest, manifest);
  const ctx: StepContext = { cfg, paths, provider, ledger: new Ledger(paths.ledger), probe: opts.probe, generatedSource: generatedSource(provider), limits: opts.limits };
  const ran: string[] = [];
  const skipped: string[] = [];
  for (const step of STEPS) {
    const outputs = step.outputs(paths);
    if (ran.length === 0 && manifest.steps[step.name] && outputs.every((f) => existsSync(f))) {
      skipped.push(step.name);
      continue;
    }
    log().info({ step: step.name }, `step ${step.name}: start`);
    const counts = await step.run(ctx);
    manifest.steps[step.name] = { status: "done", outputs, counts, finished_at: new Date().toISOString() };
    writeManifest(paths.manifest, manifest);
    ran.push(step.name);
    log().info({ step: step.name }, `step ${step.name}: done`);
  }
  return { prompts: paths.prompts, report: paths.report, ran, skipped };
}
