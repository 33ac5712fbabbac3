/**
 * The unit record: one line of runs/units.jsonl per prompt × condition, written by `run` when the prompt
 * is done (before its progress marker) and the only thing `analyze` reads besides the traces it names.
 * It carries what run knew so that no later stage re-derives it: the exact model input (text and ids),
 * the negative prompt's token spans, S(X) after the prompt and after the decision input, the greedy
 * answer with its decision step, both conditions' outcome, P_sem and the trace file.
 */
import { z } from "zod";
import { decisionInput } from "../metrics/logitLens.ts";
import { Category, Condition, Outcome } from "../schemas.ts";

const Ids = z.array(z.number().int());
const TokenRange = z.tuple([z.number().int(), z.number().int()]);

/** S(X) token sequences after some context, and their first tokens (deduplicated, first-seen order). */
export const SxSet = z.object({ sequences: z.array(Ids), first: Ids });
export type SxSet = z.infer<typeof SxSet>;

export const UnitRecord = z.object({
  prompt_id: z.string(),
  condition: Condition,
  category: Category,
  target_word: z.string(),
  question_text: z.string(),
  prompt_format: z.enum(["raw", "chat"]),
  /** The exact model input: the built prompt text (chat rendering included) and its ids (BOS included). */
  prompt_text: z.string(),
  prompt_ids: Ids,
  /** Negative prompt only: half-open token ranges of instruction / negation / target / question. */
  spans: z
    .object({ instruction: TokenRange, negation: TokenRange, target: TokenRange, question: TokenRange })
    .nullable(),
  greedy: z.object({
    token_ids: Ids,
    text: z.string(),
    present: z.boolean(),
    /** Generation step of the first token of the first match; 0 when X is absent. */
    decision_step: z.number().int().nonnegative(),
  }),
  /** This condition's own greedy outcome. */
  own_outcome: Outcome,
  /** The negative prompt's greedy outcome, shared by both conditions' units (figure 5's grouping). */
  outcome: Outcome,
  /** S(X) after prompt_ids (P_sem, patching) and after the decision input (logit lens, decomposition). */
  sx_prompt: SxSet,
  sx_decision: SxSet,
  /** P_sem of this condition's prompt; p0 is the baseline's (the pressure), bin its pressure bin. */
  p_sem: z.number(),
  p0: z.number(),
  bin: z.number().int(),
  seed: z.number().int(),
  samples: z.object({ n: z.number().int(), violations: z.number().int() }),
  /** Trace file relative to the runs directory, and what it holds ("decision": attention rows at the decision step). */
  trace: z.object({ file: z.string(), mode: z.enum(["decision", "full"]) }),
});
export type UnitRecord = z.infer<typeof UnitRecord>;

/** The decision input: prompt ids followed by the greedy tokens before the decision step. */
export function decisionIds(u: Pick<UnitRecord, "prompt_ids" | "greedy">): number[] {
  return decisionInput(u.prompt_ids, u.greedy.token_ids, u.greedy.decision_step);
}
