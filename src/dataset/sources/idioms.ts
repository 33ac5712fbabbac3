/**
 * Idioms from data/raw/idioms.csv: one quoted field per line, `"{idiom}>>{definition}"`. An idiom is
 * usable when it has at least 3 words and its last word (trailing punctuation aside) is alphabetic;
 * the question shows the idiom with that word replaced by the blank.
 */
import { readFileSync } from "node:fs";
import { InputError } from "../../errors.ts";
import { isAlphabetic } from "../../util/normalize.ts";
import { Prng } from "../../util/prng.ts";
import { BLANK, IDIOM_TEMPLATES, type IdiomTemplateId } from "../templates.ts";
import { makeCandidate, type Candidate } from "../types.ts";

export interface IdiomEntry {
  idiom: string;
  definition: string;
  line: number;
}

const LINE = /^"\{([^{}]+)\}>>\{([^{}]*)\}"$/;

/** Parses the file; a line that is not `"{idiom}>>{definition}"` stops with file and line named. */
export function readIdioms(file: string): IdiomEntry[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw InputError.at(file, null, null, `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const out: IdiomEntry[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    if (raw.trim() === "") return;
    const m = LINE.exec(raw.trim());
    if (!m || m[1].trim() === "") {
      throw InputError.at(file, i + 1, null, `expected "{idiom}>>{definition}", got ${JSON.stringify(raw.slice(0, 80))}`);
    }
    out.push({ idiom: m[1].trim().replace(/\s+/g, " "), definition: m[2].trim(), line: i + 1 });
  });
  return out;
}

/** Splits an idiom into (text with blank, target) or null when it does not qualify. */
export function blankIdiom(idiom: string): { blanked: string; target: string } | null {
  const words = idiom.split(" ");
  if (words.length < 3) return null;
  const last = words[words.length - 1];
  const m = /^(.*?)([^\p{L}]*)$/u.exec(last)!;
  const target = m[1];
  if (!isAlphabetic(target)) return null;
  return { blanked: [...words.slice(0, -1), BLANK + m[2]].join(" "), target };
}

const IDIOM_IDS: IdiomTemplateId[] = ["I1", "I2", "I3"];

/** The candidate asking for an idiom's blanked last word; templates I1–I3 taken in turn by `index`. */
function idiomCandidate(idiom: string, b: { blanked: string; target: string }, index: number, source: string, origin: string | null): Candidate {
  const tid = IDIOM_IDS[index % 3];
  return makeCandidate({
    category: "idioms",
    question_text: IDIOM_TEMPLATES[tid](b.blanked),
    target_word: b.target,
    template_id: tid,
    source,
    subject: idiom,
    relation: "idiom",
    origin,
  });
}

/**
 * Up to `n` idiom candidates: qualifying idioms (deduplicated case-insensitively) in a seeded order,
 * templates I1–I3 taken in turn.
 */
export function idiomCandidates(entries: IdiomEntry[], n: number, seed: number): { candidates: Candidate[]; eligible: number; rejected: number } {
  const seen = new Set<string>();
  const usable: { e: IdiomEntry; blanked: string; target: string }[] = [];
  let rejected = 0;
  for (const e of entries) {
    const key = e.idiom.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    const b = blankIdiom(e.idiom);
    if (b) usable.push({ e, ...b });
    else rejected++;
  }
  const order = new Prng(seed, "idioms").shuffle(usable).slice(0, n);
  const candidates = order.map((u, i) => idiomCandidate(u.e.idiom, u, i, "idioms_csv", null));
  return { candidates, eligible: usable.length, rejected };
}

/** Candidate from a generated `{idiom_full, target_word}` reply, or null when it does not qualify. */
export function idiomFromReply(idiomFull: string, target: string, index: number, origin: string, source: string): Candidate | null {
  const b = blankIdiom(idiomFull.trim().replace(/\s+/g, " "));
  if (!b || b.target.toLowerCase() !== target.trim().toLowerCase()) return null;
  return idiomCandidate(idiomFull, b, index, source, origin);
}
