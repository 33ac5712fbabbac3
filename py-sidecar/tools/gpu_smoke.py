"""CUDA smoke test of the sidecar ops on a random model (bf16, device_map) — run on a GPU machine:

    python py-sidecar/tools/gpu_smoke.py random:py-sidecar/configs/qwen2.5-7b-instruct.json

Checks score against one full forward per (prefix+continuation), batched-vs-alone greedy, seeded
sampling independence, trace shapes/dtype and the eager switch; prints timings as JSON lines.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    import torch

    from sempress_sidecar.loading import build_context
    from sempress_sidecar.ops import WHITELIST as W
    from sempress_sidecar.protocol import ARG_PARSERS as A
    from sempress_sidecar.tensors import decode_tensor

    t = time.time()
    ctx = build_context(sys.argv[1])
    print(json.dumps({"load_s": round(time.time() - t, 1), "device": str(ctx.device), "dtype": str(ctx.dtype),
                      "attn": ctx.model.config._attn_implementation}), flush=True)
    call = lambda op, **a: W[op](ctx, A[op](a))  # noqa: E731
    g = torch.Generator().manual_seed(0)
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    prompts = [torch.randint(0, 150000, (n,), generator=g).tolist() for n in (40, 55, 23, 61) * reps]
    conts = [[torch.randint(0, 150000, (k,), generator=g).tolist() for k in (1, 2, 3, 2, 1, 4)] for _ in prompts]
    items = [{"prefix": p, "continuations": c} for p, c in zip(prompts, conts)]
    torch.cuda.synchronize(); t = time.time()
    lp = call("score", items=items)["logprobs"]
    torch.cuda.synchronize(); score_s = time.time() - t
    maxd = 0.0
    for p, cs, l in list(zip(prompts, conts, lp))[:4]:
        for c, got in zip(cs, l):
            with torch.inference_mode():
                ref = torch.log_softmax(ctx.model(input_ids=torch.tensor([p + c], device=ctx.device)).logits[0].float(), -1)
            want = [float(ref[len(p) - 1 + i, tok]) for i, tok in enumerate(c)]
            maxd = max(maxd, max(abs(a - b) for a, b in zip(got, want)))
    print(json.dumps({"score_items": len(items), "score_s": round(score_s, 2), "score_max_abs_diff": maxd}), flush=True)
    t = time.time()
    greedy = call("generate", prompts=prompts[:16], max_new_tokens=8, do_sample=False)["sequences"]
    gen_s = time.time() - t
    alone = call("generate", prompts=[prompts[1]], max_new_tokens=8, do_sample=False)["sequences"]
    t = time.time()
    s_all = call("generate", prompts=prompts[:16], max_new_tokens=10, do_sample=True, top_p=0.9, n=16,
                 seeds=list(range(16)))["sequences"]
    samp_s = time.time() - t
    s_one = call("generate", prompts=[prompts[3]], max_new_tokens=10, do_sample=True, top_p=0.9, n=16, seeds=[3])["sequences"]
    print(json.dumps({"greedy_16x8_s": round(gen_s, 2), "greedy_batch_eq_alone": greedy[1] == alone[0],
                      "sample_16x16x10_s": round(samp_s, 2), "sample_indep_of_batch": s_all[3] == s_one[0],
                      "sample_rows_same_tokens": sum(a == b for a, b in zip(s_all[3], s_one[0]))}), flush=True)
    t = time.time()
    tr = call("trace", prompts=prompts[:8], max_new_tokens=8)["items"]
    trace_s = time.time() - t
    h, a = decode_tensor(tr[0]["hidden"]), decode_tensor(tr[0]["attentions"])
    seq = len(prompts[0]) + len(tr[0]["generated"]) - 1
    rows_ok = torch.allclose(a.float()[0].sum(-1), torch.ones(a.shape[1], a.shape[2]), atol=2e-2)
    print(json.dumps({"trace_8x8_s": round(trace_s, 2), "hidden": list(h.shape), "attn": list(a.shape), "seq": seq,
                      "dtype": str(h.dtype), "attn_rows_sum_1": rows_ok,
                      "attn_after": ctx.model.config._attn_implementation,
                      "max_mem_gb": round(torch.cuda.max_memory_allocated() / 2**30, 1)}), flush=True)


if __name__ == "__main__":
    main()
