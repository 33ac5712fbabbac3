import { test } from "node:test";
import assert from "node:assert/strict";
import { binOf, binLabel, binMid, checkEdges } from "../../src/stats/bins.ts";

const EDGES = [0, 0.2, 0.4, 0.6, 0.8, 1.0];

test("binOf puts left edges in the upper bin and closes the last bin at 1", () => {
  assert.equal(binOf(0, EDGES), 0);
  assert.equal(binOf(0.1999, EDGES), 0);
  assert.equal(binOf(0.2, EDGES), 1);
  assert.equal(binOf(0.4, EDGES), 2);
  assert.equal(binOf(0.79999, EDGES), 3);
  assert.equal(binOf(0.8, EDGES), 4);
  assert.equal(binOf(1, EDGES), 4);
});

test("binOf clamps values a hair outside the edges and rejects NaN", () => {
  assert.equal(binOf(-1e-12, EDGES), 0);
  assert.equal(binOf(1 + 1e-12, EDGES), 4);
  assert.throws(() => binOf(NaN, EDGES), RangeError);
});

test("binOf follows custom edges", () => {
  assert.equal(binOf(0.5, [0, 0.5, 1]), 1);
  assert.equal(binOf(0.49, [0, 0.5, 1]), 0);
});

test("binLabel marks the last bin closed and binMid is the centre", () => {
  assert.equal(binLabel(0, EDGES), "[0, 0.2)");
  assert.equal(binLabel(4, EDGES), "[0.8, 1]");
  assert.ok(Math.abs(binMid(2, EDGES) - 0.5) < 1e-12);
});

test("checkEdges rejects unsorted or short edge lists", () => {
  assert.throws(() => checkEdges([0.5]), /at least 2/);
  assert.throws(() => checkEdges([0, 0.5, 0.5, 1]), /strictly increasing/);
  checkEdges(EDGES);
});
