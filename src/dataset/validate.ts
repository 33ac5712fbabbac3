/**
 * Validation: one request per candidate (all in one batch), the ValidationReply schema, acceptance
 * and V(p). Pure functions apart from the prompt text.
 */
import type { Config } from "../config.ts";
import type { ValidationReply } from "../schemas.ts";
import { normalizeForMatch } from "../util/normalize.ts";
import type { Candidate } from "./types.ts";

/** Lines the prompt carries verbatim, so a reply (or the demo rule) can be tied back to it. */
export const VALIDATION_MARKERS = {
  question: /^Question: (.*)$/m,
  target: /^Intended answer X: (.*)$/m,
};

export function validationCustomId(c: Pick<Candidate, "candidate_id">): string {
  return `val:${c.candidate_id}`;
}

export function validationPrompt(c: Candidate): string {
  return [
    "You check one fill-in-the-blank prompt for a study of one-word answers. Someone will be asked the question and must answer with exactly one English word.",
    `Question: ${c.question_text}`,
    `Intended answer X: ${c.target_word}`,
    "Judge: does the question force a one-word answer; which single word is the best answer; the top 3 one-word answers in order; is X the best; how ambiguous the question is (0 = only X fits, 10 = many words fit equally); does the question leak X (contain it or give it away); how natural and fluent the question is (0-10).",
    "Reply with a json object with exactly these fields, like this example:",
    JSON.stringify({
      is_one_word_answer_enforced: true,
      best_one_word_answer: "Paris",
      top3_one_word_answers: ["Paris", "Lyon", "Marseille"],
      is_X_best: true,
      ambiguity_score: 1,
      leaks_answer: false,
      naturalness_score: 9,
      comments: "Clear factual cloze.",
    }),
  ].join("\n");
}

type Thresholds = Pick<Config["dataset"], "ambiguityMax" | "naturalnessMin">;

/** Accept iff X is best ∧ ambiguity ≤ max ∧ no leak ∧ one word enforced ∧ naturalness ≥ min. */
export function isAccepted(r: ValidationReply, t: Thresholds): boolean {
  return r.is_X_best && r.ambiguity_score <= t.ambiguityMax && !r.leaks_answer && r.is_one_word_answer_enforced && r.naturalness_score >= t.naturalnessMin;
}

/**
 * "No close alternative in the top 3": no entry of top3 other than X itself (compared normalised), or
 * the validator's own ambiguity score is at most 1 (it lists alternatives but rates them far off).
 */
export function noCloseAlternative(r: ValidationReply, target: string): boolean {
  const x = normalizeForMatch(target);
  const others = r.top3_one_word_answers.map(normalizeForMatch).filter((w) => w !== "" && w !== x);
  return others.length === 0 || r.ambiguity_score <= 1;
}

/**
 * V(p) ∈ [0,100]: +40 X best, +30 no close alternative in top 3, +20 one word enforced, +10 fluent
 * (naturalness ≥ min). A hard fail — any acceptance condition not met — gives 0.
 */
export function vScore(r: ValidationReply, target: string, t: Thresholds): number {
  if (!isAccepted(r, t)) return 0;
  return 40 + (noCloseAlternative(r, target) ? 30 : 0) + 20 + 10;
}
