/**
 * Logit lens at the decision position (pure part). The sidecar's `logit_lens` op returns, for the
 * input prompt + generated[:decision_step] and the last position, probs[l][k] = softmax(unembed(norm(h_l)))
 * at token_ids[k] for l = 0..n_layers (0 = embeddings, n_layers = the model's own output). The mass of
 * S(X) at layer l is Σ_k probs[l][k] over the DISTINCT first tokens of the S(X) sequences: the chance
 * that the next token starts some form of X.
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

export function logitLensRows(
  key: { prompt_id: string; condition: Condition; outcome: Outcome },
  probs: readonly (readonly number[])[],
): LogitLensRow[] {
  return probs.map((p, layer) => ({ ...key, layer, mass: massOf(p) }));
}

export const LOGIT_LENS_COLUMNS = ["prompt_id", "condition", "outcome", "layer", "mass"] as const;
