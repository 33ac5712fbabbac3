/**
 * The OpenAI Batch API through the official SDK: upload an input file, create a batch on the
 * Responses endpoint, poll it with backoff, download its output and error files. The key comes from
 * OPENAI_API_KEY (the SDK reads it) and is never logged; baseURL from cfg.llm.baseURL or
 * OPENAI_BASE_URL, so tests point the client at a local server.
 */
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import OpenAI, { toFile } from "openai";
import type { Batch } from "openai/resources/batches";
import { BatchError } from "../../errors.ts";
import { log } from "../../log.ts";
import { RESPONSES_ENDPOINT } from "./request.ts";

export interface ClientSettings {
  baseURL: string | null;
  apiKey?: string;
}

export function makeOpenAI(s: ClientSettings): OpenAI {
  const apiKey = s.apiKey ?? process.env.OPENAI_API_KEY;
  if (!apiKey) throw new BatchError("OPENAI_API_KEY is not set (use --llm replay:DIR to build offline)", "openai_key_missing");
  return new OpenAI({ apiKey, baseURL: s.baseURL ?? process.env.OPENAI_BASE_URL ?? undefined, maxRetries: 3 });
}

/** Uploads a request file (purpose batch) and creates the batch; returns both ids. */
export async function uploadBatchFile(client: OpenAI, file: string): Promise<string> {
  const f = await client.files.create({ file: await toFile(readFileSync(file), basename(file)), purpose: "batch" });
  return f.id;
}

/** Creates the batch. No SDK retry here: a retried create whose first reply was lost would pay twice. */
export async function createBatch(client: OpenAI, inputFileId: string, metadata: Record<string, string>): Promise<Batch> {
  return client.batches.create(
    {
      input_file_id: inputFileId,
      endpoint: RESPONSES_ENDPOINT,
      completion_window: "24h",
      metadata,
    },
    { maxRetries: 0 },
  );
}

/**
 * A batch already created from this input file for this part (found through batches.list), for the
 * crash window between `batches.create` returning and the ledger write.
 */
export async function findCreatedBatch(client: OpenAI, inputFileId: string, partKey: string, scan = 100): Promise<Batch | null> {
  let seen = 0;
  for await (const b of client.batches.list({ limit: Math.min(scan, 100) })) {
    if (b.input_file_id === inputFileId && (b.metadata as Record<string, string> | null)?.sempress_part === partKey) return b;
    if (++seen >= scan) break;
  }
  return null;
}

export const TERMINAL: ReadonlySet<Batch["status"]> = new Set(["completed", "expired", "failed", "cancelled"]);

export interface WaitOptions {
  pollIntervalMs: number;
  pollMaxIntervalMs: number;
  /** Called on every poll (progress on stderr). */
  onPoll?: (b: Batch) => void;
}

/** Polls until the batch reaches a terminal status; the interval grows ×1.5 up to the maximum. */
export async function waitForBatch(client: OpenAI, batchId: string, o: WaitOptions): Promise<Batch> {
  let interval = o.pollIntervalMs;
  for (;;) {
    const b = await client.batches.retrieve(batchId);
    o.onPoll?.(b);
    if (TERMINAL.has(b.status)) return b;
    await new Promise((r) => setTimeout(r, interval));
    interval = Math.min(o.pollMaxIntervalMs, Math.ceil(interval * 1.5));
  }
}

export function logPoll(partKey: string): (b: Batch) => void {
  let last = "";
  return (b) => {
    const rc = b.request_counts;
    const line = `${b.status} ${rc ? `${rc.completed}/${rc.total} done, ${rc.failed} failed` : ""}`;
    if (line !== last) {
      last = line;
      log().info({ part: partKey, batch_id: b.id, status: b.status, request_counts: rc }, `batch ${partKey}: ${line}`);
    }
  };
}

export async function downloadFile(client: OpenAI, fileId: string): Promise<string> {
  const res = await client.files.content(fileId);
  return res.text();
}

/** A one-line reason for a failed batch from its `errors` list. */
export function batchErrors(b: Batch): string {
  const errs = b.errors?.data ?? [];
  if (!errs.length) return "no error details";
  return errs
    .slice(0, 3)
    .map((e) => `${e.code ?? "error"}${e.line != null ? ` (line ${e.line})` : ""}: ${e.message ?? ""}`)
    .join("; ");
}
