/**
 * Deterministic test strings mixing ASCII, punctuation, whitespace, accents (pre-composed and
 * combining), CJK, Hangul, Cyrillic, Arabic, Devanagari and emoji (modifiers, ZWJ sequences, flags),
 * drawn with the project's seeded Prng so every run checks the same inputs.
 */
import { Prng } from "../../src/util/prng.ts";

const POOLS: readonly (readonly string[])[] = [
  ["the", "Paris", "space", "time", "word", "answer", "Question", "capital", "France", "is", "a", "I", "OK"],
  [" ", "  ", "\n", "\n\n", "\t", " \n"],
  [".", ",", "!", "?", "-", "—", "'s", "'", '"', "“", "”", "’", "(", ")", ":", ";", "...", "____", "/", "#", "@"],
  ["0", "7", "42", "2024", "3.14", "½", "²"],
  ["é", "café", "naïve", "über", "niño", "façade", "Ångström", "e\u0301", "cafe\u0301", "ß", "İstanbul", "Œuvre"],
  ["世界", "你好", "日本語", "東京", "한국어", "中", "漢字テスト"],
  ["🎉", "😀", "👍🏽", "👨‍👩‍👧", "🇫🇷", "❤️", "🚀", "𝐀𝐁", "🙂"],
  ["Привет", "мир", "مرحبا", "नमस्ते", "Ελλάδα", "שלום"],
];

export function generateStrings(n: number, seed = 1234): string[] {
  const rng = new Prng(seed, "tok_strings");
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const parts = 1 + rng.int(10);
    let s = "";
    for (let j = 0; j < parts; j++) {
      const pool = POOLS[rng.int(POOLS.length)];
      s += pool[rng.int(pool.length)];
      if (rng.next() < 0.35) s += " ";
    }
    out.push(s);
  }
  return out;
}

/** Random id sequences (arbitrary vocab ids plus some added/special ids), like a random model's output. */
export function generateIdSequences(
  n: number,
  vocabSize: number,
  specialIds: readonly number[],
  seed = 99,
  byteIds: readonly number[] = Array.from({ length: 256 }, (_, i) => i),
): number[][] {
  const rng = new Prng(seed, "tok_ids");
  const out: number[][] = [];
  for (let i = 0; i < n; i++) {
    const len = 1 + rng.int(12);
    const ids: number[] = [];
    for (let j = 0; j < len; j++) {
      const r = rng.next();
      if (r < 0.08 && specialIds.length) ids.push(specialIds[rng.int(specialIds.length)]);
      else if (r < 0.4) ids.push(byteIds[rng.int(byteIds.length)]); // single-byte tokens, often partial UTF-8
      else ids.push(rng.int(vocabSize));
    }
    out.push(ids);
  }
  return out;
}
