/** Shared set-up for the chat provider's tests: configs aimed at the local chat server, its journals, the CLI. */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig, type Config } from "../../../src/config.ts";
import { JournalLine } from "../../../src/dataset/llm/chatJournal.ts";
import type { Fault, FaultContext } from "../../peers/chatServer.ts";
import { SMALL_SIZES } from "../helpers.ts";

export const MODEL = "local-model";

/** Short waits so injected faults cost milliseconds, not the production minutes. */
export const FAST = { concurrency: 4, timeoutMs: 300, maxRetries: 6, retryBaseMs: 20, retryMaxMs: 200 };

export function chatConfigObject(root: string, baseURL: string, o: { sizes?: object | null; chat?: Partial<typeof FAST>; model?: string } = {}): Record<string, unknown> {
  return {
    profile: "default",
    dataRoot: root,
    ...(o.sizes === null ? {} : { dataset: o.sizes ?? SMALL_SIZES }),
    llm: { provider: "chat", baseURL, model: o.model ?? MODEL, chat: { ...FAST, ...o.chat } },
  };
}

export function chatConfig(root: string, baseURL: string, o: Parameters<typeof chatConfigObject>[2] = {}): Config {
  return loadConfig({ env: {}, flags: chatConfigObject(root, baseURL, o) as never });
}

function h(s: string): number {
  return createHash("sha256").update(s).digest().readUInt32BE(0);
}

/**
 * A fixed spread of faults over first attempts, by arrival order: every 60th request a 429
 * (Retry-After 1 s), and of every 12 one each a 500, a reply far slower than the client's timeout,
 * prose instead of JSON (never to a strict re-ask) and a dropped connection. About a tenth of second
 * attempts get another 500.
 */
export function spreadFaults(c: FaultContext): Fault | null {
  if (c.customId === "preflight") return null;
  if (c.seen === 0) {
    if (c.n % 60 === 30) return { kind: "429", retryAfterS: 1 };
    const kind = (["500", "slow", "text", "drop"] as const)[c.n % 12] ?? null;
    // The strict re-ask of a prose reply gets JSON, so no request is dropped and the pools stay full.
    if (kind === "text" && c.customId.endsWith("#retry")) return null;
    if (kind === "slow") return { kind, ms: 20 * FAST.timeoutMs };
    if (kind) return { kind };
  }
  if (c.seen === 1 && h(c.customId) % 10 === 0) return { kind: "500" };
  return null;
}

/** Every journal line of a build's data/logs, by file. */
export function journals(root: string): Map<string, JournalLine[]> {
  const logs = join(root, "data/logs");
  const out = new Map<string, JournalLine[]>();
  for (const f of readdirSync(logs).sort()) {
    if (!/^chat_.*\.jsonl$/.test(f) || f.endsWith(".prev.jsonl")) continue;
    const lines = readFileSync(join(logs, f), "utf8").split("\n").filter((l) => l.trim());
    out.set(f, lines.map((l) => JournalLine.parse(JSON.parse(l))));
  }
  return out;
}

/** custom_id → number of answer lines, over every request part's journal (not the preflight's). */
export function answerCounts(root: string): Map<string, number> {
  const n = new Map<string, number>();
  for (const [f, lines] of journals(root)) {
    if (f === "chat_preflight.jsonl") continue;
    for (const l of lines) if (l.t === "answer") n.set(l.id, (n.get(l.id) ?? 0) + 1);
  }
  return n;
}

export interface CliRun {
  child: ChildProcess;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** The real CLI in a child process (bin/sempress.mjs), with the synthetic probe and the given config. */
export function cli(root: string, config: Record<string, unknown>, extra: string[] = [], env: NodeJS.ProcessEnv = {}): CliRun {
  const cfgFile = join(root, "config.json");
  writeFileSync(cfgFile, JSON.stringify(config));
  const e: NodeJS.ProcessEnv = { ...process.env, SEMPRESS_NO_BAR: "1", SEMPRESS_LOG_LEVEL: "warn", ...env };
  for (const k of ["OPENAI_BASE_URL", "SEMPRESS_DATA_ROOT", "SEMPRESS_LLM"]) delete e[k];
  if (!("OPENAI_API_KEY" in env)) delete e.OPENAI_API_KEY;
  const child = spawn(process.execPath, ["bin/sempress.mjs", "--config", cfgFile, "dataset", "build", "--p0-probe", "synthetic", ...extra], { env: e, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on("exit", (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}
