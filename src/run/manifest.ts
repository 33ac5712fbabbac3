/**
 * run.json: what produced a run directory (config, its hash, seeds, model facts from hello without the
 * tokenizer text, which is pinned by its sha256 instead), library versions).
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { configHash, type Config } from "../config.ts";
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
    config_hash: configHash(cfg),
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
