import { test } from "node:test";
import assert from "node:assert/strict";
import { deriveSeed, Prng } from "../../src/util/prng.ts";

test("one seed gives one sequence; another seed or stream gives another", () => {
  const a = Array.from({ length: 5 }, ((r) => () => r.next())(new Prng(42)));
  const b = Array.from({ length: 5 }, ((r) => () => r.next())(new Prng(42)));
  const c = Array.from({ length: 5 }, ((r) => () => r.next())(new Prng(43)));
  const d = Array.from({ length: 5 }, ((r) => () => r.next())(new Prng(42, "patching")));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.notDeepEqual(a, d);
  for (const x of a) assert.ok(x >= 0 && x < 1);
});

test("shuffle is a seeded permutation and leaves its input alone", () => {
  const xs = Array.from({ length: 50 }, (_, i) => i);
  const s1 = new Prng(7).shuffle(xs);
  assert.deepEqual(new Prng(7).shuffle(xs), s1);
  assert.deepEqual([...s1].sort((p, q) => p - q), xs);
  assert.notDeepEqual(s1, xs);
  assert.equal(xs[0], 0);
});

test("int(n) is roughly uniform over [0, n)", () => {
  const r = new Prng(1);
  const counts = new Array(4).fill(0);
  for (let i = 0; i < 8000; i++) counts[r.int(4)]++;
  for (const c of counts) assert.ok(Math.abs(c - 2000) < 200, String(counts));
});

test("deriveSeed is stable per label and differs across labels", () => {
  assert.equal(deriveSeed(42, "idioms_x_1|negative"), deriveSeed(42, "idioms_x_1|negative"));
  assert.notEqual(deriveSeed(42, "a"), deriveSeed(42, "b"));
  assert.ok(deriveSeed(42, "a") >= 0 && deriveSeed(42, "a") < 2 ** 31);
});
