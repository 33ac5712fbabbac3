/**
 * A compared run: the RUN_DIR argument resolved to a data root (a directory holding runs/run.json, or
 * that runs/ directory itself) and what the run is, read from its run.json (src/run/identity.ts writes
 * profile, model_spec, model_id, prompt_format, dataset {path, sha256}, config_hash at the top level;
 * older run.json files are read through their config and hello facts).
 */
import { existsSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { z } from "zod";
import { InputError } from "../errors.ts";
import { readJsonFile } from "../util/jsonl.ts";

const RunJson = z
  .object({
    profile: z.string().optional(),
    model_spec: z.string().optional(),
    model_id: z.string().nullable().optional(),
    prompt_format: z.string().optional(),
    dataset: z.object({ path: z.string().nullable().optional(), sha256: z.string().optional() }).loose().optional(),
    config_hash: z.string().optional(),
    config: z
      .object({ profile: z.string().optional(), model: z.object({ id: z.string().optional(), promptFormat: z.string().optional() }).loose().optional() })
      .loose()
      .optional(),
    model: z.object({ model_id: z.string().optional(), n_layers: z.number().int().positive().optional() }).loose().nullable().optional(),
  })
  .loose();

/** What a compared run is; null = not recorded in its run.json. */
export interface RunFacts {
  /** A, B, C… in the order given on the command line. */
  label: string;
  /** Short name for legends: the resolved model id, else the model as asked for. */
  name: string;
  data_root: string;
  run_json: string;
  profile: string | null;
  model_spec: string | null;
  model_id: string | null;
  prompt_format: string | null;
  dataset: { path: string | null; sha256: string | null };
  config_hash: string | null;
  /** Transformer blocks, from the hello facts (the CSVs are the fallback, see load.ts). */
  n_layers: number | null;
}

/** The data root of a RUN_DIR argument: the directory itself, or the parent of a runs/ directory. */
export function resolveRunDir(arg: string): string {
  const dir = resolve(arg);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError(`${arg}: no such directory`, "input_missing");
  if (existsSync(join(dir, "runs", "run.json"))) return dir;
  if (existsSync(join(dir, "run.json"))) {
    if (basename(dir) !== "runs") {
      throw new InputError(`${arg}: holds run.json but is not named runs/ (a moved-aside run): rename it to runs/ inside a data root to compare it`, "input_invalid");
    }
    return dirname(dir);
  }
  throw new InputError(`${arg}: no runs/run.json here; give a data root (the directory holding runs/) or its runs/ directory`, "input_missing");
}

const letter = (i: number): string => (i < 26 ? String.fromCharCode(65 + i) : `R${i + 1}`);

/** Reads runs/run.json of a data root; errors name the file and field. */
export function runFacts(root: string, index: number): RunFacts {
  const file = join(root, "runs", "run.json");
  const m = readJsonFile(file, RunJson);
  const modelId = m.model_id ?? m.model?.model_id ?? null;
  const spec = m.model_spec ?? m.config?.model?.id ?? null;
  return {
    label: letter(index),
    name: modelId ?? spec ?? "unknown model",
    data_root: root,
    run_json: file,
    profile: m.profile ?? m.config?.profile ?? null,
    model_spec: spec,
    model_id: modelId,
    prompt_format: m.prompt_format ?? m.config?.model?.promptFormat ?? null,
    dataset: { path: m.dataset?.path ?? null, sha256: m.dataset?.sha256 || null },
    config_hash: m.config_hash ?? null,
    n_layers: m.model?.n_layers ?? null,
  };
}

/** Resolves every argument, refusing the same run twice; facts labelled A, B, … in order. */
export function compareRunFacts(args: readonly string[]): RunFacts[] {
  if (args.length < 2) throw new InputError(`compare needs at least two run directories, got ${args.length}`, "input_invalid");
  const roots = args.map(resolveRunDir);
  roots.forEach((r, i) => {
    const j = roots.indexOf(r);
    if (j !== i) throw new InputError(`${args[i]}: the same run as ${args[j]} (${r}); compare needs different runs`, "input_invalid");
  });
  return roots.map((r, i) => runFacts(r, i));
}
