/**
 * Token spans of the parts of the negative prompt that attention metrics look at (pure):
 *   instruction = the prohibition sentence `Do not use the word "X" anywhere in your answer.`
 *   negation    = `Do not use`
 *   target      = X inside the quotes
 *   question    = the question text q (after `Question: `)
 * Char ranges come from promptBuilder's `promptRegions` on the full model input (for the chat format the
 * raw text sits verbatim inside the template), then map to the tokens whose character ranges overlap
 * them. Spans are half-open token index ranges [start, end).
 */
import { InputError } from "../errors.ts";
import { promptRegions, type CharRange } from "../prompts/promptBuilder.ts";

export type Range = [start: number, end: number];

export const SPAN_NAMES = ["instruction", "negation", "target", "question"] as const;
export type SpanName = (typeof SPAN_NAMES)[number];
export type Spans = Record<SpanName, Range>;

/** Char ranges (UTF-16 indices into the final model input) of the four parts, via promptRegions. */
export function charSpans(finalText: string, target: string, question: string): Spans {
  const r = promptRegions(finalText, question, "negative", target);
  const range = (c: CharRange | null, what: string): Range => {
    if (!c) throw new InputError(`negative prompt has no ${what} region`);
    return [c.start, c.end];
  };
  return {
    instruction: range(r.instruction, "instruction"),
    negation: range(r.negation, "negation"),
    target: range(r.target, "target"),
    question: range(r.question, "question"),
  };
}

/** Token index range [first, last+1) of tokens whose [start,end) overlaps chars [s,e). */
export function tokensOverlapping(offsets: readonly Range[], [s, e]: Range): Range {
  let first = -1;
  let last = -1;
  for (let i = 0; i < offsets.length; i++) {
    const [a, b] = offsets[i];
    if (a < e && b > s) {
      if (first < 0) first = i;
      last = i;
    }
  }
  if (first < 0) throw new InputError(`no token covers characters [${s}, ${e})`);
  return [first, last + 1];
}

/**
 * Token spans of the negative prompt. `finalText` is the exact model input (raw, or the chat rendering
 * that contains the raw prompt verbatim), `offsets` per token of it in UTF-16 indices (see
 * `offsetsByDecode`, or `codePointToUtf16` for the sidecar's tokenize offsets).
 */
export function tokenSpans(finalText: string, target: string, question: string, offsets: readonly Range[]): Spans {
  const cs = charSpans(finalText, target, question);
  const out = {} as Spans;
  for (const k of SPAN_NAMES) out[k] = tokensOverlapping(offsets, cs[k]);
  return out;
}

/**
 * Per-token char offsets by prefix decoding: token i covers [len(decode(ids[:i])), len(decode(ids[:i+1]))),
 * special tokens kept. Valid when decode(ids) reproduces the text (checked by the caller via `text`).
 */
export function offsetsByDecode(decode: (ids: readonly number[]) => string, ids: readonly number[], text?: string): Range[] {
  const out: Range[] = [];
  let prev = 0;
  for (let i = 0; i < ids.length; i++) {
    const len = decode(ids.slice(0, i + 1)).length;
    out.push([prev, Math.max(prev, len)]);
    prev = Math.max(prev, len);
  }
  if (text !== undefined && decode(ids) !== text) {
    throw new InputError("decoding the prompt's tokens does not reproduce its text; cannot derive token offsets");
  }
  return out;
}

/** Converts code-point offsets (Python str indices, as the sidecar's tokenize op returns) to UTF-16. */
export function codePointToUtf16(text: string, offsets: readonly Range[]): Range[] {
  const map: number[] = [0];
  let u = 0;
  for (const ch of text) {
    u += ch.length;
    map.push(u);
  }
  return offsets.map(([a, b]) => [map[a] ?? u, map[b] ?? u]);
}
