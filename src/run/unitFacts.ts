/**
 * What run works out once per unit so that analyze never re-derives it: the prompt's per-token
 * character offsets (for the negative prompt's spans) and S(X) after a given context.
 */
import { firstTokens } from "../metrics/logitLens.ts";
import { codePointToUtf16, offsetsByDecode, tokenSpans, type Range, type Spans } from "../metrics/spans.ts";
import { variantSequences } from "../metrics/variants.ts";
import { InputError } from "../errors.ts";
import type { RunEnv } from "./env.ts";
import type { SxSet } from "./units.ts";

/**
 * Per-token UTF-16 offsets of the prompt: by prefix decoding when decode reproduces the text (byte-level
 * BPE tokenizers do), else from the sidecar's tokenize op (code points, converted), whose ids must be
 * the prompt's ids.
 */
export async function promptOffsets(env: Pick<RunEnv, "tokenizer" | "sidecar">, allIds: readonly number[], text: string): Promise<Range[]> {
  // Leading special tokens added in front of the text (BOS, see Tokenizer.encodePrompt) cover no characters.
  const plain = env.tokenizer.encode(text);
  const lead = allIds.length - plain.length;
  if (lead > 0 && allIds.slice(lead).join(",") === plain.join(",")) {
    const rest = await promptOffsets(env, plain, text);
    return [...Array.from({ length: lead }, (): Range => [0, 0]), ...rest];
  }
  const dec = (x: readonly number[]) => env.tokenizer.decode(x, { skipSpecialTokens: false });
  if (dec(allIds) === text) return offsetsByDecode(dec, allIds);
  const t = await env.sidecar.tokenize([text]);
  if (t.ids[0].join(",") !== allIds.join(",")) throw new InputError("the sidecar tokenizes the prompt differently from the prompt ids");
  return codePointToUtf16(text, t.offsets[0] as Range[]);
}

/** Token spans (instruction / negation / target / question) of a negative prompt's exact model input. */
export async function negativeSpans(
  env: Pick<RunEnv, "tokenizer" | "sidecar">,
  ids: readonly number[],
  text: string,
  target: string,
  question: string,
): Promise<Spans> {
  return tokenSpans(text, target, question, await promptOffsets(env, ids, text));
}

/** S(X) token sequences after exactly these context ids (the context's text is their decode). */
export function sxAfter(env: Pick<RunEnv, "tokenizer">, contextIds: readonly number[], target: string): SxSet {
  const text = env.tokenizer.decode(contextIds, { skipSpecialTokens: false });
  const sequences = variantSequences(env.tokenizer, text, target, contextIds).sequences.map((v) => v.ids);
  return { sequences, first: firstTokens(sequences) };
}
