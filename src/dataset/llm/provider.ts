/**
 * Where batch replies come from, behind one method so the live API and the offline replay swap.
 * A provider runs one request part to its end and returns its output lines in the Batch API's
 * output-file format; the runner does the logging, parsing and retry on top.
 */
import type { Ledger } from "../batch/ledger.ts";
import type { OutputLine } from "../batch/output.ts";
import type { RequestPart } from "../batch/files.ts";
import type { BatchRequestLine } from "../batch/request.ts";

export interface PartResult {
  lines: OutputLine[];
  /** Status the batch ended in; "expired" means lines may be missing for some requests. */
  status: "completed" | "expired";
}

export interface BatchProvider {
  /** openai | replay */
  readonly name: string;
  runPart(part: RequestPart, requests: readonly BatchRequestLine[], ledger: Ledger): Promise<PartResult>;
}
