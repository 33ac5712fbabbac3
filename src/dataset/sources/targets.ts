/**
 * Target words for creative and OOD prompts: strictly alphabetic lower-case English words with a Zipf
 * frequency in [zipfMin, zipfMax] (wordfreq's English data), at least 4 letters, not a function word,
 * drawn with the seed. Each category draws from its own seeded stream.
 */
import { existsSync, readFileSync } from "node:fs";
import { Prng } from "../../util/prng.ts";
import type { WordFreq } from "./wordfreq.ts";

/** Function words and fillers that make poor cloze targets even inside the Zipf band. */
const FUNCTION_WORDS = new Set(
  ("about above after again against also although among another anyone anything around because been before being below " +
    "between both cannot could does doing down during each either else ever every from further have having hence here " +
    "hers herself himself however into itself just last least less many maybe might more most much must myself neither " +
    "never none nothing once only onto other otherwise ours ourselves over perhaps quite rather really same several shall " +
    "should since some someone something still such than that their theirs them themselves then there therefore these they " +
    "this those though through thus till together toward towards under unless until upon very were what whatever when " +
    "whenever where whereas wherever whether which while whom whose will with within without would yeah yours yourself " +
    "yourselves okay gonna wanna")
    .split(/\s+/),
);

export function eligibleTargets(wf: WordFreq, zipfMin: number, zipfMax: number): string[] {
  const out: string[] = [];
  for (const w of wf.words()) {
    if (!/^[a-z]{4,}$/.test(w) || FUNCTION_WORDS.has(w)) continue;
    const z = wf.zipf(w);
    if (z !== null && z >= zipfMin && z <= zipfMax) out.push(w);
  }
  return out;
}

/** `n` distinct targets for a category, seeded; avoids words in `exclude` (the other category's draw). */
export function drawTargets(eligible: readonly string[], n: number, seed: number, stream: string, exclude: ReadonlySet<string> = new Set()): string[] {
  const pool = eligible.filter((w) => !exclude.has(w));
  return new Prng(seed, stream).shuffle(pool).slice(0, n);
}

/** Writing-prompt seeds for creative stories: one non-empty line each, or null when the file is absent. */
export function readWritingPrompts(file: string): string[] | null {
  if (!existsSync(file)) return null;
  return readFileSync(file, "utf8")
    .split(/\r?\n/)
    .map((l) => l.replace(/^\[\s*\w+\s*\]\s*/, "").trim())
    .filter((l) => l.length > 0);
}
