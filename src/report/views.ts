/**
 * Per-prompt join of P_sem and behaviour, the unit every bootstrap resamples, plus small grouping
 * helpers shared by the tables and the figures.
 */
import type { BehaviorRow, Outcome } from "../schemas.ts";
import { binOf } from "../stats/bins.ts";
import type { RunData } from "./load.ts";

export interface PromptView {
  prompt_id: string;
  category: string;
  target_word: string;
  /** Bin of P0 by the configured edges (recomputed, so labels and members always agree). */
  bin: number;
  p0: number;
  p1: number;
  delta: number;
  rel: number;
  logRatio: number;
  base?: BehaviorRow;
  neg?: BehaviorRow;
  /** Greedy outcome under the prohibition: failure when the greedy answer contains X. */
  outcome: Outcome | null;
}

export function promptViews(data: RunData, edges: readonly number[]): PromptView[] {
  const beh = new Map<string, { base?: BehaviorRow; neg?: BehaviorRow }>();
  for (const b of data.behavior) {
    const e = beh.get(b.prompt_id) ?? {};
    if (b.condition === "baseline") e.base = b;
    else e.neg = b;
    beh.set(b.prompt_id, e);
  }
  return data.psem
    .map((r) => {
      const b = beh.get(r.prompt_id) ?? {};
      return {
        prompt_id: r.prompt_id,
        category: r.category,
        target_word: r.target_word,
        bin: binOf(r.p0, edges),
        p0: r.p0,
        p1: r.p1,
        delta: r.delta,
        rel: r.rel_suppression,
        logRatio: r.log_ratio,
        base: b.base,
        neg: b.neg,
        outcome: b.neg ? (b.neg.greedy_violation ? "failure" : "success") : null,
      } satisfies PromptView;
    })
    .sort((a, b) => (a.prompt_id < b.prompt_id ? -1 : a.prompt_id > b.prompt_id ? 1 : 0));
}

/** Groups items by a key, keys in first-seen order. */
export function groupBy<T, K>(items: readonly T[], key: (t: T) => K): Map<K, T[]> {
  const m = new Map<K, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = m.get(k);
    if (list) list.push(it);
    else m.set(k, [it]);
  }
  return m;
}

export type Band = "early" | "middle" | "late";
export const BANDS: readonly Band[] = ["early", "middle", "late"];

/** Thirds of the layer range [0, nLayers): early, middle, late. */
export function bandOf(layer: number, nLayers: number): Band {
  if (layer < nLayers / 3) return "early";
  if (layer < (2 * nLayers) / 3) return "middle";
  return "late";
}

/** Inclusive layer range of a band. */
export function bandRange(band: Band, nLayers: number): [number, number] {
  const ls = Array.from({ length: nLayers }, (_, l) => l).filter((l) => bandOf(l, nLayers) === band);
  return ls.length ? [ls[0], ls[ls.length - 1]] : [NaN, NaN];
}

export const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
