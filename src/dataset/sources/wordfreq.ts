/**
 * Zipf frequencies from wordfreq's own English data (a gzipped msgpack "cBpack": a header map
 * `{format: "cB", version: 1}` followed by buckets; bucket i holds the words whose frequency rounds to
 * -i centibels, i.e. 10^(-i/100)). Same numbers as Python `wordfreq.zipf_frequency(word, "en")` for
 * single alphabetic words; multi-token text and digits are out of scope and return null.
 */
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { unpack } from "msgpackr";
import { InputError } from "../../errors.ts";
import { isAlphabetic } from "../../util/normalize.ts";

/** The copy shipped in data/raw (see data/raw/wordfreq.LICENSE.md). */
export const WORDFREQ_FILE = "data/raw/wordfreq_large_en.msgpack.gz";

export class WordFreq {
  /** word → bucket index (centibels below 0). */
  private readonly index: Map<string, number>;
  readonly buckets: readonly (readonly string[])[];

  constructor(buckets: string[][]) {
    this.buckets = buckets;
    this.index = new Map();
    buckets.forEach((bucket, i) => {
      for (const w of bucket) if (!this.index.has(w)) this.index.set(w, i);
    });
  }

  static load(file: string): WordFreq {
    let data: unknown;
    try {
      data = unpack(gunzipSync(readFileSync(file)));
    } catch (e) {
      throw InputError.at(file, null, null, `not a gzipped msgpack cBpack (${(e as Error).message})`);
    }
    if (!Array.isArray(data) || data.length < 1) throw InputError.at(file, null, null, "empty cBpack");
    const header = data[0] as Record<string, unknown>;
    if (header?.format !== "cB" || header?.version !== 1) {
      throw InputError.at(file, null, "header", `unexpected cBpack header ${JSON.stringify(header)}`);
    }
    return new WordFreq(data.slice(1) as string[][]);
  }

  /** wordfreq's token form of a single word: NFC, case-folded (lower case for the words we accept). */
  static tokenForm(word: string): string {
    return word.normalize("NFC").toLowerCase();
  }

  /** Frequency as a proportion, rounded like wordfreq (3 significant digits); 0 when unknown. */
  frequency(word: string): number | null {
    const w = WordFreq.tokenForm(word.trim());
    if (!isAlphabetic(w)) return null;
    const i = this.index.get(w);
    if (i === undefined) return 0;
    const freq = 10 ** (-i / 100);
    const leadingZeroes = Math.floor(-Math.log10(freq));
    return roundTo(freq, leadingZeroes + 3);
  }

  /** Zipf = log10(frequency) + 9, rounded to 2 decimals; 0 for unknown words (wordfreq's minimum). */
  zipf(word: string): number | null {
    const f = this.frequency(word);
    if (f === null) return null;
    if (f === 0) return 0;
    return roundTo(Math.log10(f) + 9, 2);
  }

  /** Words in descending frequency order (bands alphabetical, as wordfreq stores them). */
  *words(): Iterable<string> {
    for (const b of this.buckets) yield* b;
  }
}

/** Decimal rounding of the exact binary value (like Python's round for all but exact ties). */
export function roundTo(x: number, digits: number): number {
  return Number(x.toFixed(Math.max(0, Math.min(100, digits))));
}
