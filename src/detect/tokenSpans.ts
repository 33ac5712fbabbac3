/**
 * Character spans of tokens by prefix incremental decoding (DESIGN.md "Detection"):
 * span_i = [len(decode(ids[:i])), len(decode(ids[:i+1]))), repaired where byte-level BPE splits one
 * character over several tokens.
 *
 * The problem: decode(ids[:i]) of a prefix that ends inside a multi-byte UTF-8 character shows that
 * character as a provisional U+FFFD. Taken literally, the character is credited to the token that
 * carries its FIRST byte only, and the tokens carrying its later bytes get empty spans — so a match
 * ending in a split character would miss its last tokens (and the run would not decode to X).
 *
 * What we do instead (all on the final text T = decode(ids)):
 *  - stable_i = length of the longest common prefix of decode(ids[:i]) and T (snapped to a code point
 *    boundary, made non-decreasing, capped at |T|): the characters finished before token i.
 *  - pending_i = whether decode(ids[:i]) shows anything beyond stable_i (a provisional U+FFFD for a
 *    started character: one with byte-level BPE, one per byte with SentencePiece byte fallback —
 *    either way it stands for the ONE character in progress).
 *  - token i TOUCHES [stable_i, end_i) with end_i = stable_{i+1}, plus one code point of T when
 *    pending_{i+1} (capped at |T|).
 * So every token that contributes a byte to a character touches it: a split character lies in the
 * spans of all its tokens, spans of neighbouring tokens may share that one character, and a token
 * with no visible output (a skipped special token) has an empty span. For text without split
 * characters this is exactly the design's definition. Spans are JS string (UTF-16) indices into T.
 */
import type { Tokenizer } from "../tokenizer/hfTokenizer.ts";

export interface TokenSpan {
  start: number;
  end: number;
}

export interface TokenSpans {
  /** decode(ids), the authoritative text. */
  text: string;
  /** One span per id, JS indices into text. */
  spans: TokenSpan[];
  /** Literal design spans [len(decode(ids[:i])), len(decode(ids[:i+1]))) in JS units, for the record. */
  rawSpans: TokenSpan[];
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

/** Longest common prefix length of a and b, never splitting a surrogate pair of b. */
function commonPrefix(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i > 0 && i < b.length && isHighSurrogate(b.charCodeAt(i - 1))) i--;
  return i;
}

function codePointCount(s: string, from: number): number {
  let n = 0;
  for (let i = from; i < s.length; i++) {
    if (isHighSurrogate(s.charCodeAt(i)) && i + 1 < s.length) i++;
    n++;
  }
  return n;
}

/** JS index reached from `from` after `k` code points of s (capped at s.length). */
function advanceCodePoints(s: string, from: number, k: number): number {
  let i = from;
  for (let j = 0; j < k && i < s.length; j++) {
    i += isHighSurrogate(s.charCodeAt(i)) && i + 1 < s.length ? 2 : 1;
  }
  return i;
}

/** Spans of every token of ids in decode(ids); n+1 decodes (ids are short: generated answers). */
export function tokenSpans(tokenizer: Tokenizer, ids: readonly number[]): TokenSpans {
  const text = tokenizer.decode(ids);
  const prefixes: string[] = [];
  for (let i = 0; i <= ids.length; i++) prefixes.push(i === ids.length ? text : tokenizer.decode(ids.slice(0, i)));
  return spansFromPrefixes(text, prefixes);
}

/** The span computation on given prefix decodes (prefixes[i] = decode(ids[:i]), prefixes[n] = text). */
export function spansFromPrefixes(text: string, prefixes: readonly string[]): TokenSpans {
  const n = prefixes.length - 1;
  const stable: number[] = [];
  const pending: number[] = [];
  let prev = 0;
  for (let i = 0; i <= n; i++) {
    let s = i === n ? text.length : Math.min(commonPrefix(prefixes[i], text), text.length);
    s = Math.max(s, prev);
    stable.push(s);
    pending.push(i === n ? 0 : codePointCount(prefixes[i], Math.min(s, prefixes[i].length)));
    prev = s;
  }
  const spans: TokenSpan[] = [];
  const rawSpans: TokenSpan[] = [];
  for (let i = 0; i < n; i++) {
    const end = advanceCodePoints(text, stable[i + 1], pending[i + 1] > 0 ? 1 : 0);
    spans.push({ start: stable[i], end: Math.min(end, text.length) });
    rawSpans.push({ start: prefixes[i].length, end: prefixes[i + 1].length });
  }
  return { text, spans, rawSpans };
}
