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
  /** openai | chat | replay */
  readonly name: string;
  /** Where its replies come from, for data/validated/report.json and the report's header. */
  provenance(): LlmProvenance;
  runPart(part: RequestPart, requests: readonly BatchRequestLine[], ledger: Ledger): Promise<PartResult>;
  /**
   * Checks the endpoint (reachable, key accepted, model known) before the build writes anything a
   * resume would trust; absent when there is nothing to check up front.
   */
  preflight?(): Promise<void>;
}

/** What built a dataset's generated items and judgements: recorded in data/validated/report.json. */
export interface LlmProvenance {
  provider: string;
  model: string | null;
  base_url: string | null;
  /** The model id the server reported in its replies (`response.model`); several are joined by ", ". null when not recorded. */
  server_model: string | null;
  replay_dir: string | null;
  /** True when replies are the bundled hand-written demo set, not model output. */
  demo: boolean;
  /** The rule that answers validation requests in place of a model ("demo_rule_v1"), if any. */
  validation_responder: string | null;
}
