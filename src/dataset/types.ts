/**
 * Records that move between the dataset build's steps. Each step reads and writes these through zod
 * so a torn or foreign file fails at its line and field.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { QuestionFields, ValidationReply } from "../schemas.ts";
import type { Category as CategoryT } from "../config.ts";
import { normalizeForMatch } from "../util/normalize.ts";

/** One cloze prompt candidate before validation (a line of data/candidates/{category}.jsonl). */
export const Candidate = z.object({
  /** Same formula as the final prompt_id (see promptId). */
  candidate_id: z.string(),
  ...QuestionFields,
  subject: z.string().nullable(),
  relation: z.string().nullable(),
  /** custom_id of the batch request a generated candidate came from, else null. */
  origin: z.string().nullable(),
});
export type Candidate = z.infer<typeof Candidate>;

/** Validation outcome of one candidate (data/logs/steps/validated.jsonl). */
export const ValidatedCandidate = z.object({
  candidate_id: z.string(),
  reply: ValidationReply.nullable(),
  /** null reply: the validation request was dropped after its one retry. */
  dropped_reason: z.string().nullable(),
  v_score: z.number(),
  accepted: z.boolean(),
});
export type ValidatedCandidate = z.infer<typeof ValidatedCandidate>;

/** P0 of one accepted candidate (data/logs/steps/probe.jsonl). */
export const ProbeRecord = z.object({ candidate_id: z.string(), p0: z.number(), p0_plain: z.number() });
export type ProbeRecord = z.infer<typeof ProbeRecord>;

/** The normalised form used for the "≤ 2 categories per target" rule and in prompt ids. */
export function normalizeTarget(word: string): string {
  return normalizeForMatch(word).replace(/\s+/g, "_");
}

/**
 * prompt_id = `{category}_{target_norm}_{sha256(question||target||category)[:8]}` where `||` is plain
 * string concatenation with no separator (question_text + target_word + category, UTF-8), hex digest.
 */
export function promptId(category: CategoryT, question: string, target: string): string {
  const h = createHash("sha256").update(question + target + category, "utf8").digest("hex").slice(0, 8);
  return `${category}_${normalizeTarget(target)}_${h}`;
}

export function makeCandidate(
  c: Omit<Candidate, "candidate_id" | "target_word_normalized" | "subject" | "relation" | "origin"> &
    Partial<Pick<Candidate, "subject" | "relation" | "origin">>,
): Candidate {
  return {
    candidate_id: promptId(c.category, c.question_text, c.target_word),
    category: c.category,
    question_text: c.question_text,
    target_word: c.target_word,
    target_word_normalized: normalizeTarget(c.target_word),
    template_id: c.template_id,
    source: c.source,
    subject: c.subject ?? null,
    relation: c.relation ?? null,
    origin: c.origin ?? null,
  };
}
