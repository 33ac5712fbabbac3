"""Where the run stage's ops spend their time: torch.profiler over one call of each, at the CLI's shapes.

    python py-sidecar/bench/profile_ops.py --model random:py-sidecar/configs/qwen2.5-7b-instruct.json --out prof.json

The shapes are one paper chunk as `run` sends it (32 prompts × 2 conditions): greedy generate of 64
prompts × 8 tokens, sampling of 64 prompts × 16 × 10, the two in one call (greedy_tokens, as `run` now
sends them), P_sem score of 64 items, the decision trace of 64 sequences. Per op: wall per call (median of ``--repeats`` after a warm-up), the profiled call's total
self CUDA time (GPU busy share = that / wall), kernel launches, host syncs, and the top entries by self
CUDA and self CPU time. ``--peaked S`` also reruns sampling with the unembedding scaled by S, so that a
random model's next-token distributions are as peaked as a trained model's (its top-k path covers).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from sempress_sidecar import loading  # noqa: E402
from sempress_sidecar.ops import WHITELIST  # noqa: E402
from sempress_sidecar.protocol import ARG_PARSERS  # noqa: E402
from workloads import generate_args, score_args, trace_args  # noqa: E402


def sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def call(ctx: Any, op: str, args: dict) -> dict:
    return WHITELIST[op](ctx, ARG_PARSERS[op](args))


def top(events: Any, key: str, n: int) -> list[dict]:
    rows = sorted(events, key=lambda e: getattr(e, key), reverse=True)[:n]
    return [{"name": e.key[:90], "calls": e.count, "self_cuda_ms": round(e.self_device_time_total / 1e3, 2),
             "self_cpu_ms": round(e.self_cpu_time_total / 1e3, 2)} for e in rows]


def profile(ctx: Any, op: str, args: dict, repeats: int) -> dict:
    call(ctx, op, args)
    sync()
    walls = []
    for _ in range(repeats):
        t = time.perf_counter()
        call(ctx, op, args)
        sync()
        walls.append(time.perf_counter() - t)
    acts = [torch.profiler.ProfilerActivity.CPU]
    if torch.cuda.is_available():
        acts.append(torch.profiler.ProfilerActivity.CUDA)
    with torch.profiler.profile(activities=acts) as prof:
        call(ctx, op, args)
        sync()
    ev = prof.key_averages()
    count = lambda *names: sum(e.count for e in ev if any(n in e.key for n in names))  # noqa: E731
    cuda_ms = sum(e.self_device_time_total for e in ev) / 1e3
    wall = statistics.median(walls)
    return {"op": op, "wall_ms": round(wall * 1e3, 1), "walls_ms": [round(w * 1e3, 1) for w in walls],
            "self_cuda_ms": round(cuda_ms, 1), "gpu_busy_share": round(cuda_ms / 1e3 / wall, 3) if wall else None,
            "kernel_launches": count("cudaLaunchKernel", "cuLaunchKernel"),
            "host_syncs": count("cudaStreamSynchronize", "cudaDeviceSynchronize"),
            "memcpy": count("cudaMemcpyAsync"),
            "top_cuda": top(ev, "self_device_time_total", 14), "top_cpu": top(ev, "self_cpu_time_total", 10)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="random:py-sidecar/configs/qwen2.5-7b-instruct.json")
    ap.add_argument("--prompts", type=int, default=32, help="prompts per chunk (both conditions are sent)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--ops", default="greedy,sample,both,score,trace")
    ap.add_argument("--peaked", type=float, default=0.0)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    ctx = loading.build_context(a.model)
    tok = ctx.tokenizer
    n2 = 2 * a.prompts
    greedy = generate_args(tok, n2, sample=False)
    sample = generate_args(tok, n2, sample=True)
    res: dict[str, Any] = {"model": a.model, "device": str(ctx.device), "dtype": str(ctx.dtype), "prompts": a.prompts,
                           "ops": {}}
    wanted = a.ops.split(",")
    if "greedy" in wanted:
        res["ops"]["greedy"] = profile(ctx, "generate", greedy, a.repeats)
    if "sample" in wanted:
        res["ops"]["sample"] = profile(ctx, "generate", sample, a.repeats)
    if "both" in wanted:  # sampling with each prompt's greedy row in the same batch, as `run` sends it
        res["ops"]["sample+greedy"] = profile(ctx, "generate", dict(sample, greedy_tokens=8), a.repeats)
    if "score" in wanted:
        res["ops"]["score"] = profile(ctx, "score", score_args(tok, n2), a.repeats)
    if "trace" in wanted:
        out = call(ctx, "generate", greedy)["sequences"]
        res["ops"]["trace"] = profile(ctx, "trace", trace_args(greedy["prompts"], out), a.repeats)
    if a.peaked:
        head = ctx.model.get_output_embeddings().weight
        with torch.no_grad():
            head.mul_(a.peaked)
        res["ops"][f"sample_peaked_x{a.peaked:g}"] = profile(ctx, "generate", sample, a.repeats)
        with torch.no_grad():
            head.div_(a.peaked)
    for k, v in res["ops"].items():
        print(json.dumps({k: {x: v[x] for x in ("wall_ms", "self_cuda_ms", "gpu_busy_share", "kernel_launches", "host_syncs")}}),
              flush=True)
    text = json.dumps(res, indent=1)
    if a.out:
        Path(a.out).write_text(text)
    else:
        print(text)


if __name__ == "__main__":
    main()
