/**
 * Attention routing at the decision step (pure). For one query row a (the attention of the decision
 * step's query over all key positions) and a token span S, M(S) = Σ_{i∈S} a[i]. Then
 *   IAR = M(instr) / (M(instr) + M(question) + ε)     instruction attention ratio
 *   NF  = M(neg) / (M(instr) + ε)                     negation focus
 *   TMF = M(target) / (M(instr) + ε)                  target-mention focus
 *   PI  = TMF − NF                                    priming index
 * with ε = 1e-9 (config analysis.epsilon).
 *
 * Scopes:
 *   head   — the formulas on one head's row;
 *   layer  — the formulas on the layer's masses averaged over its heads, M_ℓ(S) = mean_h M_{ℓ,h}(S)
 *            (equivalently: on the head-averaged attention row), not a mean of per-head ratios, so a
 *            head that barely looks at the instruction cannot blow the ratio up;
 *   global — the same on masses averaged over every layer and head.
 */
import type { AttentionRow, Condition, Outcome } from "../schemas.ts";
import type { Range, Spans } from "./spans.ts";

export const EPSILON = 1e-9;

export interface SpanMasses {
  instruction: number;
  negation: number;
  target: number;
  question: number;
}

export interface RoutingMetrics {
  iar: number;
  nf: number;
  tmf: number;
  pi: number;
}

/** Σ row[i] for i in [s, e). */
export function spanMass(row: ArrayLike<number>, [s, e]: Range): number {
  let m = 0;
  for (let i = s; i < e && i < row.length; i++) m += row[i];
  return m;
}

export function massesOf(row: ArrayLike<number>, spans: Spans): SpanMasses {
  return {
    instruction: spanMass(row, spans.instruction),
    negation: spanMass(row, spans.negation),
    target: spanMass(row, spans.target),
    question: spanMass(row, spans.question),
  };
}

export function routingMetrics(m: SpanMasses, eps = EPSILON): RoutingMetrics {
  const iar = m.instruction / (m.instruction + m.question + eps);
  const nf = m.negation / (m.instruction + eps);
  const tmf = m.target / (m.instruction + eps);
  return { iar, nf, tmf, pi: tmf - nf };
}

export function meanMasses(ms: readonly SpanMasses[]): SpanMasses {
  const n = ms.length || 1;
  const out: SpanMasses = { instruction: 0, negation: 0, target: 0, question: 0 };
  for (const m of ms) {
    out.instruction += m.instruction;
    out.negation += m.negation;
    out.target += m.target;
    out.question += m.question;
  }
  out.instruction /= n;
  out.negation /= n;
  out.target /= n;
  out.question /= n;
  return out;
}

/** Decision-step rows: rows(layer, head) returns that head's attention over key positions. */
export interface DecisionRows {
  nLayers: number;
  nHeads: number;
  row(layer: number, head: number): ArrayLike<number>;
}

export interface AttentionKey {
  prompt_id: string;
  condition: Condition;
  outcome: Outcome;
}

/** Every head row, then one row per layer (head = -1), then one global row (layer = head = -1). */
export function attentionRows(key: AttentionKey, rows: DecisionRows, spans: Spans, eps = EPSILON): AttentionRow[] {
  const out: AttentionRow[] = [];
  const all: SpanMasses[] = [];
  const layerRows: AttentionRow[] = [];
  for (let l = 0; l < rows.nLayers; l++) {
    const heads: SpanMasses[] = [];
    for (let h = 0; h < rows.nHeads; h++) {
      const m = massesOf(rows.row(l, h), spans);
      heads.push(m);
      all.push(m);
      out.push({ ...key, scope: "head", layer: l, head: h, ...routingMetrics(m, eps) });
    }
    layerRows.push({ ...key, scope: "layer", layer: l, head: -1, ...routingMetrics(meanMasses(heads), eps) });
  }
  out.push(...layerRows);
  out.push({ ...key, scope: "global", layer: -1, head: -1, ...routingMetrics(meanMasses(all), eps) });
  return out;
}

export const ATTENTION_COLUMNS = ["prompt_id", "condition", "outcome", "scope", "layer", "head", "iar", "nf", "tmf", "pi"] as const;
