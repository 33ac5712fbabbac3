import { accessSync, constants, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createHash } from "node:crypto";
import { z } from "zod";
import { ConfigError } from "./errors.ts";
import { log } from "./log.ts";

/** Model id the sidecar resolves to the embedded small instruction-tuned model (see py-sidecar). */
export const EMBEDDED_MODEL = "default";
export const PAPER_MODEL = "Qwen/Qwen2.5-7B-Instruct";

export const CATEGORIES = ["idioms", "facts", "commonsense", "creative", "ood"] as const;
export type Category = (typeof CATEGORIES)[number];

/** python seeds the TS-side random streams (dataset, bootstrap, patch subset); torch seeds sampling. */
const Seeds = z.object({ python: z.number().int(), torch: z.number().int() });

export const ConfigSchema = z.object({
  profile: z.enum(["default", "paper"]),
  /** Root under which data/, runs/ and assets/ live. */
  dataRoot: z.string().min(1),
  seeds: Seeds,
  model: z.object({
    /** HF id, local dir, .gguf path, `random:<config.json>` or `default` (embedded). */
    id: z.string().min(1),
    promptFormat: z.enum(["raw", "chat"]),
    systemMessage: z.string().nullable(),
    /**
     * Let a hub model run its own Python code (transformers' trust_remote_code); absent means false.
     * Only for repos you trust; passed to the sidecar as --trust-remote-code.
     */
    trustRemoteCode: z.boolean().optional(),
  }),
  sidecar: z.object({
    python: z.string().min(1),
    transport: z.enum(["ipc", "tcp"]),
    startTimeoutMs: z.number().int().positive(),
    requestTimeoutMs: z.number().int().positive(),
    /** Upper bound on tokens per batch sent in one request; the sidecar's own budget wins if smaller. */
    maxBatchTokens: z.number().int().positive(),
    /**
     * Sidecars to start (`--devices`, src/rpc/devices.ts): null = one that sees every device; "cpu"; "auto"
     * (one per visible GPU); or a list like "cuda:0,cuda:1" ("cuda:0+cuda:1" = one sidecar over both).
     */
    devices: z.string().nullable(),
    /** Sidecars per `devices` entry (`--sidecars`; N CPU sidecars with devices "cpu"). */
    sidecars: z.number().int().positive(),
  }),
  generation: z.object({
    greedyMaxNewTokens: z.number().int().positive(),
    samplesPerPrompt: z.number().int().positive(),
    sampleMaxNewTokens: z.number().int().positive(),
    temperature: z.number().positive(),
    topP: z.number().gt(0).lte(1),
    /** decision: attention rows at the decision step (what analyses read); full: every position and hidden states. */
    traceMode: z.enum(["decision", "full"]),
  }),
  dataset: z.object({
    /** Candidates per category before filtering (every category required). */
    poolSizes: z.record(z.enum(CATEGORIES), z.number().int().nonnegative()),
    /** Prompts per target word for creative and OOD (K). */
    promptsPerTarget: z.number().int().positive(),
    zipfMin: z.number(),
    zipfMax: z.number(),
    perCategory: z.number().int().positive(),
    binEdges: z.array(z.number()).min(2),
    p0Gate: z.number().min(0).max(1),
    maxCategoriesPerTarget: z.number().int().positive(),
    ambiguityMax: z.number(),
    naturalnessMin: z.number(),
  }),
  llm: z.object({
    /** openai: Batch API; chat: any OpenAI-compatible Chat Completions endpoint; replay: recorded outputs. */
    provider: z.enum(["openai", "replay", "chat"]),
    replayDir: z.string().nullable(),
    model: z.string(),
    maxOutputTokens: z.number().int().positive(),
    baseURL: z.string().nullable(),
    pollIntervalMs: z.number().int().positive(),
    pollMaxIntervalMs: z.number().int().positive(),
    /** How hard the chat provider pushes its endpoint; never changes a reply, so out of every hash. */
    chat: z.object({
      /** Requests in flight at once (`--llm-concurrency`). */
      concurrency: z.number().int().positive(),
      /** Per-attempt client timeout; a slow reply past it is retried. */
      timeoutMs: z.number().int().positive(),
      /** Retries per request on 429, 5xx, timeouts and dropped connections before the build stops. */
      maxRetries: z.number().int().nonnegative(),
      /** Backoff doubles from retryBaseMs up to retryMaxMs (jittered) unless the server sends Retry-After. */
      retryBaseMs: z.number().int().positive(),
      retryMaxMs: z.number().int().positive(),
    }),
  }),
  wikidata: z.object({ endpoint: z.string().url() }),
  analysis: z.object({
    bootstrapB: z.number().int().positive(),
    patchQuantile: z.number().min(0).max(1),
    patchThresholdMin: z.number(),
    patchThresholdMax: z.number(),
    /** Top-up size of the patching subset when the balanced rule yields fewer (0 = design rule only). */
    patchMinPrompts: z.number().int().nonnegative(),
    epsilon: z.number().positive(),
  }),
});
export type Config = z.infer<typeof ConfigSchema>;

