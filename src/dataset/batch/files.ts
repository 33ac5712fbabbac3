/**
 * Batch input files: JSONL, one request per line, split so no part exceeds the API's limits
 * (50,000 requests or 200 MB per file).
 */
import { createHash } from "node:crypto";
import { writeFileAtomic } from "../../util/jsonl.ts";
import type { BatchRequestLine } from "./request.ts";

export const MAX_REQUESTS_PER_FILE = 50_000;
export const MAX_BYTES_PER_FILE = 200 * 1024 * 1024;

export interface SplitLimits {
  maxRequests: number;
  maxBytes: number;
}

/** Splits serialised lines into parts within the limits, order kept. */
export function splitRequests(lines: readonly string[], limits: SplitLimits = { maxRequests: MAX_REQUESTS_PER_FILE, maxBytes: MAX_BYTES_PER_FILE }): string[][] {
  const parts: string[][] = [];
  let cur: string[] = [];
  let bytes = 0;
  for (const l of lines) {
    const b = Buffer.byteLength(l, "utf8") + 1;
    if (cur.length > 0 && (cur.length >= limits.maxRequests || bytes + b > limits.maxBytes)) {
      parts.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(l);
    bytes += b;
  }
  if (cur.length) parts.push(cur);
  return parts;
}

export interface RequestPart {
  /** `${key}.p${i}` */
  partKey: string;
  file: string;
  customIds: string[];
  sha256: string;
  n: number;
}

/**
 * Writes the request files `${dir}/requests_${key}.p${i}.jsonl` (these are the audit log of what is
 * sent, and the exact bytes uploaded) and returns one entry per part.
 */
export function writeBatchRequests(dir: string, key: string, requests: readonly BatchRequestLine[], limits?: SplitLimits): RequestPart[] {
  const lines = requests.map((r) => JSON.stringify(r));
  const ids = requests.map((r) => r.custom_id);
  const parts = splitRequests(lines, limits);
  let offset = 0;
  return parts.map((p, i) => {
    const content = p.join("\n") + "\n";
    const file = `${dir}/requests_${key}.p${i}.jsonl`;
    writeFileAtomic(file, content);
    const part: RequestPart = {
      partKey: `${key}.p${i}`,
      file,
      customIds: ids.slice(offset, offset + p.length),
      sha256: createHash("sha256").update(content).digest("hex"),
      n: p.length,
    };
    offset += p.length;
    return part;
  });
}
