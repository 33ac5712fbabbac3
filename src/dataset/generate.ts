/**
 * Generation requests for every shortfall (common sense, creative, OOD, and idioms/facts beyond what
 * the sources give), their reply schemas (the design's fallback schemas inside `{"items": [...]}`),
 * and the conversion of a reply into candidates. custom_ids are content-based
 * (`gen:{category}:{relation|target|chunk}:{i}`) so recorded replies can be replayed by id.
 */
import { z } from "zod";
import type { Category } from "../config.ts";
import { factCandidate, isFactRelation } from "./sources/facts.ts";
import { idiomFromReply } from "./sources/idioms.ts";
import {
  BLANK,
  COMMONSENSE_RELATIONS,
  COMMONSENSE_TEMPLATES,
  commonsenseTemplateFor,
  creativeQuestion,
  oodQuestion,
  blankLastOccurrence,
  FACT_RELATIONS,
  countSentences,
} from "./templates.ts";
import { makeCandidate, type Candidate } from "./types.ts";

export const GenSpec = z.object({
  custom_id: z.string(),
  category: z.enum(["idioms", "facts", "commonsense", "creative", "ood"]),
  n: z.number().int().positive(),
  relation: z.string().nullable(),
  target: z.string().nullable(),
  theme: z.string().nullable(),
  seed_prompt: z.string().nullable(),
});
export type GenSpec = z.infer<typeof GenSpec>;

const word = z.string().min(1);
export const ITEM_SCHEMAS = {
  idioms: z.object({ idiom_full: z.string().min(1), target_word: word }),
  facts: z.object({ subject: z.string().min(1), relation: z.string(), target_word: word }),
  commonsense: z.object({ subject: z.string().min(1), relation: z.string(), target_word: word, relation_label: z.string().optional() }),
  creative: z.object({ microstory: z.string().min(1), target_word: word }),
  ood: z.object({ context: z.string().min(1), style: z.string(), target_word: word }),
} as const;

/** Every generation reply: `{"items": [...]}` with the category's item schema (checked per category). */
export const GenerationReply = z.object({ items: z.array(z.record(z.string(), z.unknown())).min(1) });
export type GenerationReply = z.infer<typeof GenerationReply>;

const THEMES = ["kitchen", "household", "outdoors", "tools", "clothing", "animals", "transport", "sports", "office", "music", "school", "health"];

const CS_EXAMPLES: Record<string, [string, string]> = {
  UsedFor: ["knife", "cut"],
  MadeOf: ["window", "glass"],
  HasProperty: ["lemon", "sour"],
  HasPart: ["bicycle", "pedal"],
  AtLocation: ["pillow", "bedroom"],
  CapableOf: ["bird", "fly"],
  UsedBy: ["stethoscope", "doctor"],
  Requires: ["fire", "oxygen"],
  Contains: ["wallet", "money"],
  WornOn: ["glove", "hand"],
};

/** Specs for a category's shortfall. Creative/OOD take the drawn targets (K prompts each). */
export function generationSpecs(category: Category, shortfall: number, opts: { targets?: string[]; k?: number; seeds?: string[] | null } = {}): GenSpec[] {
  const base = { relation: null, target: null, theme: null, seed_prompt: null };
  if (shortfall <= 0) return [];
  if (category === "creative" || category === "ood") {
    const k = opts.k ?? 3;
    return (opts.targets ?? []).map((t, i) => ({
      ...base,
      custom_id: `gen:${category}:${t}`,
      category,
      n: k,
      target: t,
      seed_prompt: category === "creative" && opts.seeds?.length ? opts.seeds[i % opts.seeds.length] : null,
    }));
  }
  const relations = category === "commonsense" ? COMMONSENSE_RELATIONS : category === "facts" ? GEN_FACT_RELATIONS : ["idiom"];
  const perRelation = new Map<string, number>();
  for (let i = 0; i < shortfall; i++) perRelation.set(relations[i % relations.length], (perRelation.get(relations[i % relations.length]) ?? 0) + 1);
  const specs: GenSpec[] = [];
  for (const rel of relations) {
    let left = perRelation.get(rel) ?? 0;
    for (let chunk = 0; left > 0; chunk++) {
      const n = Math.min(10, left);
      left -= n;
      const id = category === "idioms" ? `gen:idioms:${chunk}` : `gen:${category}:${rel}:${chunk}`;
      specs.push({ ...base, custom_id: id, category, n, relation: category === "idioms" ? null : rel, theme: THEMES[chunk % THEMES.length] });
    }
  }
  return specs;
}

/** Fact relations asked of the model for a facts shortfall (the ones Wikidata does not cover first). */
const GEN_FACT_RELATIONS: string[] = ["occupation", "national_sport", "birth_month", ...FACT_RELATIONS.filter((r) => !["occupation", "national_sport", "birth_month"].includes(r))];

const ONE_WORD = "Each target_word is ONE common English word made of letters only.";

