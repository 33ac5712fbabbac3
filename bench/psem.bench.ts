/**
 * P_sem throughput on the tiny random Qwen2 with the real tokenizer: 1,000 (question, target) pairs
 * scored batched (one score item per prompt carrying all its S(X) sequences, many prompts per request)
 * versus one sequence per request, in the same run, same sidecar. The unbatched mode is timed on the
 * first `--single-pairs` pairs (default 50; tens of thousands of requests otherwise) and reported as
 * throughput, so the ratio compares rates. Options after `--`: --pairs N --single-pairs N --model M.
 */
import { psemBatch, type PsemItem } from "../src/metrics/psem.ts";
import { buildPrompt } from "../src/prompts/promptBuilder.ts";
import { COMMONSENSE_TEMPLATES, FACT_TEMPLATES } from "../src/dataset/templates.ts";
import { Prng } from "../src/util/prng.ts";
import { sidecarBench } from "./withSidecar.ts";

const SUBJECTS = ["France", "Japan", "Kenya", "Peru", "Norway", "Egypt", "Chile", "India", "Spain", "Canada", "hammer", "knife", "lemon", "violin", "bicycle", "kettle"];
const TARGETS = ["Paris", "Tokyo", "Nairobi", "Lima", "Oslo", "Cairo", "Santiago", "Delhi", "Madrid", "Ottawa", "nail", "cut", "sour", "music", "ride", "water", "cake", "time", "space", "blue"];
const TEMPLATE_IDS = ["F1", "F2", "F3", "F4", "F5", "C1", "C2", "C3", "C5", "C10"] as const;
const TEMPLATES = { ...FACT_TEMPLATES, ...COMMONSENSE_TEMPLATES };


/** Deterministic (prompt, target) pairs, alternating baseline and negative prompts. */
export function benchPairs(n: number): PsemItem[] {
  const rng = new Prng(2024, "psem-bench");
  return Array.from({ length: n }, (_, i) => {
    const q = TEMPLATES[TEMPLATE_IDS[rng.int(TEMPLATE_IDS.length)]].text(SUBJECTS[rng.int(SUBJECTS.length)]);
    const target = TARGETS[rng.int(TARGETS.length)];
    return { prompt: buildPrompt(q, i % 2 ? "negative" : "baseline", target), target };
  });
}

export default sidecarBench({
  name: "psem",
  description: "P_sem pairs/s on the tiny random Qwen2: batched vs one sequence per request",
  options: { pairs: 1000, "single-pairs": 50 },
  async run(ctx, { sc, tok, model }, { pairs: nPairs, "single-pairs": nSingle }) {
    const pairs = benchPairs(nPairs);
    // warm-up (allocator, kernels), untimed
    await psemBatch(sc, tok, pairs.slice(0, 4));

    let requests = 0;
    const countReq = () => requests++;
    let t0 = performance.now();
    const batched = await psemBatch(sc, tok, pairs, { onProgress: countReq });
    const batchedMs = performance.now() - t0;
    const nSeq = batched.reduce((s, r) => s + r.sequences.length, 0);
    ctx.note(`batched: ${nPairs} pairs, ${nSeq} sequences, ${requests} requests, ${(batchedMs / 1000).toFixed(1)} s`);

    const sub = pairs.slice(0, nSingle);
    t0 = performance.now();
    const single = await psemBatch(sc, tok, sub, { onePerRequest: true });
    const singleMs = performance.now() - t0;
    const nSeqSingle = single.reduce((s, r) => s + r.sequences.length, 0);
    ctx.note(`one sequence per request: ${nSingle} pairs, ${nSeqSingle} requests, ${(singleMs / 1000).toFixed(1)} s`);
    let maxDiff = 0;
    single.forEach((r, i) => (maxDiff = Math.max(maxDiff, Math.abs(r.p_sem - batched[i].p_sem) / Math.max(batched[i].p_sem, 1e-30))));

    // TS-side preparation alone (tokenising prompt + every surface form), no sidecar
    t0 = performance.now();
    const { variantSequences } = await import("../src/metrics/variants.ts");
    for (const p of pairs) variantSequences(tok, p.prompt, p.target);
    const prepMs = performance.now() - t0;

    const batchedRate = nPairs / (batchedMs / 1000);
    const singleRate = nSingle / (singleMs / 1000);
    ctx.emit({ name: "psem_batched_pairs_per_s", value: batchedRate, unit: "pairs/s", n: nPairs, sequences: nSeq, requests, model });
    ctx.emit({ name: "psem_one_seq_per_request_pairs_per_s", value: singleRate, unit: "pairs/s", n: nSingle, requests: nSeqSingle, model });
    ctx.emit({ name: "psem_batched_speedup", value: batchedRate / singleRate, unit: "x", note: "batched / one-per-request throughput" });
    ctx.emit({ name: "psem_ts_prep_ms_per_pair", value: prepMs / nPairs, unit: "ms", n: nPairs, note: "TS tokenisation of S(X)" });
    ctx.emit({ name: "psem_modes_max_rel_diff", value: maxDiff, unit: "rel", n: nSingle, note: "batched vs single p_sem" });
  },
});
