/**
 * `sempress dataset build [--llm openai|chat|replay:DIR] [--llm-base-url URL] [--llm-model NAME]
 * [--llm-concurrency N] [--resume] [--p0-probe sidecar|synthetic]` builds data/validated/prompts.jsonl
 * and report.json (design "Dataset"). stdout: one JSON summary; stderr: logs and progress.
 * `--p0-probe synthetic` is for tests only (a hash, not a model).
 */
import { InvalidArgumentError, type Command } from "commander";
import { ConfigSchema, deepMerge, type Config } from "../../config.ts";
import { ConfigError } from "../../errors.ts";
import { readFileSync } from "node:fs";
import { buildDataset } from "../../dataset/build.ts";
import { syntheticProbe, type P0Probe } from "../../dataset/probe.ts";
import { sidecarProbe } from "../../dataset/sidecarProbe.ts";
import { connectSidecar } from "../../rpc/client.ts";
import { HfTokenizer } from "../../tokenizer/hfTokenizer.ts";
import { configFor, printJson } from "../common.ts";

interface BuildOpts {
  llm?: string;
  llmBaseUrl?: string;
  llmModel?: string;
  llmConcurrency?: number;
  resume?: boolean;
  p0Probe: string;
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a positive integer");
  return n;
}

/** The --llm-* flags over the resolved config (they win over file and env), validated again. */
function withLlmFlags(cfg: Config, o: BuildOpts): Config {
  const llm: Record<string, unknown> = {};
  if (o.llmBaseUrl !== undefined) llm.baseURL = o.llmBaseUrl;
  if (o.llmModel !== undefined) llm.model = o.llmModel;
  if (o.llmConcurrency !== undefined) llm.chat = { concurrency: o.llmConcurrency };
  if (Object.keys(llm).length === 0) return cfg;
  const r = ConfigSchema.safeParse(deepMerge(cfg, { llm }));
  if (!r.success) throw new ConfigError(`config field ${r.error.issues[0].path.join(".")}: ${r.error.issues[0].message}`);
  return r.data;
}

export function register(program: Command): void {
  const ds = program.command("dataset").description("build the validated prompt dataset (Module 2)");
  ds.command("build")
    .description("collect → gaps → generate → ingest → filter → validate → P0 probe → select")
    .option("--llm <spec>", 'replies from "openai" (Batch API), "chat" (any OpenAI-compatible Chat Completions endpoint) or "replay:DIR" (recorded outputs)')
    .option("--llm-base-url <url>", "endpoint base URL, e.g. http://localhost:8000/v1 (default: llm.baseURL, else OPENAI_BASE_URL)")
    .option("--llm-model <name>", "model name sent to the endpoint (default: llm.model)")
    .option("--llm-concurrency <n>", "chat requests in flight at once (default: llm.chat.concurrency)", positiveInt)
    .option("--resume", "continue after the last finished step; recorded batches and chat answers are never asked for again")
    .option("--p0-probe <kind>", "sidecar (real P_sem) or synthetic (tests only: hash, not a model)", "sidecar")
    .action(async (o: BuildOpts, cmd: Command) => {
      const cfg = withLlmFlags(configFor(cmd, { llm: o.llm }), o);
      const t0 = Date.now();
      let probe: P0Probe;
      let close = async () => {};
      if (o.p0Probe === "synthetic") probe = syntheticProbe(cfg.seeds.python);
      else if (o.p0Probe === "sidecar") {
        // Started on first use, so a resumed build past the probe step never starts a model.
        let inner: P0Probe | null = null;
        let sc: Awaited<ReturnType<typeof connectSidecar>> | null = null;
        close = async () => {
          await sc?.close();
        };
        probe = Object.assign(
          async (items: Parameters<P0Probe>[0]) => {
            if (!inner) {
              sc = await connectSidecar(cfg);
              const hello = await sc.hello();
              inner = sidecarProbe(sc, HfTokenizer.fromHello(hello), cfg.model.promptFormat, cfg.model.systemMessage, hello.model_id);
            }
            return inner(items);
          },
          { probeName: `psem(${cfg.model.id}, ${cfg.model.promptFormat})` },
        );
      } else throw new ConfigError(`--p0-probe: expected sidecar or synthetic, got "${o.p0Probe}"`);
      try {
        const r = await buildDataset(cfg, { resume: !!o.resume, probe });
        const report = JSON.parse(readFileSync(r.report, "utf8")) as { prompts: number; bins: unknown; category_shortfalls: unknown };
        printJson({
          prompts_file: r.prompts,
          report_file: r.report,
          prompts: report.prompts,
          bins: report.bins,
          category_shortfalls: report.category_shortfalls,
          steps_run: r.ran,
          steps_skipped: r.skipped,
          seconds: Math.round((Date.now() - t0) / 100) / 10,
        });
      } finally {
        await close();
      }
    });
}
