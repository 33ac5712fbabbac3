/**
 * The unit explorer's data (pure): one table row per prompt × condition (what the explorer searches and
 * sorts, parsed when the page opens) and one detail record per unit (prompt, greedy answer, samples with
 * the detector's match spans, S(X), attention shares by layer, logit-lens curve), parsed only when the
 * unit is opened. Numbers are rounded to what the page shows, to keep a paper-scale page small.
 */
import { promptRegions } from "../../prompts/promptBuilder.ts";
import type { SxSet, UnitRecord } from "../../run/units.ts";
import type { AttentionRow, DetectionRecord, LogitLensRow, MatchRecord } from "../../schemas.ts";
import { groupBy } from "../views.ts";

/** One row of the explorer's table. Short keys: the index of a paper-scale run holds 5,000 of them. */
export interface ExplorerRow {
  /** Unit key `${prompt_id}|${condition}`. */
  k: string;
  id: string;
  c: UnitRecord["condition"];
  cat: string;
  x: string;
  p0: number;
  /** P_sem of this condition's prompt. */
  ps: number;
  bin: number;
  /** The negative prompt's greedy outcome (shared by both conditions); own: this condition's. */
  o: UnitRecord["outcome"];
  own: UnitRecord["own_outcome"];
  /** Samples containing X, of n. */
  v: number;
  n: number;
  q: string;
  /** Chunk holding the unit's detail, and its position in the chunk. */
  ch: number;
  at: number;
}

/** A detector match as [char_start, char_end, token_start, token_end]: chars half-open, generated-token indices inclusive (detect/detector.ts). */
export type MatchTuple = [number, number, number | null, number | null];
type Region = [number, number] | null;

export interface UnitDetail {
  k: string;
  id: string;
  c: UnitRecord["condition"];
  x: string;
  cat: string;
  prompt: string;
  /** Character ranges of instruction / negation / target / question in `prompt` (null: not found verbatim). */
  regions: { instruction: Region; negation: Region; target: Region; question: Region } | null;
  /** Token ranges of the same parts (UnitRecord.spans), negative prompt only. */
  spans: UnitRecord["spans"];
  n_prompt_tokens: number;
  greedy: { text: string; step: number; present: boolean; ids: number[]; m: MatchTuple[] | null };
  samples: { i: number; text: string; present: boolean; m: MatchTuple[] }[];
  sx: { prompt: SxSet; decision: SxSet };
  /** Attention at the decision step by layer as shares of M(instruction) + M(question); null without rows. */
  attn: AttentionShares | null;
  lens: { layers: number[]; mass: number[] } | null;
  p_sem: number;
  p0: number;
  bin: number;
  o: UnitRecord["outcome"];
  own: UnitRecord["own_outcome"];
  seed: number;
  trace: string;
}

export interface AttentionShares {
  layers: number[];
  instruction: number[];
  negation: number[];
  target: number[];
  question: number[];
}

export interface ExplorerInputs {
  units: readonly UnitRecord[];
  /** Sampled completions' detection records (runs/detection_mapping.jsonl), both conditions. */
  sampleDetections: readonly DetectionRecord[];
  greedyDetections: readonly DetectionRecord[];
  /** Layer-scope rows are used; other scopes are ignored. */
  attention: readonly AttentionRow[];
  logitLens: readonly LogitLensRow[];
}

export interface ExplorerModel {
  rows: ExplorerRow[];
  /** details[ch][at] is the detail of the row with that chunk and position. */
  chunks: UnitDetail[][];
}

/** Units per embedded chunk: opening a unit parses one chunk (≈ 50 units, a few hundred kB at most). */
export const CHUNK_SIZE = 50;

/** v to 4 significant digits (as a number), so JSON stays short. */
export function sig(v: number, digits = 4): number {
  return Number.isFinite(v) ? Number(v.toPrecision(digits)) : v;
}

const keyOf = (r: { prompt_id: string; condition: string }) => `${r.prompt_id}|${r.condition}`;

export function matchTuples(ms: readonly MatchRecord[]): MatchTuple[] {
  return ms.map((m) => [m.char_start, m.char_end, m.token_start, m.token_end]);
}

