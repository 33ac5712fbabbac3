/**
 * Behaviour per prompt × condition from detected completions (pure).
 *
 * - violation_rate: share of sampled completions in which X is present (detector's `present`).
 * - format_adherence_rate: share whose answer is exactly one word. The answer is the completion with
 *   leading whitespace removed, cut at its first newline (the first line); after `normalizeForMatch`
 *   (NFKC, lower case, punctuation → space, collapse, strip) it must be a single run of letters
 *   (`^\p{L}+$`): " Paris." ✓, "Paris\nQuestion: …" ✓, "Paris is" ✗, "42" ✗, "" ✗.
 * - clean_success_rate: share that adhere to the format and do not contain X.
 * With no samples every rate is NaN (never a silent 0).
 */
import { normalizeForMatch } from "../util/normalize.ts";
import type { BehaviorRow, Condition } from "../schemas.ts";

/** The answer's first line, normalised: the thing the format rule looks at. */
export function answerWord(text: string): string {
  const t = text.replace(/^\s+/u, "");
  const nl = t.indexOf("\n");
  return normalizeForMatch(nl >= 0 ? t.slice(0, nl) : t);
}

/** True when the completion's first line is exactly one word of letters after normalisation. */
export function isOneWord(text: string): boolean {
  return /^\p{L}+$/u.test(answerWord(text));
}

export interface DetectedCompletion {
  text: string;
  present: boolean;
}

export interface BehaviorRates {
  n_samples: number;
  violation_rate: number;
  format_adherence_rate: number;
  clean_success_rate: number;
}

export function behaviorRates(samples: readonly DetectedCompletion[]): BehaviorRates {
  const n = samples.length;
  let viol = 0;
  let fmt = 0;
  let clean = 0;
  for (const s of samples) {
    const ok = isOneWord(s.text);
    if (s.present) viol++;
    if (ok) fmt++;
    if (ok && !s.present) clean++;
  }
  return {
    n_samples: n,
    violation_rate: n ? viol / n : NaN,
    format_adherence_rate: n ? fmt / n : NaN,
    clean_success_rate: n ? clean / n : NaN,
  };
}

export function behaviorRow(
  promptId: string,
  condition: Condition,
  samples: readonly DetectedCompletion[],
  greedyPresent: boolean,
): BehaviorRow {
  return { prompt_id: promptId, condition, ...behaviorRates(samples), greedy_violation: greedyPresent ? 1 : 0 };
}

export const BEHAVIOR_COLUMNS = [
  "prompt_id",
  "condition",
  "n_samples",
  "violation_rate",
  "format_adherence_rate",
  "clean_success_rate",
  "greedy_violation",
] as const;
