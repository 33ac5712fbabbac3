/**
 * The chat provider's audit trail and resume record, one file per request part:
 * data/logs/chat_{part}.jsonl, appended as things happen.
 *   request  written just before the HTTP call goes out (every attempt)
 *   answer   a 200 reply, written and fsync'd before anything else looks at it
 *   failure  an attempt that got no usable reply, with the wait before the next one
 * A resume trusts only `answer` lines, and only for the exact request now being asked (custom_id and
 * the sha256 of its request line), so an answer is never asked for twice and a changed request is.
 */
import { createHash } from "node:crypto";
import { closeSync, existsSync, fdatasyncSync, mkdirSync, openSync, renameSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { z } from "zod";
import { readJsonl, repairJsonlTail } from "../../util/jsonl.ts";
import type { BatchRequestLine } from "../batch/request.ts";

const Base = {
  /** custom_id of the request. */
  id: z.string(),
  /** sha256 of the request line as the runner wrote it (requestSha). */
  sha: z.string(),
  attempt: z.number().int().nonnegative(),
  at: z.string(),
};

/** The reply body as the server sent it; only what the build reads is checked. */
export const Completion = z
  .object({
    id: z.string().optional(),
    model: z.string(),
    choices: z
      .array(
        z.object({ message: z.object({ content: z.string().nullable().optional() }).passthrough(), finish_reason: z.string().nullable().optional() }).passthrough(),
      )
      .min(1),
  })
  .passthrough();
export type Completion = z.infer<typeof Completion>;

export const JournalLine = z.discriminatedUnion("t", [
  z.object({ t: z.literal("request"), ...Base, body: z.record(z.string(), z.unknown()) }),
  z.object({ t: z.literal("answer"), ...Base, ms: z.number(), completion: Completion }),
  z.object({
    t: z.literal("failure"),
    ...Base,
    status: z.number().nullable(),
    error: z.string(),
    /** Wait before the next attempt; null when none follows. */
    retry_in_ms: z.number().nullable(),
  }),
]);
export type JournalLine = z.infer<typeof JournalLine>;
export type AnswerLine = Extract<JournalLine, { t: "answer" }>;

/** What identifies a request for resume: its id and the exact bytes the runner wrote for it. */
export function requestSha(req: BatchRequestLine): string {
  return createHash("sha256").update(JSON.stringify(req)).digest("hex");
}

const key = (id: string, sha: string) => `${id}\u0000${sha}`;

export class ChatJournal {
  private fd: number | null = null;
  private readonly recorded = new Map<string, AnswerLine>();

  /** Opens for appending; answers already in the file (an interrupted earlier attempt) are loaded. */
  constructor(readonly file: string) {
    mkdirSync(dirname(file), { recursive: true });
    // A kill mid-append leaves a torn last line; it held no complete answer.
    repairJsonlTail(file);
    for (const l of readJsonl(file, JournalLine)) if (l.t === "answer" && !this.recorded.has(key(l.id, l.sha))) this.recorded.set(key(l.id, l.sha), l);
    this.fd = openSync(file, "a");
  }

  /** A fresh build must not inherit a previous build's answers: the old file is kept as .prev.jsonl. */
  static startFresh(file: string): void {
    if (existsSync(file)) renameSync(file, file.replace(/\.jsonl$/, ".prev.jsonl"));
  }

  answer(req: BatchRequestLine, sha: string): AnswerLine | undefined {
    return this.recorded.get(key(req.custom_id, sha));
  }

  get answers(): readonly AnswerLine[] {
    return [...this.recorded.values()];
  }

  /** One line, one write(2): whole lines even with many requests in flight. Answers are fsync'd. */
  append(line: JournalLine): void {
    if (this.fd === null) throw new Error(`${this.file}: journal is closed`);
    writeSync(this.fd, JSON.stringify(line) + "\n");
    if (line.t === "answer") {
      fdatasyncSync(this.fd);
      this.recorded.set(key(line.id, line.sha), line);
    }
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/** Answer lines of a journal file (for provenance), without opening it for writing. */
export function journalAnswers(file: string): AnswerLine[] {
  if (!existsSync(file)) return [];
  return readJsonl(file, JournalLine).filter((l): l is AnswerLine => l.t === "answer");
}
