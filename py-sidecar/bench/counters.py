"""Counters for benches and tests: host reads made by sidecar code, and forward passes of the model.

Host reads: on a GPU every read (``.item()``, ``.tolist()``, ``float(t)``, ``int(t)``, ``bool(t)``, ``.cpu()``,
``.numpy()``) waits for the device to finish everything queued before it: a read per row turns a
batched op into a sequence of small round trips. Counting them needs no GPU: the reads are the same
calls on the CPU. Only calls made directly from ``sempress_sidecar*`` modules count (not the ones inside
transformers' own forward), so the number measures the ops' code.

    with count_host_reads() as reads:
        op_score(ctx, args)
    print(sum(reads.values()), dict(reads))

Forward passes: every call of the decoder stack (``ctx.backbone()``, which ``ctx.model`` calls too),
with its rows and (padded) tokens, read from shapes only, so counting adds no device sync. Each forward
reads every weight once: that, not the number of requests, is what a roofline must count.
"""
from __future__ import annotations

import contextlib
import sys
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import torch

READS = ("item", "tolist", "__float__", "__int__", "__bool__", "cpu", "numpy")


def _counting(name: str, orig: Callable, counts: Counter, prefix: str) -> Callable:
    def read(self: torch.Tensor, *a: Any, **k: Any) -> Any:
        if sys._getframe(1).f_globals.get("__name__", "").startswith(prefix):
            counts[name] += 1
        return orig(self, *a, **k)

    return read


@contextlib.contextmanager
def count_host_reads(prefix: str = "sempress_sidecar") -> Iterator[Counter]:
    """Within the block, count tensor reads made from modules whose name starts with ``prefix``."""
    counts: Counter = Counter()
    saved = {name: torch.Tensor.__dict__.get(name) for name in READS}
    try:
        for name in READS:
            setattr(torch.Tensor, name, _counting(name, getattr(torch.Tensor, name), counts, prefix))
        yield counts
    finally:
        for name, orig in saved.items():
            if orig is None:
                delattr(torch.Tensor, name)
            else:
                setattr(torch.Tensor, name, orig)


@dataclass
class Forwards:
    calls: int = 0
    rows: int = 0
    tokens: int = 0  # rows × width of each call (padding included: what the device computes)
    attended: int = 0  # rows × key/value columns each row attends to (cached ones included)


@contextlib.contextmanager
def count_forwards(ctx: Any) -> Iterator[Forwards]:
    """Within the block, count the forward passes of ``ctx``'s decoder stack."""
    seen = Forwards()

    def hook(module: Any, args: tuple, kwargs: dict) -> None:
        ids = kwargs.get("input_ids", args[0] if args else None)
        if ids is None:
            ids = kwargs.get("inputs_embeds")
        mask = kwargs.get("attention_mask")
        seen.calls += 1
        if ids is not None:
            seen.rows += int(ids.shape[0])
            seen.tokens += int(ids.shape[0]) * int(ids.shape[1])
            seen.attended += int(ids.shape[0]) * int(mask.shape[-1] if mask is not None else ids.shape[1])

    handle = ctx.backbone().register_forward_pre_hook(hook, with_kwargs=True)
    try:
        yield seen
    finally:
        handle.remove()
