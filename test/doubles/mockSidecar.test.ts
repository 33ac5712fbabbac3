import { test } from "node:test";
import assert from "node:assert/strict";
import { MockSidecar } from "./mockSidecar.ts";
import { slice } from "../../src/rpc/arrow.ts";
import { decodeFloatTensor } from "../rpc/tensors.ts";
import { SidecarError } from "../../src/errors.ts";

const close = (a: number, b: number, eps = 1e-12) => Math.abs(a - b) < eps;

test("tokenize is a greedy longest match over the vocab and decode inverts it", async () => {
  const m = new MockSidecar();
  const { ids, offsets } = await m.tokenize(["The capital of France is Paris.", "Ωx"]);
  assert.equal(m.model.decode(ids[0]), "The capital of France is Paris.");
  assert.ok(ids[0].includes(m.model.id(" Paris")));
  assert.deepEqual(offsets[0][offsets[0].length - 1], [30, 31]);
  assert.equal(ids[1][0], m.model.id("<unk>"), "characters outside the vocab become <unk>");
  assert.deepEqual(await m.decode([[m.model.id("<|endoftext|>"), m.model.id(" cat")]]), [" cat"]);
  assert.deepEqual(await m.decode([[0, m.model.id(" cat")]], false), ["<|endoftext|> cat"]);
});

test("pinned probabilities are exact and score returns their logs", async () => {
  const m = new MockSidecar({ pin: (ctx) => (ctx[ctx.length - 1] === 50 ? { [100]: 0.7, [101]: 0.1 } : undefined) });
  const [[[a], [b], [c]]] = await m.score([{ prefix: [10, 50], continuations: [[100], [101], [102]] }]);
  assert.ok(close(Math.exp(a), 0.7));
  assert.ok(close(Math.exp(b), 0.1));
  assert.ok(Math.exp(c) < 0.2);
  const p = m.model.dist([10, 50]);
  assert.ok(close(p.reduce((s, x) => s + x, 0), 1));
});

test("score of a multi-token continuation is the chain of next-token log-probs", async () => {
  const m = new MockSidecar();
  const [[lp]] = await m.score([{ prefix: [7, 8], continuations: [[9, 10, 11]] }]);
  assert.ok(close(lp[1], Math.log(m.model.dist([7, 8, 9])[10])));
  assert.ok(close(lp[2], Math.log(m.model.dist([7, 8, 9, 10])[11])));
});

test("greedy generation follows the argmax and stops after EOS", async () => {
  const m = new MockSidecar({ pin: (ctx): Record<number, number> => (ctx.length >= 4 ? { 0: 0.9 } : { 60: 0.9 }) });
  const [[seq]] = await m.generate([[5, 6]], { max_new_tokens: 8, do_sample: false });
  assert.deepEqual(seq, [60, 60, 0]);
});

test("sampling is reproducible per seed and independent of batch mates", async () => {
  const m = new MockSidecar();
  const g = (prompts: number[][], seeds: number[]) => m.generate(prompts, { max_new_tokens: 5, do_sample: true, n: 4, seeds });
  const a = await g([[5], [6]], [1, 2]);
  const b = await g([[6]], [2]);
  assert.deepEqual(a[1], b[0]);
  assert.deepEqual(await g([[5], [6]], [1, 2]), a);
  assert.notDeepEqual((await g([[5]], [3]))[0], a[0]);
});

test("logit lens runs from uniform at layer 0 to the model's distribution at layer L", async () => {
  const m = new MockSidecar({ nLayers: 4 });
  const ids = [10, 11, 12];
  const [probs] = await m.logitLens([{ ids, token_ids: [40, 41] }]);
  assert.equal(probs.length, 5);
  const V = m.model.vocabSize;
  assert.ok(close(probs[0][0], 1 / V));
  assert.ok(close(probs[4][1], m.model.dist(ids)[41]));
  // position selects the context
  const [p2] = await m.logitLens([{ ids, position: 1, token_ids: [40] }]);
  assert.ok(close(p2[4][0], m.model.dist([10, 11])[40]));
});

