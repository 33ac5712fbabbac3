/**
 * `sempress pipeline`: dataset build → run → analyze → report on the configured profile, with one
 * sidecar (one model load) shared by the dataset's P0 probe, the run and the analysis.
 *
 * Default-profile sizes (no key, no GPU, embedded model, 2 CPU cores; budget < 30 min end to end):
 * the run takes the first DEFAULT_PIPELINE_LIMIT prompts of the built dataset, and patching covers
 * at most DEFAULT_PATCH_LIMIT prompts of its balanced subset. The paper profile runs everything.
 */
import type { Config } from "../config.ts";
import { buildDataset } from "../dataset/build.ts";
import { sidecarProbe } from "../dataset/sidecarProbe.ts";
import { log } from "../log.ts";
import { buildReport } from "../report/build.ts";
import { analyzeStage, type AnalyzeSummary } from "./analyze.ts";
import { connectRunEnv } from "./connect.ts";
import type { RunEnv } from "./env.ts";
import { loadPrompts } from "./prompts.ts";
import { runStage, type RunSummary } from "./runner.ts";

export const DEFAULT_PIPELINE_LIMIT = 30;
export const DEFAULT_PATCH_LIMIT = 8;

export interface PipelineOptions {
  resume?: boolean;
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

export async function runPipeline(cfg: Config, o: PipelineOptions = {}): Promise<PipelineSummary> {
  const { limit, patchLimit } = pipelineLimits(cfg, o);
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
    const run = await timed("run", () => runStage(cfg, env, { prompts, resume: Boolean(o.resume), promptsFile: ds.prompts, command: "pipeline" }));
    const analyze = await timed("analyze", () => analyzeStage(cfg, env, { prompts, patchLimit }));
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
