/**
 * The file-level half of `sempress merge`: a shard's JSONL or CSV file cut into per-prompt blocks (the
 * run writes every record of a prompt together, and analyze writes a prompt's rows together), then
 * blocks from several shards put back in one prompt order. Blocks are raw text, so the merged file holds
 * exactly the bytes an unsharded run or analyze would have written.
 */
import { existsSync, readFileSync } from "node:fs";
import { InputError } from "../errors.ts";
import { parseCsv } from "../util/csv.ts";
import { writeFileAtomic } from "../util/jsonl.ts";

export interface PromptBlocks {
  file: string;
  /** CSV header line with its newline ("" for JSONL). */
  header: string;
  /** prompt_id → its lines, newline-terminated, in file order. */
  blocks: Map<string, string>;
}

/** Records of a CSV text with their line ends (a quoted field may hold a newline). */
export function csvRecords(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') quoted = !quoted;
    else if (ch === "\n" && !quoted) {
      out.push(text.slice(start, i + 1));
      start = i + 1;
    }
  }
  if (start < text.length) out.push(text.slice(start));
  return out;
}

/** A JSONL or CSV file's per-prompt blocks; a prompt whose records are not contiguous is refused. Missing file: no blocks. */
export function readBlocks(file: string): PromptBlocks {
  const csv = file.endsWith(".csv");
  const out: PromptBlocks = { file, header: "", blocks: new Map() };
  if (!existsSync(file)) return out;
  const text = readFileSync(file, "utf8");
  let records = csv ? csvRecords(text) : text.split(/(?<=\n)/).filter((l) => l.trim() !== "");
  let col = -1;
  if (csv) {
    out.header = records[0] ?? "";
    col = (parseCsv(out.header)[0] ?? []).indexOf("prompt_id");
    if (col < 0) throw InputError.at(file, 1, "prompt_id", "CSV has no prompt_id column");
    records = records.slice(1);
  }
  let last: string | null = null;
  records.forEach((rec, k) => {
    const line = csv ? k + 2 : k + 1;
    let id: unknown;
    try {
      id = csv ? parseCsv(rec)[0]?.[col] : (JSON.parse(rec) as { prompt_id?: unknown }).prompt_id;
    } catch (e) {
      throw InputError.at(file, line, null, `unreadable record (${(e as Error).message}); is the shard finished?`);
    }
    if (typeof id !== "string") throw InputError.at(file, line, "prompt_id", "missing");
    if (!rec.endsWith("\n")) throw InputError.at(file, line, null, "torn last line; is the shard finished?");
    if (id !== last && out.blocks.has(id)) throw InputError.at(file, line, "prompt_id", `records of ${id} are not together`);
    out.blocks.set(id, (out.blocks.get(id) ?? "") + rec);
    last = id;
  });
  return out;
}

/**
 * One file from several shards' blocks: each prompt of `order` from the shard `owner` gives (and only it:
 * a block of that prompt in another shard is refused). Writes nothing when no shard has the file.
 * Returns the number of prompts with records.
 */
export function writeMerged(out: string, shards: readonly PromptBlocks[], order: readonly string[], owner: (id: string) => number): number {
  const present = shards.filter((s) => existsSync(s.file));
  if (present.length === 0) return 0;
  const header = present[0].header;
  const odd = present.find((s) => s.header !== header);
  if (odd) throw InputError.at(odd.file, 1, null, `header differs from ${present[0].file}`);
  const expected = new Set(order);
  shards.forEach((s, k) => {
    for (const id of s.blocks.keys()) {
      if (!expected.has(id)) throw InputError.at(s.file, null, "prompt_id", `${id} is not a prompt this merge expects`);
      if (owner(id) !== k) throw InputError.at(s.file, null, "prompt_id", `${id} belongs to another shard (${shards[owner(id)].file}); the shards overlap`);
    }
  });
  const parts = [header];
  let n = 0;
  for (const id of order) {
    const b = shards[owner(id)].blocks.get(id);
    if (b !== undefined) {
      parts.push(b);
      n++;
    }
  }
  writeFileAtomic(out, parts.join(""));
  return n;
}
