/**
 * Isotonic (monotone non-decreasing) regression by pool-adjacent-violators: the weighted
 * least-squares fit of y on x under the order constraint. Used to draw a shape-free companion to
 * the logistic curve.
 */

export interface WeightedPoint {
  x: number;
  y: number;
  /** Weight, default 1 (e.g. samples per prompt). */
  w?: number;
}

/** One pooled block: constant fitted value over [xMin, xMax]. */
export interface IsoBlock {
  xMin: number;
  xMax: number;
  y: number;
  w: number;
  count: number;
}

/**
 * Fits a non-decreasing step function. Points are sorted by x (ties pooled so equal x get one
 * value); returns blocks in increasing x order.
 */
export function isotonicBlocks(points: readonly WeightedPoint[]): IsoBlock[] {
  const sorted = points
    .filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && (p.w ?? 1) > 0)
    .slice()
    .sort((a, b) => a.x - b.x);
  const blocks: IsoBlock[] = [];
  for (const p of sorted) {
    const w = p.w ?? 1;
    let cur: IsoBlock = { xMin: p.x, xMax: p.x, y: p.y, w, count: 1 };
    const top = blocks[blocks.length - 1];
    if (top && top.xMax === p.x) {
      blocks.pop();
      cur = merge(top, cur);
    }
    blocks.push(cur);
    while (blocks.length > 1 && blocks[blocks.length - 2].y > blocks[blocks.length - 1].y) {
      const b = blocks.pop()!;
      const a = blocks.pop()!;
      blocks.push(merge(a, b));
    }
  }
  return blocks;
}

function merge(a: IsoBlock, b: IsoBlock): IsoBlock {
  const w = a.w + b.w;
  return { xMin: a.xMin, xMax: b.xMax, y: (a.y * a.w + b.y * b.w) / w, w, count: a.count + b.count };
}
