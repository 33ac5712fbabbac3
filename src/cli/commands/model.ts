/**
 * `sempress model pull <id> [--revision R]`: fetch a Hugging Face hub model into the HF cache ahead of a
 * run, through the sidecar's Python (`python -m sempress_sidecar.hub pull`), so HF_HOME, HF_ENDPOINT,
 * HF_HUB_OFFLINE and HF_TOKEN mean what they mean to every HF tool. Prints one JSON object
 * {id, revision, commit, path, files, bytes}; progress bars and logs go to stderr. Only config, tokenizer
 * and safetensors files are fetched (never pickled *.bin weights); the repo's *.py files only with
 * --trust-remote-code.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import { InputError, SidecarError } from "../../errors.ts";
import { REPO_ROOT } from "../../rpc/process.ts";
import { configFor, printJson } from "../common.ts";

/** What `model pull` prints: the model's snapshot in the HF cache. */
export const PulledModel = z.object({
  /** Hub id, e.g. `Qwen/Qwen2.5-7B-Instruct`. */
  id: z.string(),
  /** The revision asked for (branch, tag or commit; `main` by default). */
  revision: z.string(),
  /** The commit hash it resolved to. */
  commit: z.string(),
  /** The snapshot directory in the HF cache; `--model <path>` loads it without the hub. */
  path: z.string(),
  /** Files in the snapshot, relative to `path`. */
  files: z.array(z.string()),
  /** Their total size in bytes. */
  bytes: z.number().int().nonnegative(),
});
export type PulledModel = z.infer<typeof PulledModel>;

export interface PullOptions {
  python: string;
  revision?: string;
  trustRemoteCode?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Where the child's stderr (progress, logs) goes; its own error line is kept back and thrown instead. */
  stderr?: NodeJS.WritableStream;
}

/** The Python side's error line: `<iso time> ERROR [-] sempress.hub: <message>`. */
const HUB_ERROR = /^\S+ ERROR \[[^\]]*\] sempress\.hub: (.*)$/;

/** Fetches `id` into the HF cache; rejects with InputError (not a hub id) or SidecarError (hub trouble). */
export async function pullModel(id: string, opts: PullOptions): Promise<PulledModel> {
  if (existsSync(id)) throw new InputError(`model pull: "${id}" is a local path, not a hub id (owner/name); it needs no pull`, "not_a_hub_id");
  const base = opts.env ?? process.env;
  const args = ["-m", "sempress_sidecar.hub", "pull", id];
  if (opts.revision) args.push("--revision", opts.revision);
  if (opts.trustRemoteCode) args.push("--trust-remote-code");
  const child = spawn(opts.python, args, {
    cwd: REPO_ROOT,
    env: { ...base, PYTHONPATH: [join(REPO_ROOT, "py-sidecar"), base.PYTHONPATH].filter(Boolean).join(delimiter) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const sink = opts.stderr ?? process.stderr;
  let out = "";
  let pending = "";
  const errors: string[] = [];
  const relay = (text: string) => {
    for (const line of text.split(/(?<=\n)/)) {
      const m = HUB_ERROR.exec(line.trimEnd());
      if (m) errors.push(m[1]);
      else sink.write(line);
    }
  };
  child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
  child.stderr.setEncoding("utf8").on("data", (c: string) => {
    // whole lines (progress bars end theirs with \r) so an error line is recognised before it is shown
    pending += c;
    const cut = Math.max(pending.lastIndexOf("\n"), pending.lastIndexOf("\r"));
    if (cut < 0) return;
    relay(pending.slice(0, cut + 1));
    pending = pending.slice(cut + 1);
  });
  const code = await new Promise<number | null>((res, rej) => {
    child.once("error", (e) => rej(new SidecarError(`model pull: cannot start ${opts.python}: ${e.message}`, "model_pull_failed")));
    child.once("close", (c) => res(c));
  });
  if (pending) relay(pending);
  const why = errors.at(-1) ?? `python exited with code ${code}`;
  if (code === 2) throw new InputError(`model pull: ${why}`, "not_a_hub_id");
  if (code !== 0) throw new SidecarError(`model pull: ${why}`, "model_pull_failed");
  const parsed = PulledModel.safeParse(JSON.parse(out));
  if (!parsed.success) throw new SidecarError(`model pull: unexpected output from the Python side: ${out.slice(0, 200)}`, "model_pull_failed");
  return parsed.data;
}

export function register(program: Command): void {
  const model = program.command("model").description("Hugging Face hub models in the HF cache");

  model
    .command("pull <id>")
    .description("download a hub model (config, tokenizer, safetensors) into the HF cache; JSON on stdout")
    .option("--revision <rev>", "branch, tag or commit (default main)")
    .action(async (id: string, o: { revision?: string }, cmd: Command) => {
      const cfg = configFor(cmd); // the global --trust-remote-code lands in cfg.model.trustRemoteCode
      printJson(await pullModel(id, { python: cfg.sidecar.python, revision: o.revision, trustRemoteCode: cfg.model.trustRemoteCode }));
    });
}
