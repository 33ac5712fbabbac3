/**
 * One batch job = request files → provider → every reply through zod → one stricter retry for the
 * unusable ones → the rest dropped and counted. Files under the logs dir, per job key:
 *   requests_{key}.p{i}.jsonl   exactly what is (or would be) uploaded
 *   responses_{key}.p{i}.jsonl  output + error lines as they came back
 *   replies_{key}.jsonl         per custom_id: ok | api_error | empty | not_json | schema_miss
 * A part whose responses file is recorded in the ledger is read back from disk, never re-requested.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { z } from "zod";
import { log } from "../../log.ts";
import { writeJsonl } from "../../util/jsonl.ts";
import type { BatchProvider } from "../llm/provider.ts";
import { writeBatchRequests, type SplitLimits } from "./files.ts";
import type { Ledger } from "./ledger.ts";
import { parseBatchOutput, parseOutputLines, type OutputLine, type RawReply } from "./output.ts";
import { originalId, strictRetry, type BatchRequestLine } from "./request.ts";

export interface JobContext {
  provider: BatchProvider;
  ledger: Ledger;
  logsDir: string;
  limits?: SplitLimits;
}

export type FailReason = "api_error" | "empty" | "not_json" | "schema_miss";

export interface JobCounts {
  requests: number;
  ok_first: number;
  retried: number;
  ok_retry: number;
  dropped: number;
  /** Why replies were unusable in the first round (each was re-queued once). */
  reasons_first: Record<FailReason, number>;
  /** Why the dropped ones were still unusable after their retry. */
  reasons: Record<FailReason, number>;
}

export interface JobResult<T> {
  /** Parsed replies by the ORIGINAL custom_id, in request order. */
  ok: Map<string, T>;
  dropped: { custom_id: string; reason: FailReason; detail: string }[];
  counts: JobCounts;
}

interface Checked<T> {
  custom_id: string;
  value?: T;
  reason?: FailReason;
  detail?: string;
}

export function checkReply<T>(r: RawReply, schema: z.ZodType<T>): Checked<T> {
  if (r.error !== null || r.text === null) return { custom_id: r.custom_id, reason: "api_error", detail: r.error ?? "no text" };
  if (r.text.trim() === "") return { custom_id: r.custom_id, reason: "empty", detail: "empty text" };
  let obj: unknown;
  try {
    obj = JSON.parse(r.text);
  } catch (e) {
    return { custom_id: r.custom_id, reason: "not_json", detail: (e as Error).message };
  }
  const p = schema.safeParse(obj);
  if (!p.success) {
    const iss = p.error.issues[0];
    return { custom_id: r.custom_id, reason: "schema_miss", detail: `${iss.path.join(".") || "(root)"}: ${iss.message}` };
  }
  return { custom_id: r.custom_id, value: p.data };
}

/** Sends one round (all parts of `key`) and returns one raw reply per request, in order. */
async function runRound(ctx: JobContext, key: string, requests: readonly BatchRequestLine[]): Promise<RawReply[]> {
  if (requests.length === 0) return [];
  const parts = writeBatchRequests(ctx.logsDir, key, requests, ctx.limits);
  const out: RawReply[] = [];
  let offset = 0;
  for (const part of parts) {
    const reqs = requests.slice(offset, offset + part.n);
    offset += part.n;
    const e = ctx.ledger.get(part.partKey);
    let lines: OutputLine[];
    let expired = false;
    if (e?.responses_file && existsSync(e.responses_file) && e.requests_sha256 === part.sha256 && (e.status === "completed" || e.status === "expired")) {
      lines = parseOutputLines(readFileSync(e.responses_file, "utf8")).lines;
      expired = e.status === "expired";
      log().info({ part: part.partKey }, `reusing recorded responses of ${part.partKey}`);
    } else {
      const res = await ctx.provider.runPart(part, reqs, ctx.ledger);
      lines = res.lines;
      expired = res.status === "expired";
      const responsesFile = join(ctx.logsDir, `responses_${part.partKey}.jsonl`);
      writeJsonl(responsesFile, lines);
      const cur = ctx.ledger.get(part.partKey)!;
      ctx.ledger.put(part.partKey, { ...cur, responses_file: responsesFile });
    }
    out.push(...parseBatchOutput(part.customIds, lines, expired ? "batch_expired: request not run before the batch expired" : "no output line for request"));
  }
  return out;
}

/** Runs a job with its one retry round; see the file comment for what lands on disk. */
export async function runJob<T>(ctx: JobContext, key: string, requests: readonly BatchRequestLine[], schema: z.ZodType<T>): Promise<JobResult<T>> {
  const counts: JobCounts = {
    requests: requests.length,
    ok_first: 0,
    retried: 0,
    ok_retry: 0,
    dropped: 0,
    reasons_first: { api_error: 0, empty: 0, not_json: 0, schema_miss: 0 },
    reasons: { api_error: 0, empty: 0, not_json: 0, schema_miss: 0 },
  };
  const ok = new Map<string, T>();
  const log1 = (await runRound(ctx, key, requests)).map((r) => checkReply(r, schema));
  const failed = new Map<string, Checked<T>>();
  for (const c of log1) {
    if (c.value !== undefined) {
      ok.set(c.custom_id, c.value);
      counts.ok_first++;
    } else {
      failed.set(c.custom_id, c);
      counts.reasons_first[c.reason!]++;
    }
  }
  const retryReqs = requests.filter((r) => failed.has(r.custom_id)).map(strictRetry);
  counts.retried = retryReqs.length;
  const log2 = (await runRound(ctx, `${key}.retry`, retryReqs)).map((r) => checkReply(r, schema));
  const dropped: JobResult<T>["dropped"] = [];
  for (const c of log2) {
    const id = originalId(c.custom_id);
    if (c.value !== undefined) {
      ok.set(id, c.value);
      counts.ok_retry++;
    } else {
      dropped.push({ custom_id: id, reason: c.reason!, detail: c.detail ?? "" });
      counts.reasons[c.reason!]++;
      counts.dropped++;
    }
  }
  const ordered = new Map<string, T>();
  for (const r of requests) if (ok.has(r.custom_id)) ordered.set(r.custom_id, ok.get(r.custom_id)!);
  const replyLog = [...log1, ...log2].map((c) => ({
    custom_id: c.custom_id,
    status: c.value !== undefined ? "ok" : c.reason,
    detail: c.detail ?? null,
    action: c.value !== undefined ? null : c.custom_id.endsWith("#retry") ? "dropped" : "requeued",
  }));
  writeJsonl(join(ctx.logsDir, `replies_${key}.jsonl`), replyLog);
  if (counts.retried) log().info({ job: key, ...counts }, `${key}: ${counts.retried} replies unusable, retried once; ${counts.dropped} dropped`);
  return { ok: ordered, dropped, counts };
}