const BASE: Config = {
  profile: "default",
  dataRoot: ".",
  seeds: { python: 42, torch: 42 },
  model: { id: EMBEDDED_MODEL, promptFormat: "raw", systemMessage: null },
  sidecar: {
    python: ".venv/bin/python",
    transport: "ipc",
    startTimeoutMs: 300_000,
    requestTimeoutMs: 600_000,
    maxBatchTokens: 16_384,
    devices: null,
    sidecars: 1,
  },
  generation: {
    greedyMaxNewTokens: 8,
    samplesPerPrompt: 16,
    sampleMaxNewTokens: 10,
    temperature: 1.0,
    topP: 0.9,
    traceMode: "decision",
  },
  dataset: {
    poolSizes: { idioms: 1000, facts: 1000, commonsense: 1000, creative: 1800, ood: 1800 },
    promptsPerTarget: 3,
    zipfMin: 3.5,
    zipfMax: 6.0,
    perCategory: 500,
    binEdges: [0, 0.2, 0.4, 0.6, 0.8, 1.0],
    p0Gate: 0.2,
    maxCategoriesPerTarget: 2,
    ambiguityMax: 3,
    naturalnessMin: 7,
  },
  llm: {
    provider: "openai",
    replayDir: null,
    model: "gpt-5.2-2025-12-11",
    maxOutputTokens: 2000,
    baseURL: null,
    pollIntervalMs: 5_000,
    pollMaxIntervalMs: 60_000,
    chat: { concurrency: 8, timeoutMs: 600_000, maxRetries: 8, retryBaseMs: 1_000, retryMaxMs: 60_000 },
  },
  wikidata: { endpoint: "https://query.wikidata.org/sparql" },
  analysis: {
    bootstrapB: 1000,
    patchQuantile: 0.75,
    patchThresholdMin: 0.7,
    patchThresholdMax: 0.95,
    patchMinPrompts: 0,
    epsilon: 1e-9,
  },
};

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K] };

/** Profile defaults: `paper` is the study; `default` is the small offline flow on the embedded model. */
export const PROFILES: Record<Config["profile"], DeepPartial<Config>> = {
  paper: { profile: "paper", model: { id: PAPER_MODEL } },
  default: {
    profile: "default",
    model: { id: EMBEDDED_MODEL },
    dataset: {
      // Facts are the embedded model's high-pressure prompts (capitals and languages it knows reach
      // P0 ≥ 0.8); 300 of the 1,119 cached facts put a few of them in the top bin.
      poolSizes: { idioms: 120, facts: 300, commonsense: 60, creative: 60, ood: 60 },
      perCategory: 20,
    },
    llm: { provider: "replay", replayDir: "data/replay/demo" },
    // The design's threshold rule; a 30-prompt demo may leave it (nearly) empty, so it is topped up to 8
    // prompts by P0 rank, and the report says how many came from the rule and how many from the top-up.
    analysis: { patchMinPrompts: 8 },
  },
};

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function deepMerge<T>(base: T, over: unknown): T {
  if (!isPlainObject(over)) return base;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? deepMerge(out[k], v) : v;
  }
  return out as T;
}

