/**
 * run.json: what produced a run directory (config, seeds, model facts from hello without the
 * tokenizer text, which is pinned by its sha256 instead, library versions), and at the top level the
 * run's identity (./identity.ts: profile, model_spec, model_id, prompt_format, dataset, config_hash,
 * llm_provider), which resume and analyze check.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { runConfigHash, type Config } from "../config.ts";
import type { HelloResult } from "../rpc/protocol.ts";
import { PROTOCOL_VERSION } from "../rpc/protocol.ts";
import type { RunManifest } from "../schemas.ts";
import { writeJson } from "../util/jsonl.ts";

function packageVersion(): string {
  try {
    return JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")).version ?? "unknown";
  } catch {
    return "unknown";
  }
}

/** hello minus the tokenizer text (kept as its sha256, so a run still pins the exact tokenizer). */
export function modelFacts(hello: HelloResult): Record<string, unknown> {
  const { tokenizer_json, ...rest } = hello;
  return { ...rest, tokenizer_json_sha256: createHash("sha256").update(tokenizer_json).digest("hex") };
}

export function buildManifest(cfg: Config, hello: HelloResult | null, command: string): RunManifest {
  return {
    created_at: new Date().toISOString(),
    command,
    config: cfg as unknown as Record<string, unknown>,
    config_hash: runConfigHash(cfg),
    seeds: cfg.seeds,
    model: hello ? modelFacts(hello) : null,
    versions: {
      sempress: packageVersion(),
      node: process.version,
      protocol: String(PROTOCOL_VERSION),
      ...(hello
        ? { torch: hello.torch_version, transformers: hello.transformers_version, python: hello.python_version }
        : {}),
    },
  };
}

export function writeManifest(file: string, cfg: Config, hello: HelloResult | null, extra: { command: string } & Record<string, unknown>): void {
  const { command, ...rest } = extra;
  writeJson(file, { ...buildManifest(cfg, hello, command), ...rest });
}

/** Adds or replaces top-level fields of an existing run.json (e.g. the P0 check when the run ends). */
export function updateManifest(file: string, patch: Record<string, unknown>): void {
  const prev = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>) : {};
  writeJson(file, { ...prev, ...patch });
}
