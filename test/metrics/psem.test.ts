import { test } from "node:test";
import assert from "node:assert/strict";
import { MockSidecar } from "../doubles/mockSidecar.ts";
import type { MockModel } from "../doubles/mockModel.ts";
import type { Tokenizer } from "../../src/tokenizer/hfTokenizer.ts";
import { aggregatePsem, psemBatch } from "../../src/metrics/psem.ts";
import { buildPrompt } from "../../src/prompts/promptBuilder.ts";
import { Prng } from "../../src/util/prng.ts";

/** The mock model's own tokenizer behind the Tokenizer interface. */
function mockTokenizer(m: MockModel): Tokenizer {
  return { encode: (t) => m.tokenize(t).ids, decode: (ids, o) => m.decode(ids, o?.skipSpecialTokens ?? true) };
}

const PROMPT = buildPrompt("Fill the blank with one word: The capital of France is ____.", "baseline");

test("aggregatePsem sums the prefix-free reduction and keeps the plain sum", () => {
  const seqs = [
    { ids: [1], logprob: Math.log(0.5) },
    { ids: [1, 2], logprob: Math.log(0.4) },
    { ids: [3], logprob: Math.log(0.3) },
    { ids: [3, 4, 5], logprob: Math.log(0.1) },
  ];
  const a = aggregatePsem(seqs);
  assert.deepEqual(a.inSet, [true, false, true, false]);
  assert.ok(Math.abs(a.p_sem - 0.8) < 1e-12);
  assert.ok(Math.abs(a.p_sem_plain - 1.3) < 1e-12, "the plain sum is not clamped");
});

test("aggregatePsem of an empty set is zero", () => {
  assert.deepEqual(aggregatePsem([]), { p_sem: 0, p_sem_plain: 0, inSet: [] });
});

test("P_sem equals the hand-computed sum of pinned probabilities; extensions leave the set", async () => {
  let sc!: MockSidecar;
  const pin = (ctx: readonly number[]) => {
    const m = sc.model;
    const pIds = m.tokenize(PROMPT).ids;
    if (ctx.length === pIds.length && ctx.every((x, i) => x === pIds[i])) {
      return { [m.id(" Paris")]: 0.6, [m.id(" paris")]: 0.1, [m.id(" PARIS")]: 0.05 };
    }
    if (ctx.length === pIds.length + 1 && ctx[ctx.length - 1] === m.id(" Paris")) return { [m.id(".")]: 0.9, [m.id(" ")]: 0.05 };
    return undefined;
  };
  sc = new MockSidecar({ pin });
  const tok = mockTokenizer(sc.model);
  const [r] = await psemBatch(sc, tok, [{ prompt: PROMPT, target: "Paris" }]);
  const byText = new Map(r.sequences.map((s) => [s.text, s]));
  assert.ok(Math.abs((byText.get(" Paris")?.prob ?? 0) - 0.6) < 1e-9);
  assert.ok(Math.abs((byText.get(" Paris.")?.prob ?? 0) - 0.54) < 1e-9);
  assert.equal(byText.get(" Paris.")?.in_prefix_free_set, false);
  assert.equal(byText.get(" Paris ")?.in_prefix_free_set, false);
  assert.equal(byText.get(" Paris")?.in_prefix_free_set, true);
  // no-space forms are spelt by single characters here; their (tiny) probabilities come from the mock
  const direct = r.sequences
    .filter((s) => s.in_prefix_free_set)
    .reduce((acc, s) => acc + Math.exp(sc.model.scoreOne(r.prompt_ids, s.ids).reduce((a, b) => a + b, 0)), 0);
  assert.ok(Math.abs(r.p_sem - direct) < 1e-12);
  assert.ok(r.p_sem >= 0.75 && r.p_sem <= 1);
  assert.ok(r.p_sem_plain > 1, `plain sum double-counts extensions: ${r.p_sem_plain}`);
  // one request, one item carrying every sequence
  const scores = sc.calls.filter((c) => c.op === "score");
  assert.equal(scores.length, 1);
  const sentItems = scores[0].args.items as { continuations: number[][] }[];
  assert.equal(sentItems.length, 1);
  // only trie leaves travel: " Paris. " also yields " Paris" and " Paris."
  const sentConts = sentItems[0].continuations.map((c) => c.join(","));
  assert.ok(sentConts.length < r.sequences.length, `${sentConts.length} continuations for ${r.sequences.length} sequences`);
  assert.equal(sentConts.includes(byText.get(" Paris")!.ids.join(",")), false);
  assert.ok(sentConts.includes(byText.get(" Paris. ")!.ids.join(",")));
});