/** Env overrides: a small, documented set (SEMPRESS_PROFILE, SEMPRESS_DATA_ROOT, SEMPRESS_MODEL, ...). */
export function envOverrides(env: NodeJS.ProcessEnv): DeepPartial<Config> {
  const o: Record<string, unknown> = {};
  if (env.SEMPRESS_DATA_ROOT) o.dataRoot = env.SEMPRESS_DATA_ROOT;
  if (env.SEMPRESS_MODEL) o.model = { id: env.SEMPRESS_MODEL };
  if (env.SEMPRESS_PYTHON) o.sidecar = { python: env.SEMPRESS_PYTHON };
  if (env.SEMPRESS_LLM) o.llm = parseLlm(env.SEMPRESS_LLM);
  if (env.OPENAI_BASE_URL) o.llm = { ...(o.llm as object), baseURL: env.OPENAI_BASE_URL };
  return o as DeepPartial<Config>;
}

/** `openai`, `chat` or `replay:DIR`. */
export function parseLlm(spec: string): DeepPartial<Config["llm"]> {
  if (spec === "openai") return { provider: "openai" };
  if (spec === "chat") return { provider: "chat" };
  if (spec.startsWith("replay:")) return { provider: "replay", replayDir: spec.slice("replay:".length) };
  if (spec === "replay") return { provider: "replay" };
  throw new ConfigError(`--llm: expected "openai", "chat" or "replay:DIR", got "${spec}"`);
}

/**
 * The profile when none is given (flag, config file or SEMPRESS_PROFILE): always `default`. The paid
 * `paper` profile (GPT-5.2 batches, a 7B model) is never chosen from the machine's state: an OpenAI key
 * and a CUDA GPU only earn a log line saying how to ask for it.
 */
export function autoProfile(env: NodeJS.ProcessEnv, cuda: () => boolean = hasCuda): Config["profile"] {
  if (env.OPENAI_API_KEY && cuda()) {
    log().info("OpenAI key and CUDA GPU found; profile stays default (the paid paper profile runs only with --profile paper or SEMPRESS_PROFILE=paper)");
  }
  return "default";
}

function hasCuda(): boolean {
  return existsSync("/dev/nvidiactl") || existsSync("/proc/driver/nvidia/version");
}

export interface LoadConfigOptions {
  profile?: Config["profile"];
  file?: string;
  env?: NodeJS.ProcessEnv;
  flags?: DeepPartial<Config>;
}

/**
 * defaults ← profile ← JSON config file ← env ← CLI flags, then validated. The profile comes from the
 * `--profile` flag, else the config file's `profile`, else SEMPRESS_PROFILE, else `default` (never
 * `paper` by itself: see autoProfile).
 */
export function loadConfig(opts: LoadConfigOptions = {}): Config {
  const env = opts.env ?? process.env;
  let fileCfg: Record<string, unknown> = {};
  if (opts.file) {
    let text: string;
    try {
      text = readFileSync(opts.file, "utf8");
    } catch (e) {
      throw new ConfigError(`${opts.file}: cannot read config file (${(e as Error).message})`, "config_unreadable");
    }
    try {
      fileCfg = JSON.parse(text);
    } catch (e) {
      throw new ConfigError(`${opts.file}: not valid JSON (${(e as Error).message})`);
    }
  }
  const profile =
    opts.profile ??
    (opts.flags?.profile as Config["profile"] | undefined) ??
    (fileCfg.profile as Config["profile"] | undefined) ??
    (env.SEMPRESS_PROFILE as Config["profile"] | undefined) ??
    autoProfile(env);
  if (!Object.hasOwn(PROFILES, profile)) throw new ConfigError(`unknown profile "${profile}" (expected default or paper)`);
  let merged: unknown = deepMerge(BASE, PROFILES[profile]);
  merged = deepMerge(merged, fileCfg);
  merged = deepMerge(merged, envOverrides(env));
  merged = deepMerge(merged, opts.flags ?? {});
  const parsed = ConfigSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = opts.file ? `${opts.file}: ` : "";
    throw new ConfigError(`${where}config field ${issue.path.join(".")}: ${issue.message}`);
  }
  return parsed.data;
}