/**
 * attention_metrics.csv records ratios (IAR = I/(I+Q), NF = N/I, TMF = T/I, with I, N, T, Q the span
 * masses), not the masses. Dividing every mass by I + Q recovers them up to that one factor:
 * instruction = IAR, question = 1 − IAR, negation = NF·IAR, target = TMF·IAR (ε ignored).
 */
export function attentionShares(r: Pick<AttentionRow, "iar" | "nf" | "tmf">): { instruction: number; negation: number; target: number; question: number } {
  return { instruction: r.iar, question: 1 - r.iar, negation: r.nf * r.iar, target: r.tmf * r.iar };
}

function sharesByLayer(rows: readonly AttentionRow[] | undefined): AttentionShares | null {
  const layer = (rows ?? []).filter((r) => r.scope === "layer").sort((a, b) => a.layer - b.layer);
  if (!layer.length) return null;
  const out: AttentionShares = { layers: [], instruction: [], negation: [], target: [], question: [] };
  for (const r of layer) {
    const s = attentionShares(r);
    out.layers.push(r.layer);
    for (const k of ["instruction", "negation", "target", "question"] as const) out[k].push(sig(s[k]));
  }
  return out;
}

function regionsOf(u: UnitRecord): UnitDetail["regions"] {
  try {
    const r = promptRegions(u.prompt_text, u.question_text, u.condition, u.condition === "negative" ? u.target_word : undefined);
    const t = (x: { start: number; end: number } | null): Region => (x ? [x.start, x.end] : null);
    return { instruction: t(r.instruction), negation: t(r.negation), target: t(r.target), question: t(r.question) };
  } catch {
    return null; // a prompt that does not contain the raw prompt verbatim: shown without regions
  }
}

/** Rows sorted by prompt id then condition; details chunked in that order. */
export function explorerModel(inp: ExplorerInputs, chunkSize = CHUNK_SIZE): ExplorerModel {
  const samples = groupBy(inp.sampleDetections, keyOf);
  const greedy = new Map(inp.greedyDetections.map((d) => [keyOf(d), d]));
  const attention = groupBy(inp.attention, keyOf);
  const lens = groupBy(inp.logitLens, keyOf);
  const units = [...inp.units].sort((a, b) => (a.prompt_id < b.prompt_id ? -1 : a.prompt_id > b.prompt_id ? 1 : a.condition.localeCompare(b.condition)));
  const rows: ExplorerRow[] = [];
  const chunks: UnitDetail[][] = [];
  units.forEach((u, i) => {
    const k = keyOf(u);
    const ch = Math.floor(i / chunkSize);
    const at = i % chunkSize;
    rows.push({
      k, id: u.prompt_id, c: u.condition, cat: u.category, x: u.target_word, p0: sig(u.p0, 6), ps: sig(u.p_sem, 6), bin: u.bin,
      o: u.outcome, own: u.own_outcome, v: u.samples.violations, n: u.samples.n, q: u.question_text, ch, at,
    });
    const ss = [...(samples.get(k) ?? [])].sort((a, b) => (a.sample_index ?? -1) - (b.sample_index ?? -1));
    const lr = [...(lens.get(k) ?? [])].sort((a, b) => a.layer - b.layer);
    const g = greedy.get(k);
    (chunks[ch] ??= []).push({
      k, id: u.prompt_id, c: u.condition, x: u.target_word, cat: u.category,
      prompt: u.prompt_text,
      regions: regionsOf(u),
      spans: u.spans,
      n_prompt_tokens: u.prompt_ids.length,
      greedy: { text: u.greedy.text, step: u.greedy.decision_step, present: u.greedy.present, ids: u.greedy.token_ids, m: g ? matchTuples(g.matches) : null },
      samples: ss.map((d) => ({ i: d.sample_index ?? -1, text: d.text, present: d.present, m: matchTuples(d.matches) })),
      sx: { prompt: u.sx_prompt, decision: u.sx_decision },
      attn: sharesByLayer(attention.get(k)),
      lens: lr.length ? { layers: lr.map((r) => r.layer), mass: lr.map((r) => sig(r.mass)) } : null,
      p_sem: u.p_sem, p0: u.p0, bin: u.bin, o: u.outcome, own: u.own_outcome, seed: u.seed, trace: u.trace.file,
    });
  });
  return { rows, chunks };
}
