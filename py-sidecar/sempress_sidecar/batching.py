"""Padding, chunking and KV-cache helpers shared by the forward-pass ops."""
from __future__ import annotations

import copy
from typing import Any, Iterable, Iterator, Sequence

import torch


def left_pad(seqs: Sequence[Sequence[int]], pad_id: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(input_ids, attention_mask, position_ids), each [B, maxlen], padded on the left.

    Position ids count real tokens only, so a padded row sees exactly the positions of its unpadded run.
    """
    n = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), n), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), n), dtype=torch.long)
    for i, s in enumerate(seqs):
        if len(s):
            ids[i, n - len(s):] = torch.tensor(list(s), dtype=torch.long)
            mask[i, n - len(s):] = 1
    pos = (mask.cumsum(-1) - 1).clamp(min=0)
    return ids.to(device), mask.to(device), pos.to(device)


def right_pad(seqs: Sequence[Sequence[int]], pad_id: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """(input_ids, attention_mask), each [B, maxlen], padded on the right."""
    n = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), n), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), n), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(list(s), dtype=torch.long)
        mask[i, : len(s)] = 1
    return ids.to(device), mask.to(device)


def chunks_by_cost(costs: Iterable[int], budget: int) -> Iterator[list[int]]:
    """Group consecutive indices so each group's summed cost stays ≤ budget (a single oversize item is alone)."""
    group: list[int] = []
    total = 0
    for i, c in enumerate(costs):
        if group and total + c > budget:
            yield group
            group, total = [], 0
        group.append(i)
        total += c
    if group:
        yield group


def select_cache(cache: Any, rows: torch.Tensor) -> Any:
    """A new cache whose batch row r is row ``rows[r]`` of ``cache`` (rows may repeat). ``cache`` is untouched."""
    if isinstance(cache, tuple):  # legacy tuple-of-tuples caches
        return tuple(tuple(t.index_select(0, rows.to(t.device)) for t in layer) for layer in cache)
    new = copy.copy(cache)
    if hasattr(new, "layers"):
        new.layers = [copy.copy(layer) for layer in cache.layers]
    else:  # older DynamicCache kept key_cache/value_cache lists
        new = copy.deepcopy(cache)
    new.reorder_cache(rows)
    return new


def check_ids(seqs: Iterable[Sequence[int]], vocab: int, what: str) -> None:
    """Token ids outside the embedding table would crash (or, on CUDA, poison) the process."""
    from .protocol import BadArgs

    for i, s in enumerate(seqs):
        for t in s:
            if t < 0 or t >= vocab:
                raise BadArgs(f"{what}[{i}] holds token id {t}, outside [0, {vocab})")
