/**
 * Attention vs FFN decomposition per layer (pure part). The sidecar's `decompose` op returns
 * probs[l][stage][k] for layer l, stage 0 = h_in (resid_pre), 1 = h_in + attn_out, 2 = resid_post, each
 * through the final norm and unembedding, at the S(X) first tokens. Per layer:
 *   p_in, p_attn, p_out = Σ_k over the three stages;  attn_contrib = p_attn − p_in;  ffn_contrib = p_out − p_attn.
 */
import type { Condition, DecompRow, Outcome } from "../schemas.ts";
import { massOf } from "./logitLens.ts";

export function decompRows(
  key: { prompt_id: string; condition: Condition; outcome: Outcome },
  probs: readonly (readonly (readonly number[])[])[],
): DecompRow[] {
  return probs.map((stages, layer) => {
    if (stages.length !== 3) throw new RangeError(`decompose layer ${layer}: expected 3 stages, got ${stages.length}`);
    const p_in = massOf(stages[0]);
    const p_attn = massOf(stages[1]);
    const p_out = massOf(stages[2]);
    return { ...key, layer, p_in, p_attn, p_out, attn_contrib: p_attn - p_in, ffn_contrib: p_out - p_attn };
  });
}

export const DECOMP_COLUMNS = ["prompt_id", "condition", "outcome", "layer", "p_in", "p_attn", "p_out", "attn_contrib", "ffn_contrib"] as const;
