/**
 * What the data supports. One place for the two rules every figure and table follows:
 *  - a P0 bin (or bin × outcome cell) with fewer than MIN_BIN_PROMPTS prompts is *sparse*: its
 *    numbers stay in tables.json, flagged, it is drawn hollow, and no per-bin claim or comparison
 *    uses it;
 *  - a fitted curve is drawn, and quoted, only over the P0 range of the prompts it was fitted to.
 */

/** Fewest prompts in a bin for the bin to carry a per-bin claim (and a filled marker). */
export const MIN_BIN_PROMPTS = 3;

/** True when a bin with `nPrompts` prompts is too thin for a per-bin claim. */
export function isSparse(nPrompts: number): boolean {
  return nPrompts < MIN_BIN_PROMPTS;
}

/** The observed range of a fit's x values; null when there is none. */
export interface Range {
  min: number;
  max: number;
}

export function observedRange(xs: readonly number[]): Range | null {
  let min = Infinity;
  let max = -Infinity;
  for (const x of xs) {
    if (!Number.isFinite(x)) continue;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  return min <= max ? { min, max } : null;
}

/** True when x lies inside the range (endpoints included, with a tolerance for float noise). */
export function inRange(x: number, r: Range | null, tol = 1e-12): boolean {
  return r !== null && x >= r.min - tol && x <= r.max + tol;
}

/** `n` evenly spaced points from r.min to r.max (both included); one point when the range is a point. */
export function spanGrid(r: Range, n = 101): number[] {
  if (r.max <= r.min) return [r.min];
  return Array.from({ length: n }, (_, i) => (i === n - 1 ? r.max : r.min + ((r.max - r.min) * i) / (n - 1)));
}

/** Human wording of the sparse rule, used by the report text and tables.json. */
export const SPARSE_RULE = `bins with fewer than ${MIN_BIN_PROMPTS} prompts are sparse: kept in the tables but flagged, drawn hollow, and left out of every per-bin claim or comparison`;