test("chunked, single-request and one-per-request modes give identical results", async () => {
  const sc = new MockSidecar({ maxBatchTokens: 1_000_000 });
  const tok = mockTokenizer(sc.model);
  const items = ["Paris", "London", "Berlin", "sky", "water", "cat"].map((t, i) => ({
    prompt: buildPrompt(`Question number ${i}?`, i % 2 ? "negative" : "baseline", t),
    target: t,
  }));
  const one = await psemBatch(sc, tok, items);
  const nOne = sc.calls.filter((c) => c.op === "score").length;
  const chunked = await psemBatch(sc, tok, items, { maxBatchTokens: 200 });
  const nChunked = sc.calls.filter((c) => c.op === "score").length - nOne;
  const single = await psemBatch(sc, tok, items, { onePerRequest: true });
  const nSingle = sc.calls.filter((c) => c.op === "score").length - nOne - nChunked;
  assert.equal(nOne, 1);
  assert.ok(nChunked > 1 && nChunked < nSingle, `${nChunked} chunks, ${nSingle} single requests`);
  assert.equal(nSingle, one.reduce((s, r) => s + r.sequences.length, 0));
  assert.deepEqual(chunked, one);
  assert.deepEqual(single, one);
});

test("a CUDA sidecar gets one score request whatever its budget, a CPU sidecar requests within its budget, same results", async () => {
  const items = ["Paris", "London", "Berlin", "sky", "water", "cat"].map((t, i) => ({
    prompt: buildPrompt(`Question number ${i}?`, i % 2 ? "negative" : "baseline", t),
    target: t,
  }));
  const scores = (sc: MockSidecar) => sc.calls.filter((c) => c.op === "score").length;
  const gpu = new MockSidecar({ maxBatchTokens: 200, device: "cuda:0" });
  const cpu = new MockSidecar({ maxBatchTokens: 200 });
  const capped = new MockSidecar({ maxBatchTokens: 1_000_000, device: "cuda:0" });
  const a = await psemBatch(gpu, mockTokenizer(gpu.model), items, { maxBatchTokens: 16_384 });
  const b = await psemBatch(cpu, mockTokenizer(cpu.model), items, { maxBatchTokens: 16_384 });
  const c = await psemBatch(capped, mockTokenizer(capped.model), items, { maxBatchTokens: 200 });
  assert.equal(scores(gpu), 1);
  assert.ok(scores(cpu) > 1, `${scores(cpu)} requests`);
  assert.ok(scores(capped) > 1, "a client cap below the sidecar's budget still splits");
  assert.deepEqual(a, b);
  assert.deepEqual(c, b);
});

test("p_sem ≤ 1 and p_sem ≤ p_sem_plain for many random peaked models", async () => {
  const rng = new Prng(7, "psem-prop");
  for (let trial = 0; trial < 20; trial++) {
    let sc!: MockSidecar;
    const mass = rng.next();
    sc = new MockSidecar({
      noise: 1 + rng.next() * 6,
      pin: (ctx) => {
        const m = sc.model;
        const last = ctx[ctx.length - 1];
        if (last === m.id(":")) return { [m.id(" Paris")]: mass * 0.7, [m.id(" paris")]: mass * 0.3 };
        if (last === m.id(" Paris")) return { [m.id(".")]: 0.99 };
        return undefined;
      },
    });
    const tok = mockTokenizer(sc.model);
    const rs = await psemBatch(sc, tok, [
      { prompt: PROMPT, target: "Paris" },
      { prompt: PROMPT, target: "paris" },
    ]);
    for (const r of rs) {
      assert.ok(r.p_sem <= 1 + 1e-12, `p_sem ${r.p_sem}`);
      assert.ok(r.p_sem <= r.p_sem_plain + 1e-15);
      assert.ok(r.p_sem >= mass - 1e-9);
    }
  }
});

test("a target whose forms all fail normalisation yields p_sem 0 without a request", async () => {
  const sc = new MockSidecar();
  const tok: Tokenizer = { encode: (t) => [...t].map((c) => c.charCodeAt(0)), decode: () => "zzz" };
  const [r] = await psemBatch(sc, tok, [{ prompt: "Q:", target: "Paris" }]);
  assert.equal(r.p_sem, 0);
  assert.equal(r.sequences.length, 0);
  assert.equal(sc.calls.filter((c) => c.op === "score").length, 0);
});
