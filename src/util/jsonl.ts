import { appendFileSync, existsSync, readFileSync, renameSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { z } from "zod";
import { InputError } from "../errors.ts";
import { parseRecord } from "./records.ts";

/** Reads a JSONL file, validating each line; errors name file, line and field. */
export function readJsonl<S extends z.ZodTypeAny>(file: string, schema: S): z.output<S>[] {
  if (!existsSync(file)) return [];
  const out: z.output<S>[] = [];
  const lines = readFileSync(file, "utf8").split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === "") continue;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (e) {
      // A torn last line is what a crash mid-append leaves; earlier lines must be intact.
      if (i >= lines.length - 2) break;
      throw InputError.at(file, i + 1, null, `not valid JSON (${(e as Error).message})`);
    }
    out.push(parseRecord(schema, obj, file, i + 1));
  }
  return out;
}

/** Reads one JSON file and validates it; errors name the file and the field. */
export function readJsonFile<S extends z.ZodTypeAny>(file: string, schema: S): z.output<S> {
  if (!existsSync(file)) throw InputError.at(file, null, null, "file not found");
  let obj: unknown;
  try {
    obj = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw InputError.at(file, null, null, `not valid JSON (${(e as Error).message})`);
  }
  return parseRecord(schema, obj, file, null);
}

/** Appends records, one JSON object per line, creating the directory. */
export function appendJsonl(file: string, records: readonly unknown[]): void {
  if (records.length === 0) return;
  mkdirSync(dirname(file), { recursive: true });
  appendFileSync(file, records.map((r) => JSON.stringify(r)).join("\n") + "\n");
}

/** Writes a whole file atomically (temp file + rename) so readers never see half of it. */
export function writeFileAtomic(file: string, content: string | Uint8Array): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, content);
  renameSync(tmp, file);
}

export function writeJsonl(file: string, records: readonly unknown[]): void {
  writeFileAtomic(file, records.map((r) => JSON.stringify(r)).join("\n") + (records.length ? "\n" : ""));
}

export function writeJson(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + "\n");
}

/** Drops a torn trailing line (left by a crash mid-append) so appends resume cleanly. */
export function repairJsonlTail(file: string): void {
  if (!existsSync(file)) return;
  const text = readFileSync(file, "utf8");
  if (text === "" || text.endsWith("\n")) return;
  const cut = text.lastIndexOf("\n");
  writeFileAtomic(file, cut >= 0 ? text.slice(0, cut + 1) : "");
}
