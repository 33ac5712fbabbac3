/** Synthetic data roots for the compare tests: the report fixture plus unit records, under one model name. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PsemRow } from "../../src/schemas.ts";
import { readCsv } from "../../src/util/csv.ts";
import { makeFixtureRoot, type FixtureOptions } from "../report/fixtures.ts";
import { writeUnitFixtures } from "../report/explorerFixtures.ts";

const made: string[] = [];

/** A fixture root with runs/units.jsonl whose run.json names `model` and the dataset's sha256. */
export function runRoot(model: string, opts: FixtureOptions & { sha?: string } = {}): string {
  const root = makeFixtureRoot({
    ...opts,
    runFields: { model_id: model, model_spec: `random:${model}.json`, prompt_format: "raw", profile: "default", dataset: { path: "/data/prompts.jsonl", sha256: opts.sha ?? "ab".repeat(32) }, ...opts.runFields },
  });
  made.push(root);
  writeUnitFixtures(root);
  return root;
}

/** Gives every prompt of a root another id (in every file), so it shares no prompt with other roots. */
export function renamePrompts(root: string, suffix: string): void {
  const ids = readCsv(join(root, "runs/psem.csv"), PsemRow).map((r) => r.prompt_id);
  const walk = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : [join(dir, f)]));
  for (const f of walk(root).filter((f) => /\.(jsonl|csv)$/.test(f))) {
    let text = readFileSync(f, "utf8");
    for (const id of ids) text = text.split(id).join(`${id}${suffix}`);
    writeFileSync(f, text);
  }
}

/** An empty temporary directory, removed with the roots. */
export function scratchDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

/** Removes every root and directory made here (call from `after`). */
export function removeRoots(): void {
  for (const r of made.splice(0)) rmSync(r, { recursive: true, force: true });
}
