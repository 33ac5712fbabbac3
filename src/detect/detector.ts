/**
 * Violation detector (DESIGN.md "Detection"): is X in the generated text, and at which generated
 * token did the model commit to it?
 *
 * - text = decode(generated ids), skip special tokens, no clean-up (HfTokenizer's defaults).
 * - matches: whole-word case-insensitive occurrences (./wordMatch.ts).
 * - tokens of a match: the minimal contiguous run of tokens whose spans (./tokenSpans.ts) intersect
 *   the match, verified by decoding that run and finding X in it (case-insensitive); if that fails,
 *   the run widened by one token on either or both sides; then every run of up to 8 tokens that
 *   intersects the match, shortest first. A match no run explains is a mapping error: recorded to
 *   runs/errors/mapping_errors.jsonl by `writeMappingError` and thrown as MappingError.
 * - decision_step = token_start of the first match; 0 when X is absent.
 *
 * Index conventions (part of the output interface):
 * - token_start / token_end are 0-based indices into the GENERATED ids (not prompt + generated);
 *   token_end is inclusive.
 * - char_start / char_end are Unicode code point indices into text (Python str indices), end
 *   exclusive. Internally everything runs on JS (UTF-16) indices and is converted at the end.
 */
import { MappingError } from "../errors.ts";
import type { MatchRecord } from "../schemas.ts";
import type { Tokenizer } from "../tokenizer/hfTokenizer.ts";
import { containsCaseInsensitive, findWord, toCodePointIndex, type WordSpan } from "./wordMatch.ts";
import { tokenSpans, type TokenSpan } from "./tokenSpans.ts";
import { writeMappingError, type MappingErrorRecord } from "./mappingErrors.ts";

/** Longest token run tried by the brute-force fallback. */
export const MAX_BRUTE_FORCE_TOKENS = 8;

export interface Detection {
  present: boolean;
  matches: MatchRecord[];
  /** First subtoken of the first occurrence; 0 when absent; null when no token ids were given. */
  decision_step: number | null;
  text: string;
}

export interface DetectOptions {
  /** Where unmapped matches are appended (runs/errors/mapping_errors.jsonl); nothing written when absent. */
  mappingErrorFile?: string;
  /** Extra fields for a mapping error record (prompt_id, condition, sample_index...). */
  context?: Record<string, unknown>;
}

/** Detection on plain text: char spans only, token fields null. */
export function detectInText(target: string, text: string): Detection {
  const found = findWord(text, target);
  return {
    present: found.length > 0,
    matches: found.map((m) => ({
      char_start: toCodePointIndex(text, m.start),
      char_end: toCodePointIndex(text, m.end),
      token_start: null,
      token_end: null,
    })),
    decision_step: null,
    text,
  };
}

function intersects(s: TokenSpan, m: WordSpan): boolean {
  return s.start < m.end && s.end > m.start;
}

/** Token run [a, b] (inclusive) for one match, or null when nothing verifies. */
function mapMatch(
  tokenizer: Tokenizer,
  ids: readonly number[],
  spans: readonly TokenSpan[],
  m: WordSpan,
  target: string,
): { run: [number, number]; method: "spans" | "window" | "brute_force" } | null {
  const verify = (a: number, b: number): boolean =>
    a >= 0 && b < ids.length && a <= b && containsCaseInsensitive(tokenizer.decode(ids.slice(a, b + 1)), target);
  let first = -1;
  let last = -1;
  spans.forEach((s, i) => {
    if (intersects(s, m)) {
      if (first < 0) first = i;
      last = i;
    }
  });
  if (first >= 0) {
    if (verify(first, last)) return { run: [first, last], method: "spans" };
    for (const [a, b] of [
      [first - 1, last],
      [first, last + 1],
      [first - 1, last + 1],
    ] as const) {
      if (verify(a, b)) return { run: [a, b], method: "window" };
    }
  }
  // Brute force: shortest run first, then the one starting nearest the match, must touch the match
  // when spans are informative (first >= 0).
  const anchor = first >= 0 ? first : Math.max(0, spans.findIndex((s) => s.end > m.start));
  for (let len = 1; len <= Math.min(MAX_BRUTE_FORCE_TOKENS, ids.length); len++) {
    const starts: number[] = [];
    for (let a = 0; a + len <= ids.length; a++) starts.push(a);
    starts.sort((x, y) => Math.abs(x - anchor) - Math.abs(y - anchor) || x - y);
    for (const a of starts) {
      const b = a + len - 1;
      if (first >= 0 && !(a <= last && b >= first)) continue;
      if (verify(a, b)) return { run: [a, b], method: "brute_force" };
    }
  }
  return null;
}

/**
 * Detection on generated token ids. Throws MappingError (after writing the record when
 * opts.mappingErrorFile is set) when a match cannot be mapped to tokens.
 */
export function detectInIds(
  target: string,
  ids: readonly number[],
  tokenizer: Tokenizer,
  opts: DetectOptions = {},
): Detection {
  const { text, spans, rawSpans } = tokenSpans(tokenizer, ids);
  const found = findWord(text, target);
  const matches: MatchRecord[] = [];
  for (const m of found) {
    const mapped = mapMatch(tokenizer, ids, spans, m, target);
    const char_start = toCodePointIndex(text, m.start);
    const char_end = toCodePointIndex(text, m.end);
    if (!mapped) {
      const record: MappingErrorRecord = {
        ...(opts.context ?? {}),
        target_word: target,
        text,
        token_ids: [...ids],
        char_start,
        char_end,
        token_spans: spans.map((s) => [toCodePointIndex(text, s.start), toCodePointIndex(text, s.end)]),
        raw_prefix_spans: rawSpans.map((s) => [s.start, s.end]),
        reason: `no run of at most ${MAX_BRUTE_FORCE_TOKENS} tokens decodes to text containing "${target}"`,
        time: new Date().toISOString(),
      };
      if (opts.mappingErrorFile) writeMappingError(opts.mappingErrorFile, record);
      throw new MappingError(
        `cannot map "${target}" at chars [${char_start},${char_end}) of ${JSON.stringify(text)} to tokens ${JSON.stringify(ids)}`,
        record,
      );
    }
    matches.push({ char_start, char_end, token_start: mapped.run[0], token_end: mapped.run[1] });
  }
  return {
    present: matches.length > 0,
    matches,
    decision_step: matches.length > 0 ? (matches[0].token_start as number) : 0,
    text,
  };
}
