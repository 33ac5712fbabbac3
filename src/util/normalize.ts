/**
 * normalizeForMatch: NFKC → lower case → every punctuation character to a space → collapse runs of
 * whitespace → strip. Used to compare a decoded variant or an answer with a target word.
 */
export function normalizeForMatch(text: string): string {
  return text
    .normalize("NFKC")
    .toLowerCase()
    .replace(/\p{P}/gu, " ")
    .replace(/\s+/gu, " ")
    .trim();
}

/** Strictly alphabetic (letters only, at least one). */
export function isAlphabetic(word: string): boolean {
  return /^\p{L}+$/u.test(word);
}