/** The prompt text of a spec (mentions json and carries an example, as json_object mode needs). */
export function generationPrompt(s: GenSpec): string {
  const ex = (o: unknown) => `Reply with a json object exactly like this example, with ${s.n} items:\n${JSON.stringify({ items: [o] })}`;
  switch (s.category) {
    case "commonsense": {
      const tid = commonsenseTemplateFor(s.relation!)!;
      const sentence = COMMONSENSE_TEMPLATES[tid].text("{subject}").replace("Fill the blank (one word): ", "");
      const [subj, tgt] = CS_EXAMPLES[s.relation!];
      return [
        `Write ${s.n} common-sense fill-in-the-blank items for the relation ${s.relation}. Each becomes the sentence "${sentence}" and target_word is the word most people would put in the blank.`,
        `Use different everyday subjects (theme: ${s.theme}); the subject is a singular noun phrase and must not contain the target word. ${ONE_WORD}`,
        ex({ subject: subj, relation: s.relation, target_word: tgt, relation_label: s.relation }),
      ].join("\n");
    }
    case "facts":
      return [
        `Write ${s.n} well-known facts for the relation "${s.relation}" (subject → one-word answer), each the kind a quiz would ask, with different subjects (theme: ${s.theme}).`,
        `${ONE_WORD} The subject must not contain the target word.`,
        ex({ subject: s.relation === "occupation" ? "Marie Curie" : "Japan", relation: s.relation, target_word: s.relation === "occupation" ? "physicist" : "sumo" }),
      ].join("\n");
    case "idioms":
      return [
        `List ${s.n} common English idioms of at least three words whose last word is a single ordinary word (theme: ${s.theme}). idiom_full is the whole idiom; target_word is its last word.`,
        ONE_WORD,
        ex({ idiom_full: "Break a leg", target_word: "leg" }),
      ].join("\n");
    case "creative":
      return [
        `Write ${s.n} different two-sentence microstories in English. Each story's very last word (before the final full stop) is "${s.target}", and "${s.target}" appears nowhere else in it. The ending should feel natural, so that a reader would guess "${s.target}".`,
        s.seed_prompt ? `Optional inspiration: ${s.seed_prompt}` : "",
        ex({ microstory: "The baby cried for hours in the dark. At last, near dawn, she fell asleep.", target_word: "asleep" }),
      ]
        .filter(Boolean)
        .join("\n");
    case "ood":
      return [
        `Write ${s.n} different passages of one or two sentences set in an unusual, surreal or pseudo-technical context (a ritual manual, a starship maintenance log, a dream bureaucracy, ...). Each passage ends with the word "${s.target}" and "${s.target}" appears nowhere else; the context should make "${s.target}" the most natural one-word completion. Name the style of each.`,
        ex({ context: "According to the ritual manual, you must say goodbye before you enter.", style: "ritual manual", target_word: "goodbye" }),
      ].join("\n");
  }
}

/** Turns one item of a generation reply into a candidate, or null when the item is unusable. */
export function candidateFromItem(spec: GenSpec, item: unknown, index: number, source: string): Candidate | null {
  const cat = spec.category;
  const p = ITEM_SCHEMAS[cat].safeParse(item);
  if (!p.success) return null;
  const origin = spec.custom_id;
  if (cat === "idioms") {
    const v = p.data as z.infer<(typeof ITEM_SCHEMAS)["idioms"]>;
    return idiomFromReply(v.idiom_full, v.target_word, index, origin, source);
  }
  if (cat === "facts") {
    const v = p.data as z.infer<(typeof ITEM_SCHEMAS)["facts"]>;
    if (!isFactRelation(v.relation)) return null;
    return factCandidate(v.subject.trim(), v.relation, v.target_word.trim(), index, source, origin);
  }
  if (cat === "commonsense") {
    const v = p.data as z.infer<(typeof ITEM_SCHEMAS)["commonsense"]>;
    const tid = commonsenseTemplateFor(v.relation) ?? commonsenseTemplateFor(spec.relation ?? "");
    if (!tid) return null;
    return makeCandidate({
      category: cat,
      question_text: COMMONSENSE_TEMPLATES[tid].text(v.subject.trim()),
      target_word: v.target_word.trim(),
      template_id: tid,
      source,
      subject: v.subject.trim(),
      relation: COMMONSENSE_TEMPLATES[tid].relation,
      origin,
    });
  }
  const v = p.data as { microstory?: string; context?: string; style?: string; target_word: string };
  const text = (cat === "creative" ? v.microstory! : v.context!).trim().replace(/\s+/g, " ");
  const target = (spec.target ?? v.target_word).trim();
  const blanked = text.includes(BLANK) ? text : blankLastOccurrence(text, target);
  if (!blanked) return null;
  return makeCandidate({
    category: cat,
    question_text: cat === "creative" ? creativeQuestion(blanked) : oodQuestion(blanked),
    target_word: target,
    template_id: cat === "creative" ? "CR1" : countSentences(blanked) <= 1 ? "O1" : "O2",
    source,
    subject: cat === "ood" ? (v.style ?? null) : null,
    relation: null,
    origin,
  });
}
