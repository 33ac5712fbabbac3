"""GPU throughput of every model stage: sempress's batched ops vs a naive loop, in one process.

    python py-sidecar/bench/gpu_bench.py --model random:py-sidecar/configs/qwen2.5-7b-instruct.json \
        --out bench.json
    python py-sidecar/bench/gpu_bench.py --model random:py-sidecar/configs/qwen2-tiny.json --scale 0.02  # CPU smoke

For each stage the batched path is the sidecar's own op (called in-process, the same functions the
ZeroMQ server dispatches to) and the naive path is what a typical script does: one prompt (or one
sequence, or one layer) per Hugging Face call. Both run on the same model in the same process, on the
same inputs (workloads.py: the design's shapes), so the ratio is a like-for-like speed-up. The naive
path is timed on a subset and its rate extrapolated; the subset size is reported (``--no-naive`` skips
it). Each stage line also names the op as the end-to-end bench (``sempress bench``, src/bench/meter.ts)
keys it and its rate in that bench's work items (``items_per_s``), so the CLI's rates can be set against
these (src/bench/baseline.ts).

Roofline, counted from what the op really ran (counters.count_forwards: every forward of the decoder
stack, its rows, its padded tokens and the key/value columns its rows attend to): bf16 dense ≈ 790
TFLOP/s and HBM ≈ 4.8 TB/s on an H200; a pass costs ≈ 2·P FLOP per token it runs and reads every
weight once (P·bytes) plus the KV cache its rows attend to. The bound is max(FLOP / peak FLOP/s,
bytes / peak bandwidth); "of roofline" = bound / measured time (null off CUDA).
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

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from counters import Forwards, count_forwards  # noqa: E402
from sempress_sidecar import loading  # noqa: E402
from sempress_sidecar.memory import element_bytes, kv_bytes_per_token  # noqa: E402
from sempress_sidecar.ops import WHITELIST  # noqa: E402
from sempress_sidecar.protocol import ARG_PARSERS  # noqa: E402
import workloads as w  # noqa: E402

PEAK_FLOPS = 790e12
PEAK_BW = 4.8e12


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


def n_params(model: Any) -> int:
    return sum(p.numel() for p in model.parameters())


def roofline_s(ctx: Any, fw: Forwards) -> float:
    """Lower bound on the time of the forwards counted in ``fw``."""
    P = n_params(ctx.model)
    flops = 2 * P * fw.tokens
    bytes_ = fw.calls * P * element_bytes(ctx.dtype) + fw.attended * kv_bytes_per_token(ctx)
    return max(flops / PEAK_FLOPS, bytes_ / PEAK_BW)


def run_op(op: str, ctx: Any, args: dict) -> dict:
    return WHITELIST[op](ctx, ARG_PARSERS[op](args))


NAIVE = True
"""Whether stages time their naive loop too (``--no-naive``: only the ops' own rates, e.g. as a baseline)."""


def e2e_items(op: str, args: dict, n_layers: int) -> int:
    """Work items of one request as the end-to-end bench counts them (src/bench/meter.ts itemsOf)."""
    if op == "generate":
        return len(args["prompts"]) * args.get("n", 1)
    if op == "trace":
        return len(args["sequences"])
    if op == "patch":
        sites = len(args.get("sites") or ["resid", "attn"])
        return sum(len(it.get("layers") or range(n_layers)) * sites for it in args["items"])
    return len(args["items"])


def measure(ctx: Any, op: str, args: dict, warm: dict, naive: Callable[[list], int], population: list,
            naive_n: int, stage: str, unit: str, units: int) -> dict:
    """Time the op on ``args`` (after a warm-up on ``warm``) and the naive loop over ``population[1:naive_n+1]``
    (after an untimed first element; it returns the units it covered); one result line."""
    run_op(op, ctx, warm)
    t: dict = {}
    with count_forwards(ctx) as fw, timed(t, "batched"):
        run_op(op, ctx, args)
    naive_units = 0
    if NAIVE:
        naive(population[:1])
        with timed(t, "naive"):
            naive_units = naive(population[1:naive_n + 1])
    rate = units / t["batched"]
    naive_rate = naive_units / t["naive"] if naive_units else None  # skipped, or a population of one
    bound = roofline_s(ctx, fw)
    return {
        "stage": stage, "op": op_key(op, args), "unit": unit, "units": units, "batched_per_s": rate,
        "items_per_s": e2e_items(op, args, ctx.n_layers) / t["batched"],
        "naive_per_s": naive_rate, "naive_units": naive_units, "ratio": rate / naive_rate if naive_rate else None,
        "batched_s": t["batched"], "peak_gib": t.get("batched_peak_gib"), "forwards": fw.calls, "rows": fw.rows,
        "tokens": fw.tokens, "attended": fw.attended, "tokens_per_s": fw.tokens / t["batched"],
        "roofline_s": bound, "roofline_fraction": bound / t["batched"] if ctx.device.type == "cuda" else None,
    }


def op_key(op: str, args: dict) -> str:
    """The op names the end-to-end bench reports: generate splits into sampling and greedy calls."""
    if op == "generate":
        return "generate:sample" if args.get("do_sample") else "generate:greedy"
    return op


# ---------------------------------------------------------------- stages

def stage_psem(ctx: Any, n: int, naive_n: int) -> dict:
    args = w.score_args(ctx.tokenizer, n)
    items = args["items"]

    def naive(sub: list[dict]) -> int:  # one (prompt + variant) sequence per forward, as a plain loop over S(X) would do
        with torch.inference_mode():
            for it in sub:
                for c in it["continuations"]:
                    ids = torch.tensor([it["prefix"] + c], device=ctx.device)
                    lp = torch.log_softmax(ctx.model(input_ids=ids).logits[0, -len(c) - 1:-1].float(), -1)
                    lp.gather(-1, torch.tensor(c, device=ctx.device)[:, None]).sum().item()
        return sum(len(it["continuations"]) for it in sub)

    units = sum(len(it["continuations"]) for it in items)
    return measure(ctx, "score", args, {"items": items[:4]}, naive, items, naive_n, "psem_scoring", "sequences", units)


def stage_generate(ctx: Any, n: int, naive_n: int, sample: bool) -> dict:
    args = w.generate_args(ctx.tokenizer, n, sample)
    warm = {**args, "prompts": args["prompts"][:2], **({"seeds": [0, 1]} if sample else {})}
    k = args.get("n", 1)

    def naive(sub: list[list[int]]) -> int:  # one prompt per HF generate call (num_return_sequences = samples)
        kw = dict(do_sample=sample, max_new_tokens=args["max_new_tokens"], min_new_tokens=args["max_new_tokens"],
                  num_return_sequences=k, pad_token_id=ctx.tokenizer.pad_token_id)
        if sample:
            kw.update(temperature=1.0, top_p=0.9)
        with torch.inference_mode():
            for p in sub:
                ids = torch.tensor([p], device=ctx.device)
                ctx.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), **kw)
        return len(sub) * k

    stage = f"sampling_{w.SAMPLES}x{w.SAMPLE_NEW_TOKENS}" if sample else f"greedy_{w.GREEDY_NEW_TOKENS}"
    unit = "samples" if sample else "prompts"
    return measure(ctx, "generate", args, warm, naive, args["prompts"], naive_n, stage, unit, n * k)


