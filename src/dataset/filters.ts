/**
 * Deterministic filters, run before validation. Rejections:
 *   target_not_alphabetic     target is not letters only
 *   target_in_question        target occurs in the question's content as a whole word (case-insensitive)
 *   target_in_question_letters  target occurs inside a content token once that token's non-letters are
 *                             stripped, case-insensitively: "singer" leaks sing, "Slovakia" leaks Slovak,
 *                             "s.p.a.c.e" leaks space. Tokens are whitespace-separated and matched one at
 *                             a time, so letters joined across a space ("use a" → "sea") do not count.
 * "Content" is the question after its template instruction prefix (`questionContent`), so the
 * instruction's own words ("one word", "blank", "answer") never reject a target.
 *   duplicate                 same candidate id (question, target, category) seen earlier
 * Sentence counts (creative 2, OOD 1–2) are checked and counted, not rejected.
 */
import { countSentences, questionContent, wholeWordIndices } from "./templates.ts";
import { isAlphabetic } from "../util/normalize.ts";
import type { Candidate } from "./types.ts";

export type RejectReason = "target_not_alphabetic" | "target_in_question" | "target_in_question_letters" | "duplicate";

const NON_LETTERS = /[^\p{L}]/gu;

export function rejectReason(c: Candidate): RejectReason | null {
  const t = c.target_word;
  if (!isAlphabetic(t)) return "target_not_alphabetic";
  const content = questionContent(c.question_text);
  if (wholeWordIndices(content, t).length > 0) return "target_in_question";
  const lower = t.toLowerCase();
  for (const tok of content.split(/\s+/)) {
    if (tok.replace(NON_LETTERS, "").toLowerCase().includes(lower)) return "target_in_question_letters";
  }
  return null;
}

/** The story/context part of a creative or OOD question (after the instruction prefix). */
export function storyPart(question: string): string {
  const i = question.indexOf(": ");
  return i >= 0 ? question.slice(i + 2) : question;
}

export function sentenceCountOk(c: Candidate): boolean | null {
  if (c.category !== "creative" && c.category !== "ood") return null;
  const n = countSentences(storyPart(c.question_text));
  return c.category === "creative" ? n === 2 : n >= 1 && n <= 2;
}

export interface FilterResult {
  kept: Candidate[];
  rejected: { candidate_id: string; category: string; reason: RejectReason }[];
  counts: { in: number; kept: number; by_reason: Record<RejectReason, number>; sentence_count_mismatch: Record<string, number> };
}

export function applyFilters(cands: readonly Candidate[]): FilterResult {
  const seen = new Set<string>();
  const kept: Candidate[] = [];
  const rejected: FilterResult["rejected"] = [];
  const by_reason: Record<RejectReason, number> = { target_not_alphabetic: 0, target_in_question: 0, target_in_question_letters: 0, duplicate: 0 };
  const sentence_count_mismatch: Record<string, number> = { creative: 0, ood: 0 };
  for (const c of cands) {
    const reason = seen.has(c.candidate_id) ? "duplicate" : rejectReason(c);
    seen.add(c.candidate_id);
    if (reason) {
      by_reason[reason]++;
      rejected.push({ candidate_id: c.candidate_id, category: c.category, reason });
      continue;
    }
    if (sentenceCountOk(c) === false) sentence_count_mismatch[c.category]++;
    kept.push(c);
  }
  return { kept, rejected, counts: { in: cands.length, kept: kept.length, by_reason, sentence_count_mismatch } };
}