test("decompose stages chain: stage 2 of layer l equals stage 0 of layer l+1 and the lens", async () => {
  const m = new MockSidecar({ nLayers: 3 });
  const it = { ids: [3, 4, 5], token_ids: [20, 21] };
  const [[dec], [lens]] = [await m.decompose([it]), await m.logitLens([it])];
  assert.equal(dec.length, 3);
  for (let l = 0; l < 3; l++) {
    assert.deepEqual(dec[l][0], lens[l]);
    assert.deepEqual(dec[l][2], lens[l + 1]);
    if (l < 2) assert.deepEqual(dec[l][2], dec[l + 1][0]);
  }
});

test("patching a prompt with itself changes nothing; the last resid layer gives the source's distribution", async () => {
  const m = new MockSidecar({ nLayers: 4 });
  const cont = [[30, 31], [32]];
  const [self] = await m.patch({ items: [{ source: [1, 2, 3], target: [1, 2, 3], continuations: cont }] });
  for (const site of ["resid", "attn"]) {
    for (const layer of self.patched[site].logprobs) assert.deepEqual(layer, self.clean.logprobs);
    assert.ok(self.patched[site].argmax.every((a) => a === self.clean.argmax));
  }
  const [x] = await m.patch({ items: [{ source: [9, 9], target: [1, 2, 3], continuations: cont, layers: [0, 3] }], sites: ["resid"] });
  assert.deepEqual(x.layers, [0, 3]);
  assert.ok(close(x.patched.resid.logprobs[1][0][0], Math.log(m.model.dist([9, 9])[30])));
  assert.ok(!close(x.patched.resid.logprobs[0][0][0], x.clean.logprobs[0][0]));
  assert.equal(x.patched.resid.logprobs[1][0][1], x.clean.logprobs[0][1], "later continuation tokens are not patched");
});

test("trace rows have the documented shapes and causal attention rows summing to 1", async () => {
  const m = new MockSidecar({ nLayers: 2, nHeads: 3, hiddenSize: 5 });
  const [it] = await m.trace([[10, 11, 12, 13]]);
  assert.equal(it.hidden, null);
  const a = decodeFloatTensor(it.attentions);
  assert.deepEqual(a.shape, [2, 3, 4]);
  assert.ok(Math.abs(slice(a, [1, 2]).data.reduce((x, y) => x + y, 0) - 1) < 1e-6);
  const [full] = await m.trace([[10, 11, 12, 13]], "full");
  assert.deepEqual(decodeFloatTensor(full.hidden!).shape, [3, 4, 5]);
  const fa = decodeFloatTensor(full.attentions);
  assert.deepEqual(fa.shape, [2, 3, 4, 4]);
  assert.deepEqual(Array.from(slice(fa, [1, 2, 3]).data), Array.from(slice(a, [1, 2]).data));
});

test("an injected attention function shapes the rows", async () => {
  const m = new MockSidecar({ nLayers: 1, nHeads: 1, attention: (_ids, _l, _h, q) => Array.from({ length: q + 1 }, (_, k) => (k === 0 ? 3 : 1)) });
  const [it] = await m.trace([[10, 11]]);
  const row = slice(decodeFloatTensor(it.attentions), [0, 0]).data;
  assert.ok(Math.abs(row[0] - 0.75) < 1e-6 && Math.abs(row[1] - 0.25) < 1e-6);
});

test("invalid args and injected failures surface as SidecarError", async () => {
  const m = new MockSidecar({ fail: (op) => (op === "trace" ? { code: "out_of_memory", type: "OutOfMemoryError", message: "CUDA OOM" } : undefined) });
  await assert.rejects(m.score([{ prefix: [], continuations: [[1]] }]), (e: unknown) => e instanceof SidecarError && e.code === "sidecar_args_invalid");
  await assert.rejects(m.trace([[1]]), (e: unknown) => e instanceof SidecarError && e.code === "sidecar_out_of_memory");
  assert.deepEqual(m.calls.map((c) => c.op), ["trace"]);
});

test("an op the toy model does not implement is answered with an unknown-op error, not silence", () => {
  const m = new MockSidecar();
  assert.throws(
    () => m.answer("added_later" as Parameters<MockSidecar["answer"]>[0], {}),
    (e: unknown) => e instanceof SidecarError && e.code === "sidecar_unknown_op" && /does not implement op "added_later"/.test(e.message),
  );
});
