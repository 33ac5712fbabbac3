/**
 * The report header's facts — profile, model (id and source), prompt format, dataset source, LLM
 * provider — and whether the dataset or its validation is demo material. Read defensively from
 * runs/run.json (written by the run stage) and data/validated/report.json (written by the dataset
 * build): a fact that is not recorded reads "unknown" and is listed in `not_recorded` with the file
 * and field it should come from.
 *
 * Demo provenance (src/dataset/llm): candidates generated from the bundled hand-written replies have
 * `source` "replay_demo"; validation replies made by the demo rule say "DEMO RULE" in `comments`.
 */
import { isDemoGenerated, isDemoJudged, reportSaysDemo } from "../dataset/demo.ts";
import type { PromptRecord } from "../schemas.ts";
import type { RunData } from "./load.ts";

export const UNKNOWN = "unknown";

export interface DemoProvenance {
  /** Prompts (of the run's) whose candidate came from the bundled hand-written demo replies. */
  generated: number;
  /** Prompts whose validation reply came from the demo rule, not from a model. */
  judged_by_rule: number;
  /** Prompts looked at (the run's prompts found in data/validated/prompts.jsonl). */
  of: number;
}

export interface ReportHeader {
  profile: string;
  model_id: string;
  /** How the sidecar loaded the model: hf | gguf | random | embedded. */
  model_source: string;
  prompt_format: string;
  /** The prompts file the run used. */
  prompts_file: string;
  /** Dataset LLM provider: openai | chat | replay | demo (a replay of the bundled demo set) | unknown. */
  llm_provider: string;
  /** The model name the dataset build asked its LLM for (openai and chat builds). */
  llm_model: string | null;
  /** The model id the chat endpoint reported in its replies, which may differ from the name asked for. */
  llm_server_model: string | null;
  /** The endpoint the dataset build talked to, without credentials. */
  llm_base_url: string | null;
  /** Replay directory of the dataset build, when it recorded one. */
  llm_replay_dir: string | null;
  demo: DemoProvenance & { any: boolean };
  /** "file → field" for every fact above that the inputs did not record. */
  not_recorded: string[];
}


/** obj.a.b.c when every step is an object, else undefined. */
function pick(obj: unknown, path: readonly string[]): unknown {
  let cur: unknown = obj;
  for (const k of path) {
    if (typeof cur !== "object" || cur === null || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

const str = (v: unknown): string | null => (typeof v === "string" && v.length > 0 ? v : null);

/** Counts demo-generated and demo-judged prompts among the run's prompts (all prompts when none match). */
export function demoProvenance(prompts: readonly PromptRecord[], runIds: ReadonlySet<string>): DemoProvenance {
  const mine = prompts.filter((p) => runIds.has(p.prompt_id));
  const set = mine.length ? mine : prompts;
  return {
    generated: set.filter(isDemoGenerated).length,
    judged_by_rule: set.filter(isDemoJudged).length,
    of: set.length,
  };
}

export function reportHeader(data: RunData): ReportHeader {
  const run = data.manifestRaw;
  const ds = data.datasetReport;
  const missing: string[] = [];
  const from = <T>(value: T | null, where: string): T | string => {
    if (value !== null) return value;
    missing.push(where);
    return UNKNOWN;
  };
  const RUN = "runs/run.json";
  const DS = "data/validated/report.json";

  // Top-level facts (profile, model_id, prompt_format, dataset {path, demo}, llm_provider) first, where a
  // run records them; else the config, hello facts and run section every run.json has had.
  const profile = from(str(pick(run, ["profile"])) ?? str(pick(run, ["config", "profile"])), `${RUN} → profile`);
  const modelId = from(
    str(pick(run, ["model_id"])) ?? str(pick(run, ["model", "model_id"])) ?? str(pick(run, ["config", "model", "id"])),
    `${RUN} → model_id`,
  );
  const modelSource = from(str(pick(run, ["model", "model_source"])), `${RUN} → model.model_source`);
  const promptFormat = from(
    str(pick(run, ["prompt_format"])) ?? str(pick(run, ["config", "model", "promptFormat"])) ?? data.prompts[0]?.prompt_format ?? null,
    `${RUN} → prompt_format`,
  );
  const promptsFile = from(str(pick(run, ["dataset", "path"])) ?? str(pick(run, ["run", "prompts_file"])), `${RUN} → dataset.path`);

  const demo = demoProvenance(data.prompts, new Set(data.psem.map((r) => r.prompt_id)));
  const recordedDemo =
    pick(run, ["dataset", "demo"]) === true || pick(run, ["llm_provider"]) === "demo" || reportSaysDemo(ds);
  const anyDemo = recordedDemo || demo.generated > 0 || demo.judged_by_rule > 0;
  // The build's own record first: the run's config names the provider it *would* use, not the one that built the dataset.
  const provider =
    str(pick(ds, ["llm", "provider"])) ?? str(pick(run, ["dataset_llm", "provider"])) ?? str(pick(run, ["llm_provider"])) ?? str(pick(ds, ["provider"]));
  const llmFact = (k: string) => str(pick(ds, ["llm", k])) ?? str(pick(run, ["dataset_llm", k]));
  const serverModel = llmFact("server_model");
  if (provider === "chat" && !serverModel) missing.push(`${DS} → llm.server_model (the model id the chat endpoint reported)`);
  if (!provider) missing.push(`${RUN} → llm_provider (or ${DS} → provider)`);
  const llmProvider = anyDemo && provider !== "openai" ? "demo" : (provider ?? UNKNOWN);
  const replayDir = str(pick(ds, ["replay_dir"])) ?? str(pick(ds, ["llm", "replay_dir"]));
  if (!replayDir && provider === "replay" && !anyDemo) missing.push(`${DS} → replay_dir (the replay directory the build read)`);
  const demoRecorded = [pick(run, ["dataset", "demo"]), pick(ds, ["llm", "demo"])].some((v) => typeof v === "boolean");
  if (provider !== "openai" && provider !== "demo" && !demoRecorded) missing.push(`${RUN} → dataset.demo (true when the dataset came from the labelled demo set)`);

  return {
    profile,
    model_id: modelId,
    model_source: modelSource,
    prompt_format: promptFormat,
    prompts_file: promptsFile,
    llm_provider: llmProvider,
    llm_replay_dir: replayDir,
    llm_model: llmFact("model"),
    llm_server_model: serverModel,
    llm_base_url: llmFact("base_url"),
    demo: { ...demo, any: anyDemo },
    not_recorded: missing,
  };
}
