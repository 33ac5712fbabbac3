/**
 * The live provider: one OpenAI batch per request part. The batch id is in the ledger before the
 * first poll; a rerun finds it there and waits on it instead of submitting again. A part whose batch
 * failed validation (nothing ran, nothing billed) is submitted afresh on the next run.
 */
import type OpenAI from "openai";
import { BatchError } from "../../errors.ts";
import { log } from "../../log.ts";
import { createBatch, findCreatedBatch, downloadFile, logPoll, makeOpenAI, uploadBatchFile, waitForBatch, batchErrors, type WaitOptions } from "../batch/client.ts";
import type { RequestPart } from "../batch/files.ts";
import type { Ledger } from "../batch/ledger.ts";
import { parseOutputLines, type OutputLine } from "../batch/output.ts";
import type { BatchProvider, LlmProvenance, PartResult } from "./provider.ts";

/** A base URL as it may be recorded: no user, password or query (where tokens tend to hide). */
export function stripCredentials(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    u.search = "";
    return u.toString();
  } catch {
    return "(unparseable URL)";
  }
}

export class OpenAIBatchProvider implements BatchProvider {
  readonly name = "openai";
  private client?: OpenAI;
  constructor(
    private readonly settings: { baseURL: string | null; apiKey?: string; model?: string },
    private readonly wait: Omit<WaitOptions, "onPoll">,
  ) {}

  provenance(): LlmProvenance {
    return {
      provider: this.name,
      model: this.settings.model ?? null,
      base_url: this.settings.baseURL ? stripCredentials(this.settings.baseURL) : null,
      // Batch output lines carry it per reply; the batch path has never collected it.
      server_model: null,
      replay_dir: null,
      demo: false,
      validation_responder: null,
    };
  }

  private api(): OpenAI {
    this.client ??= makeOpenAI(this.settings);
    return this.client;
  }

  async runPart(part: RequestPart, _requests: unknown, ledger: Ledger): Promise<PartResult> {
    const base = { provider: this.name, requests_file: part.file, requests_sha256: part.sha256, n_requests: part.n };
    let e = ledger.get(part.partKey);
    if (e?.batch_id && e.requests_sha256 !== part.sha256) {
      throw new BatchError(
        `${part.partKey}: batch ${e.batch_id} was submitted for different requests (${ledger.file}); ` +
          `the inputs changed since — start a fresh build without --resume`,
        "batch_requests_changed",
      );
    }
    const resubmittable = e?.status === "failed" || e?.status === "cancelled";
    if (!e?.batch_id || resubmittable) {
      const previous = [...(e?.previous_batch_ids ?? []), ...(resubmittable && e?.batch_id ? [e.batch_id] : [])];
      // Uploaded before a crash: the create may have gone through without reaching the ledger.
      const adopted = !resubmittable && e?.input_file_id ? await findCreatedBatch(this.api(), e.input_file_id, part.partKey) : null;
      if (adopted) {
        e = ledger.put(part.partKey, { ...base, batch_id: adopted.id, status: adopted.status });
        log().info({ part: part.partKey, batch_id: adopted.id }, `found batch ${adopted.id} created before a crash; not resubmitting`);
      } else {
        const inputFileId = await uploadBatchFile(this.api(), part.file);
        ledger.put(part.partKey, { ...base, input_file_id: inputFileId, batch_id: null, status: "uploaded", previous_batch_ids: previous });
        const b = await createBatch(this.api(), inputFileId, { sempress_part: part.partKey });
        e = ledger.put(part.partKey, { ...base, batch_id: b.id, status: b.status });
        log().info({ part: part.partKey, batch_id: b.id, n: part.n }, `submitted batch ${b.id} (${part.n} requests)`);
      }
    } else {
      log().info({ part: part.partKey, batch_id: e.batch_id }, `resuming recorded batch ${e.batch_id}`);
    }
    const batchId = e.batch_id!;
    const final = await waitForBatch(this.api(), batchId, { ...this.wait, onPoll: logPoll(part.partKey) });
    const rc = final.request_counts ?? null;
    ledger.put(part.partKey, {
      ...base,
      status: final.status,
      output_file_id: final.output_file_id ?? null,
      error_file_id: final.error_file_id ?? null,
      request_counts: rc ? { total: rc.total, completed: rc.completed, failed: rc.failed } : null,
    });
    if (final.status === "failed" || final.status === "cancelled") {
      throw new BatchError(`${part.partKey}: batch ${batchId} ${final.status}: ${batchErrors(final)}`, `batch_${final.status}`);
    }
    const lines: OutputLine[] = [];
    for (const id of [final.output_file_id, final.error_file_id]) {
      if (!id) continue;
      const { lines: l, bad } = parseOutputLines(await downloadFile(this.api(), id));
      if (bad) log().warn({ part: part.partKey, file_id: id, bad }, "unreadable lines in batch output file");
      lines.push(...l);
    }
    return { lines, status: final.status === "expired" ? "expired" : "completed" };
  }
}
