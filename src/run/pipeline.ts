/**
 * `sempress pipeline`: dataset build → run → analyze → report on the configured profile, with one
 * sidecar (one model load) shared by the dataset's P0 probe, the run and the analysis.
 *
 * Default-profile sizes (no key, no GPU, embedded model, 2 CPU cores; budget < 30 min end to end):
 * the run takes the first DEFAULT_PIPELINE_LIMIT prompts of the built dataset, and patching covers
 * at most DEFAULT_PATCH_LIMIT prompts of its balanced subset. The paper profile runs everything.
 *
 * Run identity (./identity.ts): before the dataset step, a different profile, model, prompt format or
 * config hash than the existing run's is refused (unless `force`). A fresh (non-resumed) pipeline that
 * rebuilt the dataset into a different prompts file moves the old run directory aside, as --force
 * would: that run's dataset has just been replaced, and its files are kept, not overwritten.
 */
import type { Config } from "../config.ts";
import { buildDataset } from "../dataset/build.ts";
import { sidecarProbe } from "../dataset/sidecarProbe.ts";
import { InputError } from "../errors.ts";
import { log } from "../log.ts";
import { buildReport } from "../report/build.ts";
import { analyzeStage, type AnalyzeSummary } from "../analyze/index.ts";
import { connectRunEnv } from "./connect.ts";
import type { RunEnv } from "./env.ts";
import { assertSameRun, datasetFacts, RUN_HINT, runIdentity, runMismatch, type Mismatch } from "./identity.ts";
import { runPaths } from "./outputs.ts";
import { loadPrompts } from "./prompts.ts";
import { runStage, type RunSummary } from "./runner.ts";

export const DEFAULT_PIPELINE_LIMIT = 30;
export const DEFAULT_PATCH_LIMIT = 8;

export interface PipelineOptions {
  resume?: boolean;
  /** Start a new run directory (the existing runs/ is moved aside). */
  force?: boolean;
  /** Prompts to run (default: DEFAULT_PIPELINE_LIMIT on the default profile, all on paper). */
  limit?: number | null;
  patchLimit?: number | null;
  /** Injected environment (tests); default: start the configured sidecar. */
  env?: RunEnv;
}

export interface PipelineSummary {
  prompts_file: string;
  dataset_steps_run: string[];
  run: RunSummary;
  analyze: AnalyzeSummary;
  report: string;
  report_ok: boolean;
  seconds: Record<string, number>;
}

export function pipelineLimits(cfg: Pick<Config, "profile">, o: Pick<PipelineOptions, "limit" | "patchLimit">): { limit?: number; patchLimit?: number } {
  const dflt = cfg.profile === "default";
  const limit = o.limit === null ? undefined : (o.limit ?? (dflt ? DEFAULT_PIPELINE_LIMIT : undefined));
  const patchLimit = o.patchLimit === null ? undefined : (o.patchLimit ?? (dflt ? DEFAULT_PATCH_LIMIT : undefined));
  return { limit, patchLimit };
}

/**
 * Whether the pipeline's run starts a new run directory: always with --force; and on a fresh
 * (non-resumed) pipeline whose dataset step produced another prompts file than the existing run's.
 */
export function pipelineForces(o: Pick<PipelineOptions, "force" | "resume">, differs: Mismatch | null): boolean {
  return Boolean(o.force) || (!o.resume && differs?.field === "dataset");
}

export async function runPipeline(cfg: Config, o: PipelineOptions = {}): Promise<PipelineSummary> {
  if (o.force && o.resume) throw new InputError("--force and --resume exclude each other: --force starts a new run directory");
  const { limit, patchLimit } = pipelineLimits(cfg, o);
  const manifest = runPaths(cfg).manifest;
  // The dataset is not built yet: check everything but it (an unknown dataset hash compares equal).
  if (!o.force) assertSameRun(manifest, runIdentity(cfg, { path: null, sha256: "", demo: false }, null), cfg, RUN_HINT);
  const owned = o.env ? null : await connectRunEnv(cfg);
  const env = (o.env ?? owned)!;
  const seconds: Record<string, number> = {};
  const timed = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    const t = Date.now();
    log().info({ stage: name }, `pipeline: ${name}`);
    try {
      return await f();
    } finally {
      seconds[name] = Math.round((Date.now() - t) / 100) / 10;
    }
  };
  try {
    const probe = Object.assign(
      sidecarProbe(env.sidecar, env.tokenizer, cfg.model.promptFormat, cfg.model.systemMessage, env.hello.model_id),
      { probeName: `psem(${cfg.model.id}, ${cfg.model.promptFormat})` },
    );
    const ds = await timed("dataset", () => buildDataset(cfg, { resume: Boolean(o.resume), probe }));
    const prompts = loadPrompts(ds.prompts, limit, true);
    const differs = runMismatch(manifest, runIdentity(cfg, datasetFacts(ds.prompts, prompts), env.hello.model_id), cfg);
    const force = pipelineForces(o, differs);
    const run = await timed("run", () => runStage(cfg, env, { prompts, resume: Boolean(o.resume), force, promptsFile: ds.prompts, command: "pipeline" }));
    const analyze = await timed("analyze", () => analyzeStage(cfg, env, { prompts, promptsFile: ds.prompts, patchLimit }));
    const rep = await timed("report", () => buildReport(cfg));
    return {
      prompts_file: ds.prompts,
      dataset_steps_run: ds.ran,
      run,
      analyze,
      report: rep.report,
      report_ok: rep.ok,
      seconds,
    };
  } finally {
    await owned?.close();
  }
}
