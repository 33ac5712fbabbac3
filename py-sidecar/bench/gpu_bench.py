"""GPU throughput of every model stage: sempress's batched ops vs a naive loop, in one process.

    python py-sidecar/bench/gpu_bench.py --model random:py-sidecar/configs/qwen2.5-7b-instruct.json \
        --out bench.json

For each stage the batched path is the sidecar's own op (called in-process, the same functions the
ZeroMQ server dispatches to) and the naive path is what a typical script does: one prompt (or one
sequence, or one layer) per Hugging Face call. Both run on the same model in the same process, on the
same inputs, so the ratio is a like-for-like speed-up. The naive path is timed on a subset and its
rate extrapolated (it would otherwise dominate the device time); the subset size is reported.

Roofline: bf16 dense ≈ 790 TFLOP/s and HBM ≈ 4.8 TB/s on an H200. A forward costs ≈ 2·P FLOP per
token (P = parameters, attention's quadratic term is small at these lengths) and reads all weights
(2·P bytes) once per forward; so a pass over R rows of T new tokens each is bounded below by
max(2·P·R·T / 790e12, steps · 2·P / 4.8e12) seconds. We report achieved tokens/s against that bound.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sempress_sidecar import loading  # noqa: E402
from sempress_sidecar.patching import op_patch  # noqa: E402
from sempress_sidecar.ops_forward import op_generate, op_score, op_trace  # noqa: E402
from sempress_sidecar.protocol import ARG_PARSERS  # noqa: E402

PEAK_FLOPS = 790e12
PEAK_BW = 4.8e12

SUBJECTS = [
    "France", "Japan", "Kenya", "Peru", "Norway", "Egypt", "Chile", "Canada", "India", "Spain", "Ghana",
    "Brazil", "Italy", "Nepal", "Cuba", "Mali", "Oman", "Fiji", "Laos", "Chad", "Iran", "Iraq", "Togo",
]
THINGS = ["hammer", "violin", "kettle", "ladder", "pillow", "bucket", "candle", "shovel", "mirror", "needle"]
TARGETS = ["Paris", "Tokyo", "water", "music", "light", "bread", "north", "green", "stone", "silver"]


def sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


@contextmanager
def timed(out: dict, key: str):
    sync()
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    yield
    sync()
    out[key] = time.perf_counter() - t0
    if torch.cuda.is_available():
        out[key + "_peak_gib"] = torch.cuda.max_memory_allocated() / 2**30


def make_prompts(tok: Any, n: int, negative: bool) -> list[list[int]]:
    """Prompts of the design's exact shape and realistic length (≈40–55 tokens)."""
    out = []
    for i in range(n):
        s, x = SUBJECTS[i % len(SUBJECTS)], THINGS[(i // len(SUBJECTS)) % len(THINGS)]
        q = (f"Fill the blank (one word): You use a {x} to ____." if i % 2 else
             f"Fill the blank with one word: The capital of {s} is ____.")
        lines = ["Answer with exactly one English word."]
        if negative:
            lines.append(f'Do not use the word "{TARGETS[i % len(TARGETS)]}" anywhere in your answer.')
        lines += [f"Question: {q}", "Answer:"]
        out.append(tok("\n".join(lines), add_special_tokens=False)["input_ids"])
    return out


def variants(tok: Any, i: int) -> list[list[int]]:
    x = TARGETS[i % len(TARGETS)]
    seqs = []
    for form in {x, x.lower(), x.capitalize(), x.upper()}:
        for v in (form, " " + form, form + ".", " " + form + "."):
            ids = tok(v, add_special_tokens=False)["input_ids"]
            if ids and ids not in seqs:
                seqs.append(ids)
    return seqs


def n_params(model: Any) -> int:
    return sum(p.numel() for p in model.parameters())


def roofline_s(P: int, tokens: int, forwards: int) -> float:
    return max(2 * P * tokens / PEAK_FLOPS, forwards * 2 * P / PEAK_BW)


def run_op(fn: Callable, op: str, ctx: Any, args: dict) -> dict:
    return fn(ctx, ARG_PARSERS[op](args))


# ---------------------------------------------------------------- stages

def stage_psem(ctx: Any, n: int, naive_n: int) -> dict:
    tok = ctx.tokenizer
    prompts = make_prompts(tok, n, negative=False)
    items = [{"prefix": p, "continuations": variants(tok, i)} for i, p in enumerate(prompts)]
    n_seq = sum(len(it["continuations"]) for it in items)
    run_op(op_score, "score", ctx, {"items": items[:4]})  # warm-up
    t: dict = {}
    with timed(t, "batched"):
        run_op(op_score, "score", ctx, {"items": items})
    # naive: one (prompt + variant) sequence per forward, as a plain loop over S(X) would do
    sub = items[:naive_n]
    sub_seq = sum(len(it["continuations"]) for it in sub)
    with torch.inference_mode():  # warm-up of the naive path, untimed
        ctx.model(input_ids=torch.tensor([items[0]["prefix"]], device=ctx.device))
    with timed(t, "naive"), torch.inference_mode():
        for it in sub:
            for c in it["continuations"]:
                ids = torch.tensor([it["prefix"] + c], device=ctx.device)
                lp = torch.log_softmax(ctx.model(input_ids=ids).logits[0, -len(c) - 1:-1].float(), -1)
                lp.gather(-1, torch.tensor(c, device=ctx.device)[:, None]).sum().item()
    toks = sum(len(it["prefix"]) + max(map(len, it["continuations"])) for it in items)
    batched_rate = n_seq / t["batched"]
    naive_rate = sub_seq / t["naive"]
    P = n_params(ctx.model)
    return {
        "stage": "psem_scoring", "unit": "sequences/s", "prompts": n, "sequences": n_seq,
        "batched_per_s": batched_rate, "naive_per_s": naive_rate, "naive_subset_prompts": naive_n,
        "ratio": batched_rate / naive_rate, "batched_s": t["batched"], "peak_gib": t.get("batched_peak_gib"),
        "tokens_per_s": toks / t["batched"],
        "roofline_fraction": roofline_s(P, toks, max(1, toks // ctx.max_batch_tokens)) / t["batched"],
    }


def naive_generate(ctx: Any, p: list[int], samples: int, new: int) -> None:
    ids = torch.tensor([p], device=ctx.device)
    ctx.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=True, temperature=1.0,
                       top_p=0.9, max_new_tokens=new, min_new_tokens=new, num_return_sequences=samples,
                       pad_token_id=ctx.tokenizer.pad_token_id)


def stage_sampling(ctx: Any, n: int, naive_n: int, samples: int = 16, new: int = 10) -> dict:
    prompts = make_prompts(ctx.tokenizer, n, negative=True)
    args = {"prompts": prompts, "max_new_tokens": new, "do_sample": True, "temperature": 1.0, "top_p": 0.9,
            "n": samples, "seeds": list(range(n))}
    run_op(op_generate, "generate", ctx, {**args, "prompts": prompts[:2], "seeds": [0, 1]})
    t: dict = {}
    with timed(t, "batched"):
        run_op(op_generate, "generate", ctx, args)
    # naive: one prompt per HF generate call with num_return_sequences=samples; prompts[0] warms it up
    with torch.inference_mode():
        naive_generate(ctx, prompts[0], samples, new)
    with timed(t, "naive"), torch.inference_mode():
        for p in prompts[1:naive_n + 1]:
            naive_generate(ctx, p, samples, new)
    P = n_params(ctx.model)
    rows = n * samples
    steps = -(-rows * (len(prompts[0]) + new) // ctx.max_batch_tokens) * new
    b = n * samples / t["batched"]
    nv = naive_n * samples / t["naive"]
    return {
        "stage": "sampling_16x10", "unit": "samples/s", "prompts": n, "batched_per_s": b, "naive_per_s": nv,
        "naive_subset_prompts": naive_n, "ratio": b / nv, "batched_s": t["batched"],
        "peak_gib": t.get("batched_peak_gib"), "tokens_per_s": rows * new / t["batched"],
        "roofline_fraction": roofline_s(P, rows * (len(prompts[0]) + new), steps) / t["batched"],
    }


def stage_trace(ctx: Any, n: int, naive_n: int, new: int = 8) -> dict:
    prompts = make_prompts(ctx.tokenizer, n, negative=True)
    run_op(op_trace, "trace", ctx, {"prompts": prompts[:1], "max_new_tokens": new})
    t: dict = {}
    with timed(t, "batched"):
        run_op(op_trace, "trace", ctx, {"prompts": prompts, "max_new_tokens": new, "mode": "rows"})
    # naive: HF generate with attentions and hidden states returned, one prompt per call (first untimed)
    with timed(t, "naive"), torch.inference_mode(), ctx.eager():
        for p in prompts[:naive_n]:
            ids = torch.tensor([p], device=ctx.device)
            out = ctx.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=False,
                                     max_new_tokens=new, min_new_tokens=new, output_attentions=True,
                                     output_hidden_states=True, return_dict_in_generate=True,
                                     pad_token_id=ctx.tokenizer.pad_token_id)
            _ = [a[-1][0, :, -1].float().cpu() for a in out.attentions]
    b = n / t["batched"]
    nv = naive_n / t["naive"]
    P = n_params(ctx.model)
    toks = n * (len(prompts[0]) + new)
    return {
        "stage": "traced_greedy", "unit": "prompts/s", "prompts": n, "batched_per_s": b, "naive_per_s": nv,
        "naive_subset_prompts": naive_n, "ratio": b / nv, "batched_s": t["batched"],
        "peak_gib": t.get("batched_peak_gib"), "tokens_per_s": toks / t["batched"],
        "roofline_fraction": roofline_s(P, 2 * toks, n * new) / t["batched"],
    }


def stage_patch(ctx: Any, n: int, naive_n: int) -> dict:
    tok = ctx.tokenizer
    base = make_prompts(tok, n, negative=False)
    neg = make_prompts(tok, n, negative=True)
    items = [{"source": b, "target": g, "continuations": variants(tok, i)} for i, (b, g) in enumerate(zip(base, neg))]
    L = ctx.n_layers
    run_op(op_patch, "patch", ctx, {"items": items[:1], "sites": ["resid"]})
    t: dict = {}
    with timed(t, "batched"):
        run_op(op_patch, "patch", ctx, {"items": items, "sites": ["resid", "attn"]})
    # naive: record the source once, then one forward per (layer, site) with a plain hook,
    # each scoring every continuation in its own forward
    layers = ctx.layers()
    with timed(t, "naive"), torch.inference_mode():
        for it in items[:naive_n]:
            src = torch.tensor([it["source"]], device=ctx.device)
            rec: dict = {}

            def grab(li):
                def f(mod, inp, out):
                    h = out[0] if isinstance(out, tuple) else out
                    rec[li] = h[0, -1].clone()
                return f
            hs = [layers[li].register_forward_hook(grab(li)) for li in range(L)]
            try:
                ctx.model(input_ids=src)
            finally:
                for h in hs:
                    h.remove()
            pos = len(it["target"]) - 1
            for site in ("resid", "attn"):
                for li in range(L):
                    def put(mod, inp, out, li=li):
                        h = out[0] if isinstance(out, tuple) else out
                        h[0, pos] = rec[li]
                        return out
                    mod = layers[li] if site == "resid" else layers[li].self_attn
                    hk = mod.register_forward_hook(put)
                    try:
                        for c in it["continuations"]:
                            ids = torch.tensor([it["target"] + c], device=ctx.device)
                            ctx.model(input_ids=ids).logits[0, -1].float().argmax().item()
                    finally:
                        hk.remove()
    patches = n * L * 2
    b = patches / t["batched"]
    nv = naive_n * L * 2 / t["naive"]
    return {
        "stage": "patching_sweep", "unit": "layer-patches/s", "prompts": n, "layers": L,
        "batched_per_s": b, "naive_per_s": nv, "naive_subset_prompts": naive_n, "ratio": b / nv,
        "batched_s": t["batched"], "peak_gib": t.get("batched_peak_gib"),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="random:py-sidecar/configs/qwen2.5-7b-instruct.json")
    ap.add_argument("--out", default=None)
    ap.add_argument("--scale", type=float, default=1.0, help="multiply batch sizes (CPU smoke runs use 0.05)")
    ap.add_argument("--stages", default="psem,sampling,trace,patch")
    ap.add_argument("--max-batch-tokens", type=int, default=None)
    a = ap.parse_args()
    t0 = time.perf_counter()
    ctx = loading.build_context(a.model, max_batch_tokens=a.max_batch_tokens)
    load_s = time.perf_counter() - t0
    k = lambda v: max(1, int(v * a.scale))  # noqa: E731
    facts = {
        "model": ctx.model_id, "params": n_params(ctx.model), "dtype": str(ctx.dtype), "device": str(ctx.device),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "torch": torch.__version__, "max_batch_tokens": ctx.max_batch_tokens, "load_s": load_s,
    }
    print(json.dumps({"facts": facts}), flush=True)
    results = []
    plan = {
        "psem": lambda: stage_psem(ctx, k(512), k(16)),
        "sampling": lambda: stage_sampling(ctx, k(256), k(8)),
        "trace": lambda: stage_trace(ctx, k(64), k(8)),
        "patch": lambda: stage_patch(ctx, k(8), max(1, k(1))),
    }
    for name in a.stages.split(","):
        r = plan[name]()
        results.append(r)
        print(json.dumps(r), flush=True)
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    doc = {"facts": facts, "results": results}
    if a.out:
        Path(a.out).write_text(json.dumps(doc, indent=2))


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