def stage_trace(ctx: Any, n: int, naive_n: int) -> dict:
    g = w.generate_args(ctx.tokenizer, n, sample=False)
    greedy = run_op("generate", ctx, g)["sequences"]
    args = w.trace_args(g["prompts"], greedy)
    seqs = args["sequences"]

    def naive(sub: list[list[int]]) -> int:  # one eager forward with attentions per sequence, its last query row to the host
        with ctx.eager(), torch.inference_mode():
            for s in sub:
                out = ctx.model(input_ids=torch.tensor([s], device=ctx.device), output_attentions=True)
                _ = [a[0, :, -1].float().cpu() for a in out.attentions]
        return len(sub)

    warm = {**args, "sequences": seqs[:2]}
    return measure(ctx, "trace", args, warm, naive, seqs, naive_n, "trace_decision", "sequences", len(seqs))


def stage_lens(ctx: Any, n: int, naive_n: int, op: str) -> dict:
    args = w.lens_args(ctx.tokenizer, n)
    items = args["items"]

    def naive(sub: list[dict]) -> int:  # one item per op call
        for it in sub:
            run_op(op, ctx, {"items": [it]})
        return len(sub)

    return measure(ctx, op, args, {"items": items[:2]}, naive, items, naive_n, op, "items", len(items))


