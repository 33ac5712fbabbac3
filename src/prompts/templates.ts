/**
 * Question templates of DESIGN.md "Prompts" (blanks are four underscores). Each template turns the
 * fields of one candidate into a one-line question; the template id is recorded in prompts.jsonl.
 *
 * Our choices where the design leaves text open:
 * - F16 (the "occupation template"): `Fill the blank (one word): {S} worked as a ____.`
 * - Creative CR1 takes the microstory with its final target word already replaced by the blank
 *   (`blankLastWord`); OOD O1/O2 take a context that contains the blank.
 */
import { InputError } from "../errors.ts";
import { findWord } from "../detect/wordMatch.ts";

export const BLANK = "____";

export interface TemplateDef {
  id: string;
  category: "idioms" | "facts" | "commonsense" | "creative" | "ood";
  /** Relation or kind this template asks for (Wikidata property / ConceptNet relation / free text). */
  relation: string;
  render: (field: string) => string;
}

const fill = "Fill the blank (one word): ";

const defs: TemplateDef[] = [
  { id: "I1", category: "idioms", relation: "idiom", render: (t) => `Complete the idiom with one word: "${t}"` },
  { id: "I2", category: "idioms", relation: "idiom", render: (t) => `${fill}${t}` },
  { id: "I3", category: "idioms", relation: "idiom", render: (t) => `Idiom completion (one word): ${t}` },
  { id: "F1", category: "facts", relation: "capital", render: (s) => `Fill the blank with one word: The capital of ${s} is ${BLANK}.` },
  { id: "F2", category: "facts", relation: "capital", render: (s) => `One-word answer: ${s}'s capital is ${BLANK}.` },
  { id: "F3", category: "facts", relation: "currency", render: (s) => `Complete with one word: The currency of ${s} is ${BLANK}.` },
  { id: "F4", category: "facts", relation: "official_language", render: (s) => `One-word answer: An official language of ${s} is ${BLANK}.` },
  { id: "F5", category: "facts", relation: "continent", render: (s) => `${fill}${s} is in ${BLANK}.` },
  { id: "F13", category: "facts", relation: "demonym", render: (s) => `${fill}A demonym for ${s} is ${BLANK}.` },
  { id: "F14", category: "facts", relation: "birth_month", render: (s) => `${fill}${s} was born in the month of ${BLANK}.` },
  { id: "F15", category: "facts", relation: "national_sport", render: (s) => `${fill}The national sport of ${s} is ${BLANK}.` },
  { id: "F16", category: "facts", relation: "occupation", render: (s) => `${fill}${s} worked as a ${BLANK}.` },
  { id: "C1", category: "commonsense", relation: "UsedFor", render: (s) => `${fill}You use a ${s} to ${BLANK}.` },
  { id: "C2", category: "commonsense", relation: "MadeOf", render: (s) => `${fill}A ${s} is made of ${BLANK}.` },
  { id: "C3", category: "commonsense", relation: "HasProperty", render: (s) => `${fill}A typical ${s} is ${BLANK}.` },
  { id: "C4", category: "commonsense", relation: "HasA", render: (s) => `${fill}A ${s} has a ${BLANK}.` },
  { id: "C5", category: "commonsense", relation: "AtLocation", render: (s) => `${fill}You usually find a ${s} in the ${BLANK}.` },
  { id: "C6", category: "commonsense", relation: "CapableOf", render: (s) => `${fill}A ${s} can ${BLANK}.` },
  { id: "C7", category: "commonsense", relation: "UsedBy", render: (s) => `${fill}A ${s} is used by a ${BLANK}.` },
  { id: "C8", category: "commonsense", relation: "Requires", render: (s) => `${fill}A ${s} requires ${BLANK}.` },
  { id: "C9", category: "commonsense", relation: "Contains", render: (s) => `${fill}A ${s} contains ${BLANK}.` },
  { id: "C10", category: "commonsense", relation: "WornOn", render: (s) => `${fill}A ${s} is worn on the ${BLANK}.` },
  { id: "CR1", category: "creative", relation: "microstory", render: (t) => `Fill the blank with one word: ${t}` },
  { id: "O1", category: "ood", relation: "ood", render: (t) => `Fill the blank with one word: ${t}` },
  { id: "O2", category: "ood", relation: "ood", render: (t) => `${fill}${t}` },
];

export const TEMPLATES: ReadonlyMap<string, TemplateDef> = new Map(defs.map((d) => [d.id, d]));

/** Renders template `id` with its field (subject, blanked idiom, blanked story or context). */
export function renderTemplate(id: string, field: string): string {
  const t = TEMPLATES.get(id);
  if (!t) throw new InputError(`unknown question template "${id}"`);
  if ((t.category === "idioms" || t.category === "creative" || t.category === "ood") && !field.includes(BLANK)) {
    throw new InputError(`template ${id} needs a text containing the blank ${BLANK}: ${JSON.stringify(field)}`);
  }
  return t.render(field.trim());
}

/** The templates of one category, in id order. */
export function templatesFor(category: TemplateDef["category"]): TemplateDef[] {
  return defs.filter((d) => d.category === category);
}

/**
 * Replaces the LAST whole-word occurrence of `word` in `text` with the blank (idioms: "{idiom with
 * last word replaced by ____}"; creative: the story ending in the blank). Throws when absent.
 */
export function blankLastWord(text: string, word: string): string {
  const hits = findWord(text, word);
  if (hits.length === 0) throw new InputError(`"${word}" does not occur in ${JSON.stringify(text)}`);
  const h = hits[hits.length - 1];
  return text.slice(0, h.start) + BLANK + text.slice(h.end);
}
