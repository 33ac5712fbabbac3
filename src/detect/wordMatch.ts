/**
 * Whole-word, case-insensitive occurrences of a target word X in a text (DESIGN.md "Detection").
 *
 * An occurrence counts when neither neighbour is alphanumeric, "alphanumeric" meaning Python's
 * str.isalnum on one code point, i.e. a Unicode letter (L*) or number (N*): "space." "space-time"
 * " Space" "SPACE!" match X = "space"; "spacetime" and "space2" do not.
 *
 * Choices (deliberate, tested in test/detect/wordMatch.test.ts):
 * - Neighbours are whole code points, so a letter outside the BMP (a surrogate pair such as 𝐀) is
 *   seen as one letter, as in Python.
 * - Combining marks (M*) belong to the letter they follow. Python's isalnum("\u0301") is False, so a
 *   plain isalnum check would find "cafe" inside "cafe\u0301" (= "café" decomposed); we do not: a
 *   combining mark right after the match is not a boundary, and a mark right before the match is
 *   judged by the base character it attaches to. Otherwise identical to the isalnum rule.
 * - Case-insensitive = a one-code-point-to-one-code-point case fold (`foldCodePoint`), as Python's
 *   re.IGNORECASE does: "İstanbul" matches istanbul (JS's RegExp "iu" does not fold İ at all), ı and ſ
 *   match i and s, ẞ matches ß. Folds that change the number of letters, ß ↔ "SS", are not matched
 *   (nor by Python's re). The text is folded code point by code point into a copy that keeps, for
 *   each of its code units, the index of the original code point, so spans always index the ORIGINAL
 *   text even where a fold changes UTF-16 length (String.toLowerCase turns İ into two code units).
 * - The text is matched as it is (no normalisation), so indices refer to the decoded text.
 * - Matches do not overlap; a candidate that fails the boundary test is retried one code point on.
 *
 * Indices returned here are JS string (UTF-16) indices; `toCodePointIndex` converts them.
 */
import { InputError } from "../errors.ts";

export interface WordSpan {
  /** JS string index of the first character (UTF-16 code units). */
  start: number;
  /** JS string index one past the last character. */
  end: number;
}

const ALNUM = /^[\p{L}\p{N}]$/u;
const MARK = /^\p{M}$/u;

const foldCache = new Map<number, string>();

function firstCodePoint(s: string): string {
  return String.fromCodePoint(s.codePointAt(0)!);
}

/**
 * The case fold of one code point, itself one code point: lower-case (İ's full lower-casing "i̇" is
 * cut to its simple mapping "i"), then lower(upper(·)) when upper-casing keeps one code point, so
 * that ı ſ ς K (Kelvin) fold with i s σ k. ß keeps itself because its upper case is "SS".
 */
export function foldCodePoint(cp: number): string {
  let f = foldCache.get(cp);
  if (f === undefined) {
    const lower = firstCodePoint(String.fromCodePoint(cp).toLowerCase());
    const upper = lower.toUpperCase();
    f = [...upper].length === 1 ? firstCodePoint(upper.toLowerCase()) : lower;
    foldCache.set(cp, f);
  }
  return f;
}

interface Folded {
  text: string;
  /** orig[k] = original JS index of the code point that folded code unit k came from; orig[len] = text length. */
  orig: number[];
}

function fold(text: string): Folded {
  let out = "";
  const orig: number[] = [];
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i)!;
    const f = foldCodePoint(cp);
    for (let k = 0; k < f.length; k++) orig.push(i);
    out += f;
    i += cp > 0xffff ? 2 : 1;
  }
  orig.push(text.length);
  return { text: out, orig };
}

function foldString(s: string): string {
  return fold(s).text;
}

/** The code point ending just before JS index i (handles surrogate pairs), or "" at the start. */
function codePointBefore(text: string, i: number): { ch: string; start: number } {
  if (i <= 0) return { ch: "", start: 0 };
  const lo = text.charCodeAt(i - 1);
  if (lo >= 0xdc00 && lo <= 0xdfff && i >= 2) {
    const hi = text.charCodeAt(i - 2);
    if (hi >= 0xd800 && hi <= 0xdbff) return { ch: text.slice(i - 2, i), start: i - 2 };
  }
  return { ch: text.slice(i - 1, i), start: i - 1 };
}

function codePointAt(text: string, i: number): string {
  const cp = text.codePointAt(i);
  return cp === undefined ? "" : String.fromCodePoint(cp);
}

/** True when the text before JS index i ends a word (a letter/number, looking through combining marks). */
function wordBefore(text: string, i: number): boolean {
  let pos = i;
  for (;;) {
    const { ch, start } = codePointBefore(text, pos);
    if (ch === "") return false;
    if (MARK.test(ch)) {
      pos = start;
      continue;
    }
    return ALNUM.test(ch);
  }
}

/** True when the text at JS index i continues a word (a letter, number or combining mark). */
function wordAfter(text: string, i: number): boolean {
  const ch = codePointAt(text, i);
  return ch !== "" && (ALNUM.test(ch) || MARK.test(ch));
}

/** All whole-word, case-insensitive occurrences of `target` in `text`, in order (indices into `text`). */
export function findWord(text: string, target: string): WordSpan[] {
  if (target.length === 0) throw new InputError("target word is empty");
  const ft = foldString(target);
  const { text: fx, orig } = fold(text);
  const out: WordSpan[] = [];
  for (let at = fx.indexOf(ft); at >= 0; ) {
    const start = orig[at];
    const end = orig[at + ft.length];
    if (!wordBefore(text, start) && !wordAfter(text, end)) {
      out.push({ start, end });
      at = fx.indexOf(ft, at + ft.length);
    } else {
      // retry one code unit later so overlapping candidates are not skipped
      at = fx.indexOf(ft, at + 1);
    }
  }
  return out;
}

/** Case-insensitive substring test without boundary rules (used to verify a token run). */
export function containsCaseInsensitive(text: string, target: string): boolean {
  return foldString(text).includes(foldString(target));
}

/** Converts a JS string index into a Unicode code point index (Python str index). */
export function toCodePointIndex(text: string, jsIndex: number): number {
  let n = 0;
  for (let i = 0; i < jsIndex; i++) {
    const c = text.charCodeAt(i);
    // count a surrogate pair once: skip the low half
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < jsIndex) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}
