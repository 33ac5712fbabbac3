/**
 * The TS client against the real sidecar serving the EMBEDDED model (Qwen2.5-Coder-0.5B-Instruct, from a
 * GGUF): the same integration checks as on the tiny random Qwen2, on real trained weights.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { SidecarClient } from "../../src/rpc/client.ts";
import { slice } from "../../src/rpc/arrow.ts";
import { decodeFloatTensor } from "./tensors.ts";
import { HfTokenizer } from "../../src/tokenizer/hfTokenizer.ts";
import { needVenv } from "../fixtures/requirements.ts";

const PY = ".venv/bin/python";
const SKIP = needVenv();
let sc: SidecarClient;
let tok: HfTokenizer;

if (!SKIP) {
  before(async () => {
    sc = new SidecarClient({ model: "default", python: PY, transport: "ipc", startTimeoutMs: 600_000, requestTimeoutMs: 300_000 });
    await sc.start();
    tok = HfTokenizer.fromHello(await sc.hello());
  });
  after(async () => {
    await sc?.close();
  });
}

const PROMPT = "Answer with exactly one English word.\nQuestion: What is the capital of France?\nAnswer:";

test("embedded: tokenize then decode gives the text back, and TS encodes like the sidecar", { skip: SKIP }, async () => {
  const texts = [PROMPT, " Paris.", "naïve café — 東京 🙂"];
  const { ids } = await sc.tokenize(texts);
  assert.deepEqual(await sc.decode(ids), texts);
  texts.forEach((t, i) => assert.deepEqual(tok.encode(t), ids[i], t));
});

test("embedded: score equals log-softmax computed directly in Python (|Δ| < 1e-4)", { skip: SKIP }, async () => {
  const prefix = tok.encodePrompt(PROMPT);
  const conts = [tok.encode(" Paris"), tok.encode(" Paris."), tok.encode(" London")];
  const items = [{ prefix, continuations: conts }, { prefix: prefix.slice(0, 5), continuations: [conts[2]] }];
  const got = await sc.score(items);
  const ref = spawnSync(PY, ["test/fixtures/logsoftmax.py", "default"], { input: JSON.stringify({ items }), encoding: "utf8", maxBuffer: 1 << 24 });
  assert.equal(ref.status, 0, ref.stderr.slice(-2000));
  const want = JSON.parse(ref.stdout).logprobs as number[][][];
  for (let i = 0; i < want.length; i++)
    for (let k = 0; k < want[i].length; k++)
      for (let t = 0; t < want[i][k].length; t++)
        assert.ok(Math.abs(got[i][k][t] - want[i][k][t]) < 1e-4, `item ${i} cont ${k} t ${t}: ${got[i][k][t]} vs ${want[i][k][t]}`);
  assert.ok(got[0][0][0] > got[0][2][0], "the model prefers Paris to London");
});

test("embedded: greedy is identical twice, answers Paris; sampling with one seed is identical twice", { skip: SKIP }, async () => {
  const ids = [tok.encodePrompt(PROMPT)];
  const g1 = await sc.generate(ids, { max_new_tokens: 4, do_sample: false });
  assert.deepEqual(await sc.generate(ids, { max_new_tokens: 4, do_sample: false }), g1);
  assert.match(tok.decode(g1[0][0]), /^ Paris/);
  const s = (seed: number) => sc.generate(ids, { max_new_tokens: 4, do_sample: true, temperature: 1, top_p: 0.9, n: 4, seeds: [seed] });
  const s1 = await s(3);
  assert.deepEqual(await s(3), s1);
  assert.equal(s1[0].length, 4);
});

test("embedded: a decision trace is [L, heads, seq], the last query's rows, each summing to 1", { skip: SKIP }, async () => {
  const hello = await sc.hello();
  const ids = [tok.encodePrompt(PROMPT)];
  const [item] = await sc.trace(ids);
  assert.equal(item.hidden, null);
  const a = decodeFloatTensor(item.attentions);
  assert.deepEqual(a.shape, [hello.n_layers, hello.n_heads, ids[0].length]);
  for (let l = 0; l < hello.n_layers; l++)
    for (let hd = 0; hd < hello.n_heads; hd++) {
      const sum = slice(a, [l, hd]).data.reduce((x, y) => x + y, 0);
      assert.ok(Math.abs(sum - 1) < 1e-4, `layer ${l} head ${hd}: ${sum}`);
    }
});
