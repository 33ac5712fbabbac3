import { existsSync, readFileSync } from "node:fs";
import type { z } from "zod";
import { InputError } from "../errors.ts";
import { appendFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { writeFileAtomic } from "./jsonl.ts";
import { parseRecord } from "./records.ts";

function cell(v: unknown): string {
  if (v === null || v === undefined) return "";
  const s = typeof v === "number" ? (Number.isFinite(v) ? String(v) : v > 0 ? "inf" : v < 0 ? "-inf" : "nan") : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(columns: readonly string[], rows: readonly Record<string, unknown>[]): string {
  const lines = [columns.join(",")];
  for (const r of rows) lines.push(columns.map((c) => cell(r[c])).join(","));
  return lines.join("\n") + "\n";
}

/** Writes a whole CSV atomically, columns in the given order. */
export function writeCsv(file: string, columns: readonly string[], rows: readonly Record<string, unknown>[]): void {
  writeFileAtomic(file, toCsv(columns, rows));
}

/** Appends rows, writing the header first when the file is new. */
export function appendCsv(file: string, columns: readonly string[], rows: readonly Record<string, unknown>[]): void {
  mkdirSync(dirname(file), { recursive: true });
  const body = rows.map((r) => columns.map((c) => cell(r[c])).join(",")).join("\n");
  if (!existsSync(file)) appendFileSync(file, columns.join(",") + "\n");
  if (rows.length) appendFileSync(file, body + "\n");
}

/** RFC 4180 parser (quotes, doubled quotes, embedded newlines). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      row.push(field);
      field = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += ch;
  }
  if (field !== "" || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

const SPECIAL: Record<string, number> = { inf: Infinity, "-inf": -Infinity, nan: NaN };

/**
 * Reads a CSV with a header row, validating every row; errors name file, line and column. `keep`
 * sees the raw strings and drops rows before validation (the attention file has one row per head;
 * validating rows that are dropped anyway wastes seconds).
 */
export function readCsv<S extends z.ZodTypeAny>(
  file: string,
  schema: S,
  keep: (raw: Record<string, string>) => boolean = () => true,
): z.output<S>[] {
  if (!existsSync(file)) throw InputError.at(file, null, null, "file not found");
  const rows = parseCsv(readFileSync(file, "utf8"));
  if (rows.length === 0) return [];
  const header = rows[0];
  const out: z.output<S>[] = [];
  for (let i = 1; i < rows.length; i++) {
    if (rows[i].length === 1 && rows[i][0] === "") continue;
    const raw: Record<string, string> = {};
    header.forEach((h, j) => {
      raw[h] = rows[i][j];
    });
    if (!keep(raw)) continue;
    const obj: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(raw)) obj[k] = v !== undefined && v in SPECIAL ? SPECIAL[v] : v;
    out.push(parseRecord(schema, obj, file, i + 1));
  }
  return out;
}
