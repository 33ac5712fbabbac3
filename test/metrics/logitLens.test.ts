import { test } from "node:test";
import assert from "node:assert/strict";
import { decisionInput, firstTokens, LENS_EMBEDDINGS_LAYER, logitLensRows } from "../../src/metrics/logitLens.ts";
import { decompRows } from "../../src/metrics/decompose.ts";

test("when S(X) sequences share first tokens then each first token is counted once", () => {
  assert.deepEqual(firstTokens([[5, 6], [5], [7], [], [7, 1], [8]]), [5, 7, 8]);
});

test("when the decision step is k then the lens input is the prompt plus the first k generated tokens", () => {
  assert.deepEqual(decisionInput([1, 2], [3, 4, 5], 2), [1, 2, 3, 4]);
  assert.deepEqual(decisionInput([1, 2], [3, 4, 5], 0), [1, 2]);
});

test("when lens probabilities come back then the mass per layer is their sum, the embeddings at layer -1", () => {
  const rows = logitLensRows({ prompt_id: "p", condition: "baseline", outcome: "success" }, [[0.25, 0.5], [0, 0.125]]);
  assert.deepEqual(rows.map((r) => [r.layer, r.mass]), [[-1, 0.75], [0, 0.125]]);
});

test("when a model has L blocks then the lens and the decomposition both end at layer L-1 and the lens starts at -1", () => {
  const L = 3;
  const key = { prompt_id: "p", condition: "negative", outcome: "failure" } as const;
  const lens = logitLensRows(key, Array.from({ length: L + 1 }, () => [0.1]));
  const decomp = decompRows(key, Array.from({ length: L }, () => [[0.1], [0.2], [0.3]]));
  assert.deepEqual(lens.map((r) => r.layer), [-1, 0, 1, 2]);
  assert.equal(lens[0].layer, LENS_EMBEDDINGS_LAYER);
  assert.equal(lens[lens.length - 1].layer, L - 1);
  assert.deepEqual(decomp.map((r) => r.layer), [0, 1, 2]);
  assert.equal(decomp[decomp.length - 1].layer, L - 1);
});

test("when decomposition stages come back then contributions are stage differences", () => {
  const rows = decompRows({ prompt_id: "p", condition: "negative", outcome: "failure" }, [
    [[0.125], [0.25, 0.25], [0.125]],
  ]);
  assert.deepEqual(
    { ...rows[0] },
    { prompt_id: "p", condition: "negative", outcome: "failure", layer: 0, p_in: 0.125, p_attn: 0.5, p_out: 0.125, attn_contrib: 0.375, ffn_contrib: -0.375 },
  );
  assert.throws(() => decompRows({ prompt_id: "p", condition: "negative", outcome: "failure" }, [[[0.1], [0.2]]]), /3 stages/);
});
