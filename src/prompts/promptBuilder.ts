/**
 * The two experimental prompts, byte-exact as DESIGN.md "Prompts" (lines joined by "\n", no trailing
 * newline):
 *   baseline: Answer with exactly one English word.\nQuestion: {q}\nAnswer:
 *   negative: Answer with exactly one English word.\nDo not use the word "{X}" anywhere in your answer.\nQuestion: {q}\nAnswer:
 *
 * The builder only produces raw text. The chat format is applied in exactly one place, the sidecar's
 * `chat_template` op (the model's own template, the text as the single user turn, generation prompt
 * added, no system message unless configured): `formatPrompt(s)` below.
 */
import { InputError } from "../errors.ts";
import type { Sidecar } from "../rpc/protocol.ts";
import type { Condition } from "../schemas.ts";

export const INSTRUCTION_LINE = "Answer with exactly one English word.";
export const NEGATION_PHRASE = "Do not use";
export type PromptFormat = "raw" | "chat";

/** The prohibition sentence for target X. */
export function prohibitionLine(target: string): string {
  return `${NEGATION_PHRASE} the word "${target}" anywhere in your answer.`;
}

/** Raw prompt text for a question under a condition (target required for "negative"). */
export function buildPrompt(question: string, condition: Condition, target?: string): string {
  if (question.includes("\n")) throw new InputError(`question must be one line: ${JSON.stringify(question)}`);
  const lines = [INSTRUCTION_LINE];
  if (condition === "negative") {
    if (!target) throw new InputError("the negative prompt needs a target word");
    lines.push(prohibitionLine(target));
  }
  lines.push(`Question: ${question}`, "Answer:");
  return lines.join("\n");
}

/** Final prompt texts in the given format; chat goes through the sidecar's chat_template op in one call. */
export async function formatPrompts(
  sidecar: Sidecar,
  texts: string[],
  format: PromptFormat,
  system: string | null = null,
): Promise<string[]> {
  if (format === "raw") return texts.slice();
  if (texts.length === 0) return [];
  return (await sidecar.call("chat_template", { texts, system })).texts;
}

export async function formatPrompt(
  sidecar: Sidecar,
  text: string,
  format: PromptFormat,
  system: string | null = null,
): Promise<string> {
  return (await formatPrompts(sidecar, [text], format, system))[0];
}

/** A character range [start, end) in JS string indices. */
export interface CharRange {
  start: number;
  end: number;
}

/** Where the parts that attention metrics measure lie in a final (raw or chat) prompt text. */
export interface PromptRegions {
  /** The whole prohibition sentence (negative only). */
  instruction: CharRange | null;
  /** "Do not use" (negative only). */
  negation: CharRange | null;
  /** X inside the quotes of the prohibition (negative only). */
  target: CharRange | null;
  /** The question text after "Question: ". */
  question: CharRange;
}

/**
 * Locates the regions of DESIGN.md "Metrics" (instruction, negation, target mention, question) in
 * `finalText`, which is the raw prompt itself or a chat rendering containing it verbatim.
 * JS string indices; convert to token positions with the tokenizer's offsets.
 */
export function promptRegions(finalText: string, question: string, condition: Condition, target?: string): PromptRegions {
  const raw = buildPrompt(question, condition, target);
  const base = finalText.lastIndexOf(raw);
  if (base < 0) throw new InputError("the final prompt does not contain the raw prompt text verbatim");
  const qStart = base + raw.indexOf(`\nQuestion: ${question}\n`) + "\nQuestion: ".length;
  const question_ = { start: qStart, end: qStart + question.length };
  if (condition !== "negative") return { instruction: null, negation: null, target: null, question: question_ };
  const line = prohibitionLine(target as string);
  const iStart = base + INSTRUCTION_LINE.length + 1;
  const tStart = iStart + line.indexOf('"') + 1;
  return {
    instruction: { start: iStart, end: iStart + line.length },
    negation: { start: iStart, end: iStart + NEGATION_PHRASE.length },
    target: { start: tStart, end: tStart + (target as string).length },
    question: question_,
  };
}
