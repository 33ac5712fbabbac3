/**
 * data/logs/batches.json: every batch this build uploaded or submitted, keyed by part key. An entry
 * gets its batch id the moment `batches.create` returns, before any waiting, and the file is replaced
 * atomically, so a crash at any point leaves either no batch or a recorded one — never an unrecorded
 * submission that a rerun would pay for again.
 */
import { existsSync } from "node:fs";
import { z } from "zod";
import { readJsonFile, writeJson } from "../../util/jsonl.ts";

export const BatchStatus = z.enum([
  "uploaded",
  "validating",
  "in_progress",
  "finalizing",
  "completed",
  "expired",
  "failed",
  "cancelling",
  "cancelled",
]);
export type BatchStatus = z.infer<typeof BatchStatus>;

export const LedgerEntry = z.object({
  part_key: z.string(),
  provider: z.string(),
  requests_file: z.string(),
  requests_sha256: z.string(),
  n_requests: z.number().int(),
  input_file_id: z.string().nullable(),
  batch_id: z.string().nullable(),
  status: BatchStatus,
  output_file_id: z.string().nullable(),
  error_file_id: z.string().nullable(),
  /** Local copy of the output + error lines, written when the batch ended. */
  responses_file: z.string().nullable(),
  request_counts: z.object({ total: z.number(), completed: z.number(), failed: z.number() }).nullable(),
  /** Batches of this part that failed before running (nothing billed) and were replaced. */
  previous_batch_ids: z.array(z.string()),
  updated_at: z.string(),
});
export type LedgerEntry = z.infer<typeof LedgerEntry>;

const LedgerFile = z.object({ batches: z.record(z.string(), LedgerEntry) });

export class Ledger {
  private entries: Record<string, LedgerEntry>;
  constructor(readonly file: string) {
    this.entries = existsSync(file) ? readJsonFile(file, LedgerFile).batches : {};
  }

  get(partKey: string): LedgerEntry | undefined {
    return this.entries[partKey];
  }

  all(): LedgerEntry[] {
    return Object.values(this.entries);
  }

  /** Merges fields into the entry and writes the whole ledger atomically before returning. */
  put(partKey: string, fields: Partial<LedgerEntry> & Pick<LedgerEntry, "provider" | "requests_file" | "requests_sha256" | "n_requests">): LedgerEntry {
    const prev = this.entries[partKey];
    const defaults = {
      input_file_id: null,
      batch_id: null,
      status: "uploaded" as const,
      output_file_id: null,
      error_file_id: null,
      responses_file: null,
      request_counts: null,
      previous_batch_ids: [],
    };
    const e: LedgerEntry = { ...defaults, ...prev, ...fields, part_key: partKey, updated_at: new Date().toISOString() };
    this.entries[partKey] = LedgerEntry.parse(e);
    writeJson(this.file, { batches: this.entries });
    return e;
  }
}
