/**
 * Question templates, exactly as DESIGN.md "Prompts" gives them. Blanks are four underscores.
 * `{S}` is the subject; idiom templates take the idiom with its last word replaced by the blank.
 */
export const BLANK = "____";

export const IDIOM_TEMPLATES = {
  I1: (idiom: string) => `Complete the idiom with one word: "${idiom}"`,
  I2: (idiom: string) => `Fill the blank (one word): ${idiom}`,
  I3: (idiom: string) => `Idiom completion (one word): ${idiom}`,
} as const;
export type IdiomTemplateId = keyof typeof IDIOM_TEMPLATES;

/** Fact relations we have templates for, with the template ids that ask for them. */
export const FACT_TEMPLATES = {
  F1: { relation: "capital", text: (s: string) => `Fill the blank with one word: The capital of ${s} is ${BLANK}.` },
  F2: { relation: "capital", text: (s: string) => `One-word answer: ${s}'s capital is ${BLANK}.` },
  F3: { relation: "currency", text: (s: string) => `Complete with one word: The currency of ${s} is ${BLANK}.` },
  F4: { relation: "official_language", text: (s: string) => `One-word answer: An official language of ${s} is ${BLANK}.` },
  F5: { relation: "continent", text: (s: string) => `Fill the blank (one word): ${s} is in ${BLANK}.` },
  F13: { relation: "demonym", text: (s: string) => `Fill the blank (one word): A demonym for ${s} is ${BLANK}.` },
  F14: { relation: "birth_month", text: (s: string) => `Fill the blank (one word): ${s} was born in the month of ${BLANK}.` },
  F15: { relation: "national_sport", text: (s: string) => `Fill the blank (one word): The national sport of ${s} is ${BLANK}.` },
  F16: { relation: "occupation", text: (s: string) => `Fill the blank (one word): By occupation, ${s} was a ${BLANK}.` },
} as const;
export type FactTemplateId = keyof typeof FACT_TEMPLATES;
export const FACT_RELATIONS = ["capital", "currency", "official_language", "continent", "demonym", "birth_month", "national_sport", "occupation"] as const;
export type FactRelation = (typeof FACT_RELATIONS)[number];

/** Template ids per fact relation; capital alternates F1/F2 by subject. */
export function factTemplatesFor(relation: FactRelation): FactTemplateId[] {
  return (Object.keys(FACT_TEMPLATES) as FactTemplateId[]).filter((k) => FACT_TEMPLATES[k].relation === relation);
}

const CS = "Fill the blank (one word): ";
export const COMMONSENSE_TEMPLATES = {
  C1: { relation: "UsedFor", text: (s: string) => `${CS}You use a ${s} to ${BLANK}.` },
  C2: { relation: "MadeOf", text: (s: string) => `${CS}A ${s} is made of ${BLANK}.` },
  C3: { relation: "HasProperty", text: (s: string) => `${CS}A typical ${s} is ${BLANK}.` },
  C4: { relation: "HasPart", text: (s: string) => `${CS}A ${s} has a ${BLANK}.` },
  C5: { relation: "AtLocation", text: (s: string) => `${CS}You usually find a ${s} in the ${BLANK}.` },
  C6: { relation: "CapableOf", text: (s: string) => `${CS}A ${s} can ${BLANK}.` },
  C7: { relation: "UsedBy", text: (s: string) => `${CS}A ${s} is used by a ${BLANK}.` },
  C8: { relation: "Requires", text: (s: string) => `${CS}A ${s} requires ${BLANK}.` },
  C9: { relation: "Contains", text: (s: string) => `${CS}A ${s} contains ${BLANK}.` },
  C10: { relation: "WornOn", text: (s: string) => `${CS}A ${s} is worn on the ${BLANK}.` },
} as const;
export type CommonsenseTemplateId = keyof typeof COMMONSENSE_TEMPLATES;
/** The common-sense relations, one per template, in template order (generation asks for each). */
export const COMMONSENSE_RELATIONS: readonly string[] = Object.values(COMMONSENSE_TEMPLATES).map((t) => t.relation);

export function commonsenseTemplateFor(relation: string): CommonsenseTemplateId | null {
  const k = (Object.keys(COMMONSENSE_TEMPLATES) as CommonsenseTemplateId[]).find((id) => COMMONSENSE_TEMPLATES[id].relation === relation);
  return k ?? null;
}

/** Creative: a two-sentence microstory whose last word is replaced by the blank. */
export function creativeQuestion(storyWithBlank: string): string {
  return `Fill the blank with one word: ${storyWithBlank}`;
}

/** OOD: an unusual context (one or two sentences) ending in the blank. */
export function oodQuestion(contextWithBlank: string): string {
  return `Fill the blank with one word: ${contextWithBlank}`;
}

/**
 * Replaces the last occurrence of the target word (whole word, case-insensitive) by the blank,
 * keeping what follows (closing punctuation). Returns null when the text does not contain it.
 */
export function blankLastOccurrence(text: string, target: string): string | null {
  const hits = wholeWordIndices(text, target);
  if (!hits.length) return null;
  const at = hits[hits.length - 1];
  return text.slice(0, at) + BLANK + text.slice(at + target.length);
}

/**
 * The instruction prefixes the templates above start with. The leak filters compare the target
 * against the question's content after this prefix, so "word" is not leaked by "(one word)".
 */
export const INSTRUCTION_PREFIXES = [
  "Complete the idiom with one word: ",
  "Fill the blank (one word): ",
  "Idiom completion (one word): ",
  "Fill the blank with one word: ",
  "One-word answer: ",
  "Complete with one word: ",
] as const;

/** The question without its template instruction prefix (the whole text when none matches). */
export function questionContent(question: string): string {
  const p = INSTRUCTION_PREFIXES.find((x) => question.startsWith(x));
  return p ? question.slice(p.length) : question;
}

const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;

/**
 * Start indices where `word` occurs in `text` case-insensitively with no letter or digit on either
 * side. (A dynamic Unicode regex per call compiles slowly; this scans with indexOf instead.)
 */
export function wholeWordIndices(text: string, word: string): number[] {
  if (word === "") return [];
  const t = text.toLowerCase();
  const w = word.toLowerCase();
  if (t.length !== text.length || w.length !== word.length) {
    const esc = word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const re = new RegExp(`(?<![\\p{L}\\p{N}])${esc}(?![\\p{L}\\p{N}])`, "giu");
    return [...text.matchAll(re)].map((m) => m.index!);
  }
  const out: number[] = [];
  for (let i = t.indexOf(w); i >= 0; i = t.indexOf(w, i + 1)) {
    const before = i > 0 ? text[i - 1] : "";
    const after = text[i + w.length] ?? "";
    if ((before === "" || !LETTER_OR_DIGIT.test(before)) && (after === "" || !LETTER_OR_DIGIT.test(after))) out.push(i);
  }
  return out;
}

/** Sentences in a text: runs ending in . ! ? (or the end), ignoring the blank and empty pieces. */
export function countSentences(text: string): number {
  return text
    .replace(/\.\.\.|…/g, ",")
    .split(/(?<=[.!?])\s+/)
    .map((s) => s.trim())
    .filter((s) => /\p{L}/u.test(s)).length;
}
