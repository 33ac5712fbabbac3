"""Layer-patches per second: the batched patching sweep (op_patch) against naive loops.

One "layer patch" = one (site, layer) cell of the sweep for one prompt, with all its continuations scored.
Three ways to fill the same cells, each starting from the same recorded source activations:

- batched      ``op_patch``: the clean prefixes in one pass, then all cells and continuations packed into as
               few passes as the budget allows
- per_layer    one full forward per (site, layer), the continuations as rows of that pass
- per_variant  one full forward per (site, layer, continuation): the one-call-per-variant loop

The naive loops reuse op_patch's own row scorer, so only the batching differs. Forward passes are counted
as they run (counters.count_forwards). Prints one JSON line.

    python py-sidecar/bench/patch_bench.py                      # tiny random Qwen2 on this machine
    python py-sidecar/bench/patch_bench.py --model random:py-sidecar/configs/qwen2.5-7b.json
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Callable

import torch

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from counters import count_forwards  # noqa: E402
from sempress_sidecar import patching as mech  # noqa: E402


def tiny_ctx(n_layers: int = 4, max_batch_tokens: int = 4096) -> Any:
    """The same tiny random Qwen2 the unit tests use (no tokenizer, no download)."""
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from sempress_sidecar.context import ModelContext

    torch.manual_seed(0)
    cfg = Qwen2Config(vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=n_layers,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                      attn_implementation="eager")
    model = Qwen2ForCausalLM(cfg).eval()
    return ModelContext(model=model, tokenizer=None, device=torch.device("cpu"), dtype=torch.float32,
                        n_layers=n_layers, model_id="tiny-qwen2", model_source="random",
                        max_batch_tokens=max_batch_tokens, base_attn="eager")


def make_items(ctx: Any, n_items: int, target_len: int, n_conts: int, cont_len: int, seed: int = 0) -> list[dict]:
    vocab = mech._vocab_size(ctx)
    g = torch.Generator().manual_seed(seed)

    def ids(n: int) -> list[int]:
        return torch.randint(1, vocab, (n,), generator=g).tolist()

    return [{"source": ids(target_len - 6), "target": ids(target_len), "continuations": [ids(cont_len) for _ in range(n_conts)],
             "layers": None} for _ in range(n_items)]


def _prepared(ctx: Any, items: list[dict]) -> list[dict]:
    return [{**it, "_layers": list(range(ctx.n_layers))} for it in items]


def naive(ctx: Any, items: list[dict], sites: list[str], per_variant: bool) -> None:
    """Fill the sweep with one forward per (site, layer) or per (site, layer, continuation)."""
    prepared = _prepared(ctx, items)
    recs = mech._record_sources(ctx, prepared, sites)
    rows = mech._build_rows(prepared, sites)
    groups: dict[Any, list[Any]] = {}
    for r in rows:
        key = (r.item, r.variant, r.cont) if per_variant else (r.item, r.variant)
        groups.setdefault(key, []).append(r)
    for g in groups.values():
        mech._score_rows(ctx, g, recs)[0].tolist()


def batched(ctx: Any, items: list[dict], sites: list[str]) -> None:
    mech.op_patch(ctx, {"items": items, "sites": sites})


def _time(ctx: Any, fn: Callable[[], None], repeats: int, sync: Callable[[], None]) -> tuple[float, int]:
    """Best-of-``repeats`` seconds after a warm-up, and the forward passes one run makes."""
    with count_forwards(ctx) as fw:
        fn()  # warm-up
    sync()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        sync()
        best = min(best, time.perf_counter() - t0)
    return best, fw.calls


def bench(ctx: Any, n_items: int = 1, target_len: int = 48, n_conts: int = 4, cont_len: int = 2,
          sites: tuple[str, ...] = ("resid", "attn"), repeats: int = 3, with_per_variant: bool = True) -> dict:
    """Time the three ways on one workload; layer_patches = items × sites × layers."""
    items = make_items(ctx, n_items, target_len, n_conts, cont_len)
    sl = list(sites)
    dev = ctx.device
    sync = (lambda: torch.cuda.synchronize(dev)) if getattr(dev, "type", "cpu") == "cuda" else (lambda: None)
    cells = n_items * len(sl) * ctx.n_layers
    out: dict[str, Any] = {
        "bench": "patch", "model": getattr(ctx, "model_id", "") or type(ctx.model).__name__,
        "device": str(dev), "dtype": str(ctx.dtype).replace("torch.", ""), "n_layers": ctx.n_layers,
        "items": n_items, "sites": sl, "target_len": target_len, "continuations": n_conts, "cont_len": cont_len,
        "max_batch_tokens": ctx.max_batch_tokens, "layer_patches": cells, "threads": torch.get_num_threads(),
    }
    ways: dict[str, Callable[[], None]] = {
        "batched": lambda: batched(ctx, items, sl),
        "per_layer": lambda: naive(ctx, items, sl, per_variant=False),
    }
    if with_per_variant:
        ways["per_variant"] = lambda: naive(ctx, items, sl, per_variant=True)
    for name, fn in ways.items():
        secs, passes = _time(ctx, fn, repeats, sync)
        out[name] = {"seconds": round(secs, 5), "forward_passes": passes, "layer_patches_per_s": round(cells / secs, 2)}
    for name in ways:
        if name != "batched":
            out[f"speedup_vs_{name}"] = round(out[name]["seconds"] / out["batched"]["seconds"], 2)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="tiny", help='"tiny" (built here) or anything loading.build_context accepts')
    ap.add_argument("--tiny-layers", type=int, default=4, help="layers of the tiny model")
    ap.add_argument("--items", type=int, default=1)
    ap.add_argument("--target-len", type=int, default=48)
    ap.add_argument("--continuations", type=int, default=4)
    ap.add_argument("--cont-len", type=int, default=2)
    ap.add_argument("--sites", default="resid,attn")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--max-batch-tokens", type=int, default=None)
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (1 is steadier on a busy box)")
    ap.add_argument("--no-per-variant", action="store_true", help="skip the slowest loop (big models)")
    a = ap.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    if a.model == "tiny":
        ctx = tiny_ctx(n_layers=a.tiny_layers, max_batch_tokens=a.max_batch_tokens or 4096)
    else:
        from sempress_sidecar.loading import build_context

        ctx = build_context(a.model, max_batch_tokens=a.max_batch_tokens)
    with torch.inference_mode():
        res = bench(ctx, a.items, a.target_len, a.continuations, a.cont_len, tuple(a.sites.split(",")), a.repeats,
                    not a.no_per_variant)
    print(json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
