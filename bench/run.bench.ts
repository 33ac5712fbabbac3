/**
 * Run-stage throughput on the tiny random Qwen2 with the real tokenizer, same sidecar, same run:
 *  - sampling pass: samples/s with all prompts in one `generate` request (batched across prompts,
 *    per-prompt seeds) versus one request per prompt; the two must return identical sequences;
 *  - activation patching: layer-patches/s (one patched forward = one prompt × site × layer) with a
 *    batched sweep (all prompts, all layers in one `patch` request) versus one request per layer
 *    per prompt; ΔP must agree.
 * Options after `--`: --prompts N (default 8) --samples N (16) --new-tokens N (10) --patch-prompts N (4)
 * --model M.
 */
import { buildPrompt } from "../src/prompts/promptBuilder.ts";
import { deriveSeed } from "../src/util/prng.ts";
import { sidecarBench } from "./withSidecar.ts";

const QA: [string, string][] = [
  ["Fill the blank with one word: The capital of France is ____.", "Paris"],
  ["Fill the blank with one word: The capital of Japan is ____.", "Tokyo"],
  ["Fill the blank (one word): A lemon is ____.", "sour"],
  ["Fill the blank (one word): You use a knife to ____.", "cut"],
  ["Complete the idiom with one word: \"Actions speak louder than ____\"", "words"],
  ["Fill the blank (one word): A violin is used by a ____.", "musician"],
  ["One-word answer: Peru's capital is ____.", "Lima"],
  ["Fill the blank (one word): You usually find a fish in the ____.", "water"],
];


export default sidecarBench({
  name: "run",
  description: "sampling samples/s (batched across prompts vs one prompt per call) and layer-patches/s (sweep vs one layer per call)",
  options: { prompts: 8, samples: 16, "new-tokens": 10, "patch-prompts": 4 },
  async run(ctx, { sc, hello, tok, model }, opt) {
    const [nPrompts, nSamples, newTokens, nPatch] = [opt.prompts, opt.samples, opt["new-tokens"], opt["patch-prompts"]];
    const items = Array.from({ length: nPrompts }, (_, i) => QA[i % QA.length]);
    const prompts = items.map(([q, x], i) => tok.encode(buildPrompt(q, i % 2 ? "negative" : "baseline", x)));
    const seeds = prompts.map((_, i) => deriveSeed(42, `bench|${i}`));
    const o = { max_new_tokens: newTokens, do_sample: true, temperature: 1, top_p: 0.9, n: nSamples };
    await sc.generate(prompts.slice(0, 1), { ...o, n: 1, seeds: seeds.slice(0, 1) }); // warm-up

    let t0 = performance.now();
    const batched = await sc.generate(prompts, { ...o, seeds });
    const batchedMs = performance.now() - t0;
    t0 = performance.now();
    const single: number[][][] = [];
    for (let i = 0; i < prompts.length; i++) single.push(...(await sc.generate([prompts[i]], { ...o, seeds: [seeds[i]] })));
    const singleMs = performance.now() - t0;
    const same = JSON.stringify(batched) === JSON.stringify(single);
    const nS = nPrompts * nSamples;
    const bRate = nS / (batchedMs / 1000);
    const sRate = nS / (singleMs / 1000);
    ctx.note(`sampling: ${nS} samples × ${newTokens} tokens; batched ${(batchedMs / 1000).toFixed(1)} s, per prompt ${(singleMs / 1000).toFixed(1)} s, identical=${same}`);
    ctx.emit({ name: "sampling_batched_samples_per_s", value: bRate, unit: "samples/s", n: nS, new_tokens: newTokens, model });
    ctx.emit({ name: "sampling_one_prompt_per_call_samples_per_s", value: sRate, unit: "samples/s", n: nS, new_tokens: newTokens, model });
    ctx.emit({ name: "sampling_batched_speedup", value: bRate / sRate, unit: "x", identical: same });

    const L = hello.n_layers;
    const pitems = Array.from({ length: nPatch }, (_, i) => {
      const [q, x] = QA[i % QA.length];
      return {
        source: tok.encode(buildPrompt(q, "baseline", x)),
        target: tok.encode(buildPrompt(q, "negative", x)),
        continuations: [tok.encode(` ${x}`), tok.encode(x)],
      };
    });
    const sites: ("resid" | "attn")[] = ["resid", "attn"];
    await sc.patch({ items: pitems.slice(0, 1).map((it) => ({ ...it, layers: [0] })), sites }); // warm-up
    t0 = performance.now();
    const sweep = await sc.patch({ items: pitems, sites });
    const sweepMs = performance.now() - t0;
    t0 = performance.now();
    let maxDiff = 0;
    for (let i = 0; i < pitems.length; i++) {
      for (let l = 0; l < L; l++) {
        const r = (await sc.patch({ items: [{ ...pitems[i], layers: [l] }], sites }))[0];
        for (const s of sites) {
          const a = r.patched[s].logprobs[0][0][0];
          const b = sweep[i].patched[s].logprobs[sweep[i].layers.indexOf(l)][0][0];
          maxDiff = Math.max(maxDiff, Math.abs(a - b));
        }
      }
    }
    const perLayerMs = performance.now() - t0;
    const nP = nPatch * L * sites.length;
    const sw = nP / (sweepMs / 1000);
    const pl = nP / (perLayerMs / 1000);
    ctx.note(`patching: ${nPatch} prompts × ${L} layers × ${sites.length} sites; sweep ${(sweepMs / 1000).toFixed(2)} s, per layer ${(perLayerMs / 1000).toFixed(2)} s, max |Δlogp| ${maxDiff.toExponential(1)}`);
    ctx.emit({ name: "patch_sweep_layer_patches_per_s", value: sw, unit: "patches/s", n: nP, model });
    ctx.emit({ name: "patch_one_layer_per_call_layer_patches_per_s", value: pl, unit: "patches/s", n: nP, model });
    ctx.emit({ name: "patch_sweep_speedup", value: sw / pl, unit: "x", max_abs_logprob_diff: maxDiff });
  },
});
