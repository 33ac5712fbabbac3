/**
 * Synthetic prompts with the design's exact templates and realistic lengths, for throughput only: the
 * question/answer pairs cycle, each prompt gets its own id. They pass the run stage's schema; their
 * validation fields and P0 are placeholders (the bench never selects or validates).
 */
import { readFileSync } from "node:fs";
import type { PromptRecord } from "../schemas.ts";

const ITEMS = JSON.parse(readFileSync(new URL("./synthetic_items.json", import.meta.url), "utf8")) as Pick<
  PromptRecord,
  "category" | "template_id" | "question_text" | "target_word"
>[];

/** A validator's reply that accepts `target` as the one best answer (placeholder for synthetic prompts and tests). */
export function acceptingValidation(target: string): PromptRecord["validation"] {
  return {
    is_one_word_answer_enforced: true,
    best_one_word_answer: target,
    top3_one_word_answers: [target],
    is_X_best: true,
    ambiguity_score: 0,
    leaks_answer: false,
    naturalness_score: 9,
    comments: "",
  };
}

export function syntheticPrompts(n: number): PromptRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const { category, template_id, question_text, target_word } = ITEMS[i % ITEMS.length];
    return {
      prompt_id: `bench_${String(i).padStart(5, "0")}`,
      category,
      question_text,
      target_word,
      target_word_normalized: target_word.toLowerCase(),
      template_id,
      source: "synthetic_bench",
      subject: null,
      relation: null,
      validation: acceptingValidation(target_word),
      v_score: 100,
      p0: 0.5,
      p0_plain: 0.5,
      s_score: 150,
      bin: 2,
      prompt_format: "raw",
    };
  });
}
