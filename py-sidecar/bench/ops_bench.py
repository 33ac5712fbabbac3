"""Before/after of the sidecar's ops in one process: the package at a git revision (``--before``) against
the working tree's, on the same loaded model and the same args (the design's shapes, workloads.py).

    python py-sidecar/bench/ops_bench.py --model random:py-sidecar/configs/qwen2-tiny.json --before 2415c2a
    python py-sidecar/bench/ops_bench.py --model default --ops score,sample,patch --prompts 8 --threads 1

For each op, one JSON line: best-of-``--repeats`` seconds before and after (after one untimed warm-up
each), host reads from sidecar code (counters.py: each one a device sync on a GPU), forward passes,
and how far the outputs are apart (ids must be identical, floats within 1e-5).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

import torch

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from before import load_at  # noqa: E402
from counters import count_forwards, count_host_reads  # noqa: E402
from sempress_sidecar import loading  # noqa: E402
from sempress_sidecar.ops import WHITELIST  # noqa: E402
from sempress_sidecar.protocol import ARG_PARSERS  # noqa: E402
import workloads as w  # noqa: E402

DEFAULT_BEFORE = "2415c2a"
"""The last commit before issue 12's sidecar changes (per-row reads in score, per-item patch passes)."""

FUNCTIONS = {"score": ("ops_forward", "op_score"), "generate": ("ops_forward", "op_generate"),
             "logit_lens": ("mechanistic", "op_logit_lens"), "decompose": ("mechanistic", "op_decompose"),
             "patch": ("patching", "op_patch")}
"""Where each op lives (the whitelist's lazy entries import by the package's own name, so they are
resolved here for the old package)."""

OPS: dict[str, tuple[str, Callable[[Any, int], dict]]] = {
    "score": ("score", lambda tok, n: w.score_args(tok, n)),
    "greedy": ("generate", lambda tok, n: w.generate_args(tok, n, sample=False)),
    "sample": ("generate", lambda tok, n: w.generate_args(tok, n, sample=True)),
    "lens": ("logit_lens", lambda tok, n: w.lens_args(tok, n)),
    "decompose": ("decompose", lambda tok, n: w.lens_args(tok, n)),
    "patch": ("patch", lambda tok, n: w.patch_args(tok, max(1, n // 8))),
}


def sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    out = fn()  # warm-up, untimed
    best = float("inf")
    for _ in range(repeats):
        sync()
        t0 = time.perf_counter()
        out = fn()
        sync()
        best = min(best, time.perf_counter() - t0)
    return best, out


def floats_and_ints(x: Any, fl: list[float], ints: list[int]) -> None:
    """Flatten a result: floats (log-probs, probabilities) and ints (ids, argmaxes) apart."""
    if isinstance(x, dict):
        for k in sorted(x):
            floats_and_ints(x[k], fl, ints)
    elif isinstance(x, (list, tuple)):
        for v in x:
            floats_and_ints(v, fl, ints)
    elif isinstance(x, bool) or isinstance(x, int):
        ints.append(int(x))
    elif isinstance(x, float):
        fl.append(x)


def compare(a: Any, b: Any) -> dict:
    fa, ia, fb, ib = [], [], [], []
    floats_and_ints(a, fa, ia)
    floats_and_ints(b, fb, ib)
    diff = max((abs(x - y) for x, y in zip(fa, fb)), default=0.0) if len(fa) == len(fb) else float("inf")
    return {"floats": len(fa), "max_abs_diff": diff, "ints_identical": ia == ib}


def bench_op(ctx: Any, old: Any, key: str, n: int, repeats: int) -> dict:
    op, build = OPS[key]
    args = ARG_PARSERS[op](build(ctx.tokenizer, n))
    row: dict[str, Any] = {"op": key, "n": n}
    results = {}
    module, name = FUNCTIONS[op]
    for label, fn in (("before", getattr(getattr(old, module), name)), ("after", WHITELIST[op])):
        secs, out = timed(lambda fn=fn: fn(ctx, args), repeats)
        with count_host_reads() as reads, count_forwards(ctx) as fw:
            fn(ctx, args)
        row[label] = {"seconds": round(secs, 4), "host_reads": sum(reads.values()), "forwards": fw.calls,
                      "rows": fw.rows, "tokens": fw.tokens}
        results[label] = out
    row["speedup"] = round(row["before"]["seconds"] / row["after"]["seconds"], 2)
    row.update(compare(results["before"], results["after"]))
    return row


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="random:py-sidecar/configs/qwen2-tiny.json")
    ap.add_argument("--before", default=DEFAULT_BEFORE, help="git revision of the 'before' package")
    ap.add_argument("--ops", default=",".join(OPS))
    ap.add_argument("--prompts", type=int, default=32, help="prompts per op (patch: prompts / 8 items)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (1 is steadier on a busy box)")
    ap.add_argument("--max-batch-tokens", type=int, default=None)
    a = ap.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    old = load_at(a.before)
    ctx = loading.build_context(a.model, max_batch_tokens=a.max_batch_tokens)
    print(json.dumps({"model": ctx.model_id, "device": str(ctx.device), "dtype": str(ctx.dtype),
                      "before": a.before, "threads": torch.get_num_threads(),
                      "max_batch_tokens": ctx.max_batch_tokens}), flush=True)
    for key in a.ops.split(","):
        print(json.dumps(bench_op(ctx, old, key, a.prompts, a.repeats)), flush=True)


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
