/**
 * Per-bin markers: a filled dot for a bin with enough prompts, a hollow (open) dot for a sparse bin
 * (support.ts), so no figure draws a thin bin like a supported one. Each group carries an
 * aria-description naming which kind it is.
 */
import * as Plot from "@observablehq/plot";
import { MIN_BIN_PROMPTS } from "../support.ts";
import type { LegendItem } from "./render.ts";

type Accessor<T> = string | ((d: T) => unknown);

export interface BinDotOptions<T> {
  x: Accessor<T>;
  y: Accessor<T>;
  fx?: Accessor<T>;
  color: string | ((d: T) => string);
  r: number;
  /** What the dots are (e.g. "negative bin mean"); the sparse group gets SPARSE_SUFFIX appended. */
  label: string;
}

export const SPARSE_SUFFIX = `, sparse (fewer than ${MIN_BIN_PROMPTS} prompts)`;

/** Two dot marks: supported bins filled, sparse bins hollow. */
export function binDots<T extends { sparse: boolean }>(rows: readonly T[], o: BinDotOptions<T>): Plot.Markish[] {
  const full = rows.filter((d) => !d.sparse);
  const thin = rows.filter((d) => d.sparse);
  const fx = o.fx === undefined ? {} : { fx: o.fx };
  return [
    Plot.dot(full, { ...fx, x: o.x, y: o.y, fill: o.color, stroke: "white", r: o.r, ariaDescription: o.label } as Plot.DotOptions),
    Plot.dot(thin, { ...fx, x: o.x, y: o.y, fill: "none", stroke: o.color, strokeWidth: 1.8, r: o.r, ariaDescription: o.label + SPARSE_SUFFIX } as Plot.DotOptions),
  ];
}

/** The legend entry explaining hollow markers; none when no bin is sparse. */
export function sparseLegend(rows: readonly { sparse: boolean }[], color: string): LegendItem[] {
  return rows.some((d) => d.sparse) ? [{ label: `Hollow: bin with < ${MIN_BIN_PROMPTS} prompts (no per-bin claim)`, color, kind: "hollow" }] : [];
}
