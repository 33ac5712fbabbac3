/**
 * What the run and analyze stages need at run time: a sidecar, its hello facts and the matching
 * tokenizer. Tests pass the MockSidecar with its toy tokenizer; the CLI connects the real sidecar and
 * builds the tokenizer from hello's tokenizer.json (./connect.ts).
 */
import type { Config } from "../config.ts";
import { buildPrompt, formatPrompts } from "../prompts/promptBuilder.ts";
import type { SidecarBase } from "../rpc/ops.ts";
import type { HelloResult } from "../rpc/protocol.ts";
import type { Condition, PromptRecord } from "../schemas.ts";
import type { Tokenizer } from "../tokenizer/hfTokenizer.ts";

export interface RunEnv {
  sidecar: SidecarBase;
  hello: HelloResult;
  tokenizer: Tokenizer;
}

export interface BuiltPrompt {
  /** Exact model input text (chat-wrapped for the chat format). */
  text: string;
  /** The raw prompt text (the user turn in chat format). */
  raw: string;
}

/** Baseline/negative prompt texts under the configured prompt format, in input order (one chat_template call). */
export async function buildPrompts(
  cfg: Pick<Config, "model">,
  env: Pick<RunEnv, "sidecar">,
  items: readonly { rec: PromptRecord; condition: Condition }[],
): Promise<BuiltPrompt[]> {
  const raw = items.map((i) => buildPrompt(i.rec.question_text, i.condition, i.rec.target_word));
  const text = await formatPrompts(env.sidecar, raw, cfg.model.promptFormat, cfg.model.systemMessage);
  return raw.map((r, k) => ({ raw: r, text: text[k] }));
}
