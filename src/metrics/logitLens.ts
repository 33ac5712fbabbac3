/**
 * Logit lens at the decision position (pure part). The sidecar's `logit_lens` op returns, for the
 * input prompt + generated[:decision_step] and the last position, probs[l][k] = softmax(unembed(norm(h_l)))
 * at token_ids[k] for i = 0..n_layers (0 = embeddings, n_layers = the model's own output). The mass of
 * S(X) is Σ_k probs[i][k] over the DISTINCT first tokens of the S(X) sequences: the chance that the next
 * token starts some form of X. Rows use the CSVs' one layer convention: `layer` = block index, the
 * output of block `layer` (0..n_layers-1, as in ffn_attn_decomp.csv and patching_results.csv), and
 * layer = -1 for the embeddings, before block 0; so row layer = op index i − 1.
 */
import type { Condition, LogitLensRow, Outcome } from "../schemas.ts";

/** Distinct first tokens of the S(X) token sequences, in first-seen order. */
export function firstTokens(sequences: readonly (readonly number[])[]): number[] {
  const seen = new Set<number>();
  const out: number[] = [];
  for (const s of sequences) {
    if (s.length === 0) continue;
    if (!seen.has(s[0])) {
      seen.add(s[0]);
      out.push(s[0]);
    }
  }
  return out;
}

/** Σ_k p[k]. */
export function massOf(probs: readonly number[]): number {
  let m = 0;
  for (const p of probs) m += p;
  return m;
}

/** The ids a lens/decompose/patch item reads at: prompt followed by the greedy tokens before the decision step. */
export function decisionInput(promptIds: readonly number[], generated: readonly number[], decisionStep: number): number[] {
  return [...promptIds, ...generated.slice(0, decisionStep)];
}

/** Layer of the logit-lens row for the embeddings (before block 0). */
export const LENS_EMBEDDINGS_LAYER = -1;

/** One row per op entry: entry i (0 = embeddings) becomes layer i − 1 (the output of block i − 1). */
export function logitLensRows(
  key: { prompt_id: string; condition: Condition; outcome: Outcome },
  probs: readonly (readonly number[])[],
): LogitLensRow[] {
  return probs.map((p, i) => ({ ...key, layer: i + LENS_EMBEDDINGS_LAYER, mass: massOf(p) }));
}

export const LOGIT_LENS_COLUMNS = ["prompt_id", "condition", "outcome", "layer", "mass"] as const;
