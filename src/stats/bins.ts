/**
 * Pressure bins shared by the dataset (selection balancing) and the report: with edges
 * e0 < e1 < … < ek, bin i is [e_i, e_{i+1}) and the last bin is closed, [e_{k-1}, e_k]. With the
 * default edges that is [0,.2) [.2,.4) [.4,.6) [.6,.8) [.8,1].
 */
import { ConfigError } from "../errors.ts";

/** Checks that edges are finite and strictly increasing, at least two of them. */
export function checkEdges(edges: readonly number[]): void {
  if (edges.length < 2) throw new ConfigError(`bin edges: need at least 2, got ${edges.length}`);
  for (let i = 0; i < edges.length; i++) {
    if (!Number.isFinite(edges[i])) throw new ConfigError(`bin edges: edge ${i} is not finite`);
    if (i > 0 && edges[i] <= edges[i - 1]) throw new ConfigError(`bin edges: not strictly increasing at ${i}`);
  }
}

/**
 * Bin index of p. Values below the first edge fall in bin 0 and values above the last edge in the
 * last bin (a probability summed in floating point can land a hair outside [0, 1]); NaN throws.
 */
export function binOf(p: number, edges: readonly number[]): number {
  if (Number.isNaN(p)) throw new RangeError("binOf: value is NaN");
  const last = edges.length - 2;
  if (p >= edges[last]) return last;
  for (let i = last - 1; i >= 0; i--) if (p >= edges[i]) return i;
  return 0;
}

/** Number of bins for the edges. */
export function binCount(edges: readonly number[]): number {
  return edges.length - 1;
}

/** Readable label of bin i: "[0.2, 0.4)" or "[0.8, 1]" for the last, closed bin. */
export function binLabel(i: number, edges: readonly number[]): string {
  const lo = edges[i];
  const hi = edges[i + 1];
  const close = i === edges.length - 2 ? "]" : ")";
  return `[${fmtEdge(lo)}, ${fmtEdge(hi)}${close}`;
}

/** Centre of bin i. */
export function binMid(i: number, edges: readonly number[]): number {
  return (edges[i] + edges[i + 1]) / 2;
}

function fmtEdge(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
}