def stage_patch(ctx: Any, n: int, naive_n: int) -> dict:
    args = w.patch_args(ctx.tokenizer, n)
    items, L = args["items"], ctx.n_layers
    layers = ctx.layers()

    def naive(sub: list[dict]) -> int:  # record the source, then one forward per (layer, site, continuation), plain hooks
        with torch.inference_mode():
            for it in sub:
                rec: dict = {}

                def grab(li):
                    def f(mod, inp, out):
                        h = out[0] if isinstance(out, tuple) else out
                        rec[li] = h[0, -1].clone()
                    return f
                hs = [layers[li].register_forward_hook(grab(li)) for li in range(L)]
                try:
                    ctx.model(input_ids=torch.tensor([it["source"]], device=ctx.device))
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
        return len(sub) * L * 2

    warm = {"items": items[:1], "sites": ["resid"]}
    return measure(ctx, "patch", args, warm, naive, items, naive_n, "patching_sweep", "layer-patches", len(items) * L * 2)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="random:py-sidecar/configs/qwen2.5-7b-instruct.json")
    ap.add_argument("--out", default=None)
    ap.add_argument("--scale", type=float, default=1.0, help="multiply batch sizes (CPU smoke runs use 0.02)")
    ap.add_argument("--stages", default="psem,sampling,greedy,trace,lens,decompose,patch")
    ap.add_argument("--max-batch-tokens", type=int, default=None)
    ap.add_argument("--no-naive", action="store_true", help="skip the naive loops (only the ops' own rates)")
    a = ap.parse_args()
    global NAIVE
    NAIVE = not a.no_naive
    t0 = time.perf_counter()
    ctx = loading.build_context(a.model, max_batch_tokens=a.max_batch_tokens)
    load_s = time.perf_counter() - t0
    k = lambda v: max(2, int(v * a.scale))  # noqa: E731
    facts = {
        "model": ctx.model_id, "params": n_params(ctx.model), "dtype": str(ctx.dtype), "device": str(ctx.device),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "torch": torch.__version__, "max_batch_tokens": ctx.max_batch_tokens, "load_s": load_s,
    }
    print(json.dumps({"facts": facts}), flush=True)
    plan = {
        "psem": lambda: stage_psem(ctx, k(512), k(16)),
        "sampling": lambda: stage_generate(ctx, k(256), k(8), sample=True),
        "greedy": lambda: stage_generate(ctx, k(256), k(8), sample=False),
        "trace": lambda: stage_trace(ctx, k(256), k(16)),
        "lens": lambda: stage_lens(ctx, k(256), k(16), "logit_lens"),
        "decompose": lambda: stage_lens(ctx, k(256), k(16), "decompose"),
        "patch": lambda: stage_patch(ctx, k(8), 1),
    }
    results = []
    for name in a.stages.split(","):
        r = plan[name]()
        results.append(r)
        print(json.dumps(r), flush=True)
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    if a.out:
        Path(a.out).write_text(json.dumps({"facts": facts, "results": results}, indent=2))


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
