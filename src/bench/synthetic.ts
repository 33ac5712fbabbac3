/**
 * Synthetic prompts with the design's exact templates and realistic lengths, for throughput only: the
 * question/answer pairs cycle, each prompt gets its own id. They pass the run stage's schema; their
 * validation fields and P0 are placeholders (the bench never selects or validates).
 */
import type { PromptRecord } from "../schemas.ts";

const ITEMS: [category: PromptRecord["category"], template: string, question: string, target: string][] = [
  ["facts", "F1", "Fill the blank with one word: The capital of France is ____.", "Paris"],
  ["facts", "F2", "One-word answer: Japan's capital is ____.", "Tokyo"],
  ["facts", "F3", "Complete with one word: The currency of Japan is ____.", "yen"],
  ["facts", "F4", "One-word answer: An official language of Brazil is ____.", "Portuguese"],
  ["facts", "F5", "Fill the blank (one word): Kenya is in ____.", "Africa"],
  ["idioms", "I1", 'Complete the idiom with one word: "Actions speak louder than ____"', "words"],
  ["idioms", "I2", "Fill the blank (one word): The early bird catches the ____", "worm"],
  ["commonsense", "C1", "Fill the blank (one word): You use a knife to ____.", "cut"],
  ["commonsense", "C5", "Fill the blank (one word): You usually find a fish in the ____.", "water"],
  ["commonsense", "C7", "Fill the blank (one word): A violin is used by a ____.", "musician"],
  ["creative", "K1", "Fill the blank with one word: The lighthouse keeper climbed the stairs every night. At the top he lit the great ____.", "lamp"],
  ["ood", "O1", "Fill the blank with one word: According to the ritual manual, you must say ____ before you enter.", "hello"],
];

export function syntheticPrompts(n: number): PromptRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const [category, template_id, question_text, target_word] = ITEMS[i % ITEMS.length];
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
      validation: {
        is_one_word_answer_enforced: true,
        best_one_word_answer: target_word,
        top3_one_word_answers: [target_word],
        is_X_best: true,
        ambiguity_score: 0,
        leaks_answer: false,
        naturalness_score: 9,
        comments: "",
      },
      v_score: 100,
      p0: 0.5,
      p0_plain: 0.5,
      s_score: 150,
      bin: 2,
      prompt_format: "raw",
    };
  });
}
