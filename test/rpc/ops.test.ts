import { test } from "node:test";
import assert from "node:assert/strict";
import { chunkBySize } from "../../src/rpc/ops.ts";
import { MockSidecar } from "../doubles/mockSidecar.ts";

test("chunkBySize packs consecutive items up to the budget and sends an oversize item alone", () => {
  const sizes = [3, 3, 3, 12, 1, 1];
  const chunks = chunkBySize(sizes, (x) => x, 7);
  assert.deepEqual(chunks, [[3, 3], [3], [12], [1, 1]]);
  assert.deepEqual(chunkBySize([], (x: number) => x, 7), []);
  assert.deepEqual(chunks.flat(), sizes, "order is kept");
});

test("the sidecar's advertised budget sizes the chunks", async () => {
  const m = new MockSidecar({ maxBatchTokens: 4 });
  assert.equal(await m.batchBudget(), 4);
  await m.logitLens([{ ids: [1, 2, 3], token_ids: [5] }, { ids: [1, 2], token_ids: [5] }, { ids: [9], token_ids: [5] }]);
  assert.equal(m.calls.filter((c) => c.op === "logit_lens").length, 2);
});
