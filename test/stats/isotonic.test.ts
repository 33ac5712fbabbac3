import { test } from "node:test";
import assert from "node:assert/strict";
import { isotonicBlocks, type WeightedPoint } from "../../src/stats/isotonic.ts";

/** Test helper: the fitted value at each input point, in input order, read off isotonicBlocks. */
function isotonicFit(points: readonly WeightedPoint[]): number[] {
  const blocks = isotonicBlocks(points);
  return points.map((p) => {
    for (const b of blocks) if (p.x <= b.xMax) return b.y;
    return blocks.length ? blocks[blocks.length - 1].y : NaN;
  });
}

test("an already increasing sequence is left unchanged", () => {
  const pts = [1, 2, 3, 4].map((y, i) => ({ x: i, y }));
  assert.deepEqual(isotonicFit(pts), [1, 2, 3, 4]);
});

test("violators are pooled to their weighted mean", () => {
  const fit = isotonicFit([
    { x: 0, y: 1 },
    { x: 1, y: 3 },
    { x: 2, y: 2, w: 3 },
    { x: 3, y: 4 },
  ]);
  assert.deepEqual(fit, [1, 2.25, 2.25, 4]);
});

test("the fit is non-decreasing and preserves the weighted mean", () => {
  const pts = Array.from({ length: 50 }, (_, i) => ({ x: (i * 37) % 50, y: Math.sin(i) + i / 25, w: 1 + (i % 4) }));
  const blocks = isotonicBlocks(pts);
  for (let i = 1; i < blocks.length; i++) assert.ok(blocks[i].y >= blocks[i - 1].y);
  const fit = isotonicFit(pts);
  const sw = pts.reduce((a, p) => a + p.w, 0);
  const m0 = pts.reduce((a, p) => a + p.w * p.y, 0) / sw;
  const m1 = pts.reduce((a, p, i) => a + p.w * fit[i], 0) / sw;
  assert.ok(Math.abs(m0 - m1) < 1e-12);
});

test("equal x values get one fitted value", () => {
  const fit = isotonicFit([
    { x: 1, y: 5 },
    { x: 1, y: 1 },
    { x: 2, y: 4 },
  ]);
  assert.equal(fit[0], fit[1]);
  assert.equal(fit[0], 3);
});
