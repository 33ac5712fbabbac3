/**
 * P_sem on the real sidecar: the tiny random Qwen2 (`random:py-sidecar/configs/qwen2-tiny.json`)
 * with the real Qwen tokenizer. Checks the batched, KV-shared scoring against a direct Python
 * computation, the P_sem bounds, and that our "prompt + form, split at the boundary" tokenisation is
 * the one generation produces. Skipped when the Python venv is missing.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { loadConfig } from "../../src/config.ts";
import { psemBatch, type PsemResult } from "../../src/metrics/psem.ts";
import { continuationIds } from "../../src/metrics/variants.ts";
import { buildPrompt } from "../../src/prompts/promptBuilder.ts";
import { connectSidecar, type SidecarClient } from "../../src/rpc/client.ts";
import { HfTokenizer } from "../../src/tokenizer/hfTokenizer.ts";
import { needVenv } from "../fixtures/requirements.ts";

const PY = ".venv/bin/python";
const MODEL = "random:py-sidecar/configs/qwen2-tiny.json";
const SKIP_PY = needVenv();
const HAVE_PY = !SKIP_PY;

const PAIRS: [string, string][] = [
  ["Fill the blank with one word: The capital of France is ____.", "Paris"],
  ["Fill the blank (one word): You use a knife to ____.", "cut"],
  ['Complete the idiom with one word: "a piece of ____"', "cake"],
  ["One-word answer: Japan's capital is ____.", "Tokyo"],
  ["Fill the blank (one word): A typical lemon is ____.", "sour"],
  ["Fill the blank with one word: The café served crème ____.", "brûlée"],
];

let sc: SidecarClient | null = null;
let tok: HfTokenizer;
let prompts: string[] = [];
let results: PsemResult[] = [];

before(async () => {
  if (!HAVE_PY) return;
  const cfg = loadConfig({ flags: { model: { id: MODEL } } as never, env: {} });
  sc = await connectSidecar(cfg);
  tok = HfTokenizer.fromHello(await sc.hello());
  prompts = PAIRS.flatMap(([q, x]) => [buildPrompt(q, "baseline"), buildPrompt(q, "negative", x)]);
  results = await psemBatch(
    sc,
    tok,
    prompts.map((p, i) => ({ prompt: p, target: PAIRS[i >> 1][1] })),
  );
});

after(async () => {
  await sc?.close();
});

test("the sidecar's tokenizer is the Qwen tokenizer TS uses", { skip: SKIP_PY }, () => {
  assert.deepEqual(tok.encode(" Paris."), [12095, 13]);
});

test("p_sem ≤ 1 and p_sem ≤ p_sem_plain on the random model", { skip: SKIP_PY }, () => {
  assert.equal(results.length, PAIRS.length * 2);
  for (const r of results) {
    assert.ok(r.sequences.length >= 8, "every target has several spellings");
    assert.ok(r.p_sem > 0 && r.p_sem <= 1);
    assert.ok(r.p_sem <= r.p_sem_plain);
    assert.ok(r.sequences.some((s) => !s.in_prefix_free_set), "extensions such as X. leave the prefix-free set");
  }
});

test("each sequence log-prob equals a direct Python forward pass (|Δp| < 1e-5, |Δ log p| < 1e-3)", { skip: SKIP_PY }, (t) => {
  // every third sequence of every prompt: all lengths and cases, a bounded Python run
  const pairs = results.flatMap((r) =>
    r.sequences.filter((_, j) => j % 3 === 0).map((s) => ({ prefix: r.prompt_ids, cont: s.ids, lp: s.logprob })),
  );
  const run = spawnSync(PY, ["test/fixtures/psem_py_logprobs.py"], {
    input: JSON.stringify({ model: MODEL, pairs: pairs.map(({ prefix, cont }) => ({ prefix, cont })) }),
    encoding: "utf8",
    env: { ...process.env, PYTHONPATH: join(process.cwd(), "py-sidecar") },
    maxBuffer: 64 * 1024 * 1024,
  });
  assert.equal(run.status, 0, run.stderr);
  const ref = JSON.parse(run.stdout).logprobs as number[][];
  let maxLp = 0;
  let maxP = 0;
  pairs.forEach((p, i) => {
    const direct = ref[i].reduce((a, b) => a + b, 0);
    maxLp = Math.max(maxLp, Math.abs(direct - p.lp));
    maxP = Math.max(maxP, Math.abs(Math.exp(direct) - Math.exp(p.lp)));
  });
  t.diagnostic(`${pairs.length} sequences: max |Δ log p| = ${maxLp.toExponential(2)}, max |Δ p| = ${maxP.toExponential(2)}`);
  assert.ok(maxLp < 1e-3);
  assert.ok(maxP < 1e-5);
});

test("generated ids, decoded and re-encoded with the prompt and split at the boundary, come back", { skip: SKIP_PY }, async (t) => {
  const c = sc as SidecarClient;
  const qs = Array.from({ length: 20 }, (_, i) => `Fill the blank (one word): Item ${i} is a ____.`);
  const ps = [...prompts, ...qs.flatMap((q) => [buildPrompt(q, "baseline"), buildPrompt(q, "negative", "word")])];
  const promptIds = ps.map((p) => tok.encode(p));
  const gens = await c.generate(promptIds, { max_new_tokens: 6, do_sample: false, n: 1 });
  let same = 0;
  let canonical = 0;
  let separate = 0;
  gens.forEach((g, i) => {
    const ids = g[0].filter((id) => !tok.isSpecial(id));
    const text = tok.decode(ids);
    const back = continuationIds(tok, ps[i], promptIds[i], text);
    const isCanonical = tok.encode(text).join(",") === ids.join(",");
    if (back.split === "separate") separate++;
    if (back.ids.join(",") === ids.join(",")) same++;
    if (isCanonical) {
      canonical++;
      // a canonical answer must come back exactly, whichever split applies
      assert.deepEqual(back.ids, ids, `prompt ${i}: ${JSON.stringify(text)} (${back.split})`);
    }
  });
  t.diagnostic(
    `${same}/${gens.length} greedy answers of the random model round-trip; ${canonical} are canonical tokenisations ` +
      `(all of which round-trip); ${separate} needed the separate split (the answer merges with "Answer:")`,
  );
  assert.ok(canonical >= gens.length / 2, "enough canonical answers to make the check meaningful");
});
