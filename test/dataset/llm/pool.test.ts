import { strict as assert } from "node:assert";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Gate, runPool } from "../../../src/dataset/llm/pool.ts";

test("when the pool runs then no more than n tasks are in flight and every item is done", async () => {
  let live = 0;
  let peak = 0;
  const done: number[] = [];
  await runPool([...Array(20).keys()], 3, async (i) => {
    peak = Math.max(peak, ++live);
    await sleep(2 + (i % 4));
    live--;
    done.push(i);
  });
  assert.equal(peak, 3);
  assert.deepEqual(done.sort((a, b) => a - b), [...Array(20).keys()]);
});

test("when a task fails then the others are told to stop, nothing new starts, and that error is thrown", async () => {
  const started: number[] = [];
  let aborted = 0;
  await assert.rejects(
    runPool([...Array(50).keys()], 4, async (i, signal) => {
      started.push(i);
      if (i === 5) throw new Error("boom");
      try {
        await sleep(50, undefined, { signal });
      } catch {
        aborted++;
      }
    }),
    /boom/,
  );
  assert.ok(started.length < 10, `started ${started.length}`);
  assert.ok(aborted >= 1);
});

test("when the gate is held then passing waits until the hold is over", async () => {
  const g = new Gate();
  const t0 = Date.now();
  await g.pass();
  assert.ok(Date.now() - t0 < 20);
  g.hold(120);
  g.hold(30);
  await g.pass();
  assert.ok(Date.now() - t0 >= 115, `waited ${Date.now() - t0} ms`);
});
