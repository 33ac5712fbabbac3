/**
 * Mapping error records: a detected occurrence of X that no token run explains. One JSON object per
 * line in runs/errors/mapping_errors.jsonl (DESIGN.md "Outputs"); the run stops on the first one.
 */
import { join } from "node:path";
import { appendJsonl } from "../util/jsonl.ts";

export interface MappingErrorRecord {
  /** Caller context: prompt_id, condition, sample_index when known. */
  [key: string]: unknown;
  target_word: string;
  text: string;
  token_ids: number[];
  /** The unmapped match, code point indices. */
  char_start: number;
  char_end: number;
  /** Repaired token spans used for mapping, code point indices. */
  token_spans: [number, number][];
  /** Literal prefix-decoding spans (JS string lengths), for diagnosis. */
  raw_prefix_spans: [number, number][];
  reason: string;
  time: string;
}

/** Path of the mapping error log under a data root. */
export function mappingErrorPath(dataRoot: string): string {
  return join(dataRoot, "runs", "errors", "mapping_errors.jsonl");
}

/** Appends one record (creating runs/errors/). */
export function writeMappingError(file: string, record: MappingErrorRecord): void {
  appendJsonl(file, [record]);
}