/**
 * Config fields that say where and how to run, not what is computed: they never change a result, so
 * they stay out of every config hash (a resume from another data root, Python path or timeout is the
 * same run). Log level, --limit, --resume and --chunk are not config fields at all.
 */
export const HASH_EXCLUDED = [
  "dataRoot",
  "sidecar.python",
  "sidecar.transport",
  "sidecar.startTimeoutMs",
  "sidecar.requestTimeoutMs",
  "sidecar.devices",
  "sidecar.sidecars",
  "llm.pollIntervalMs",
  "llm.pollMaxIntervalMs",
  "llm.chat",
] as const;

/**
 * A run directory's hash also leaves out the analysis settings: nothing `run` writes depends on them,
 * and `analyze` rewrites each of its files whole from the settings it is given.
 */
export const RUN_HASH_EXCLUDED = [...HASH_EXCLUDED, "analysis"] as const;

/** A copy of the config without the given dotted field paths. */
export function hashedConfig(cfg: unknown, exclude: readonly string[] = HASH_EXCLUDED): Record<string, unknown> {
  const out = structuredClone(cfg) as Record<string, unknown>;
  for (const path of exclude) {
    const keys = path.split(".");
    let o: unknown = out;
    for (const k of keys.slice(0, -1)) o = isPlainObject(o) ? o[k] : undefined;
    if (isPlainObject(o)) delete o[keys[keys.length - 1]];
  }
  return out;
}

/** Stable hash of the config without the excluded fields (key order ignored). */
export function configHash(cfg: Config, exclude: readonly string[] = HASH_EXCLUDED): string {
  return createHash("sha256").update(stableStringify(hashedConfig(cfg, exclude))).digest("hex").slice(0, 16);
}

/** The hash run.json records as `config_hash`; `run --resume` and `analyze` refuse a different one. */
export function runConfigHash(cfg: Config): string {
  return configHash(cfg, RUN_HASH_EXCLUDED);
}

/** Dotted path and both values of the first leaf where two configs differ (sorted keys), or null. */
export function firstConfigDifference(a: unknown, b: unknown, at = ""): { path: string; a: unknown; b: unknown } | null {
  if (isPlainObject(a) && isPlainObject(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      const d = firstConfigDifference(a[k], b[k], at ? `${at}.${k}` : k);
      if (d) return d;
    }
    return null;
  }
  return stableStringify(a) === stableStringify(b) ? null : { path: at, a, b };
}

/** JSON with sorted keys; keys whose value is undefined are left out, as JSON.stringify does. */
export function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(",")}]`;
  if (isPlainObject(v)) {
    return `{${Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableStringify(v[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v);
}

export const DATA_DIRS = [
  "data/raw",
  "data/candidates",
  "data/validated",
  "data/logs",
  "runs/mechanistic_trace",
  "runs/failure_samples",
  "runs/errors",
  "assets",
] as const;

/** Absolute path of a file under the data root. */
export function dataPath(cfg: Pick<Config, "dataRoot">, ...parts: string[]): string {
  return resolve(cfg.dataRoot, ...parts);
}

/**
 * Creates the data directories under the root. Stops with one clear line when the root (or any
 * directory under it) cannot be written, before any work is done.
 */
export function setupDirectories(cfg: Pick<Config, "dataRoot">): string[] {
  const root = resolve(cfg.dataRoot);
  const made: string[] = [];
  for (const d of DATA_DIRS) {
    const p = join(root, d);
    try {
      mkdirSync(p, { recursive: true });
      accessSync(p, constants.W_OK);
    } catch (e) {
      throw new ConfigError(
        `data root ${root} is not writable (${d}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
        "data_root_unwritable",
      );
    }
    made.push(p);
  }
  return made;
}
