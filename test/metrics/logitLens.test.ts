import { test } from "node:test";
import assert from "node:assert/strict";
import { decisionInput, firstTokens, logitLensRows } from "../../src/metrics/logitLens.ts";
import { decompRows } from "../../src/metrics/decompose.ts";

test("when S(X) sequences share first tokens then each first token is counted once", () => {
  assert.deepEqual(firstTokens([[5, 6], [5], [7], [], [7, 1], [8]]), [5, 7, 8]);
});

test("when the decision step is k then the lens input is the prompt plus the first k generated tokens", () => {
  assert.deepEqual(decisionInput([1, 2], [3, 4, 5], 2), [1, 2, 3, 4]);
  assert.deepEqual(decisionInput([1, 2], [3, 4, 5], 0), [1, 2]);
});

test("when lens probabilities come back then the mass per layer is their sum", () => {
  const rows = logitLensRows({ prompt_id: "p", condition: "baseline", outcome: "success" }, [[0.25, 0.5], [0, 0.125]]);
  assert.deepEqual(rows.map((r) => [r.layer, r.mass]), [[0, 0.75], [1, 0.125]]);
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
