/**
 * The real P0 probe: the baseline prompt of each candidate (src/prompts/promptBuilder.ts, formatted
 * raw or chat), P_sem of its target through src/metrics/psem.ts against the sidecar.
 */
import { psemBatch } from "../metrics/psem.ts";
import { buildPrompt, formatPrompts, type PromptFormat } from "../prompts/promptBuilder.ts";
import type { Sidecar } from "../rpc/protocol.ts";
import type { Tokenizer } from "../tokenizer/hfTokenizer.ts";
import type { P0Probe } from "./probe.ts";

export function sidecarProbe(sidecar: Sidecar, tokenizer: Tokenizer, format: PromptFormat, system: string | null, modelName = "sidecar"): P0Probe {
  const f = async (items: readonly { question_text: string; target_word: string }[]) => {
    const raw = items.map((it) => buildPrompt(it.question_text, "baseline"));
    const prompts = await formatPrompts(sidecar, raw, format, system);
    const res = await psemBatch(
      sidecar,
      tokenizer,
      prompts.map((prompt, i) => ({ prompt, target: items[i].target_word })),
    );
    return res.map((r) => ({ p0: r.p_sem, p0_plain: r.p_sem_plain }));
  };
  return Object.assign(f, { probeName: `psem(${modelName}, ${format})` });
}
