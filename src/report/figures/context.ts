/** What every figure builder receives: the computed tables, the per-prompt join and the raw run data. */
import type { RunData } from "../load.ts";
import type { Tables } from "../tables.ts";
import type { PromptView } from "../views.ts";

export interface FigureContext {
  tables: Tables;
  views: PromptView[];
  data: RunData;
  edges: readonly number[];
}

/** Formats an estimate with its CI as "0.42 [0.38, 0.47]". */
export function fmtCI(e: { estimate: number | null; ci_low: number | null; ci_high: number | null }, digits = 2): string {
  const f = (v: number | null) => (v === null ? "n/a" : v.toFixed(digits));
  return `${f(e.estimate)} [${f(e.ci_low)}, ${f(e.ci_high)}]`;
}

/** A stable pseudo-random offset in [-0.5, 0.5) from a string (for jittering dots). */
export function jitter(id: string): number {
  let h = 2166136261;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619);
  return ((h >>> 0) / 4294967296) - 0.5;
}
