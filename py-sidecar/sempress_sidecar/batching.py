"""Padding, chunking and KV-cache helpers shared by every forward-pass op (score, generate, trace, the
lens ops and patching): one place for the pad id, the padded batch, the chunking rules and the KV cache."""
from __future__ import annotations

import copy
import functools
import inspect
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Sequence

import torch


def pad_id(ctx: Any) -> int:
    """The id padded positions carry (masked, so its value never reaches a result): the tokenizer's pad,
    else the first EOS id, else 0 (tests build contexts without a tokenizer)."""
    if getattr(ctx, "tokenizer", None) is None:
        return 0
    from .ops_text import pad_id as tokenizer_pad_id

    return tokenizer_pad_id(ctx)


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


@dataclass
class Batch:
    input_ids: torch.Tensor  # [B, T]
    attention_mask: torch.Tensor  # [B, T]
    position_ids: torch.Tensor  # [B, T]
    offsets: list[int]  # column of token 0 of each row (left padding), 0 for right padding


def make_batch(ctx: Any, seqs: Sequence[Sequence[int]], left: bool) -> Batch:
    """Pad ``seqs`` to one [B, T] batch (left or right), with attention mask and position ids that
    count real tokens only, so a row's numbers do not depend on its neighbours."""
    if left:
        ids, mask, pos = left_pad(seqs, pad_id(ctx), ctx.device)
        offsets = [ids.shape[1] - len(s) for s in seqs]
    else:
        ids, mask = right_pad(seqs, pad_id(ctx), ctx.device)
        pos = (mask.cumsum(-1) - 1).clamp(min=0)
        offsets = [0] * len(seqs)
    return Batch(ids, mask, pos, offsets)


def chunk_by_tokens(lengths: Sequence[int], budget: int) -> list[list[int]]:
    """Consecutive index groups with (rows × longest row) ≤ budget; a row longer than the budget
    goes alone."""
    chunks: list[list[int]] = []
    cur: list[int] = []
    longest = 0
    for i, n in enumerate(lengths):
        new_longest = max(longest, n)
        if cur and (len(cur) + 1) * new_longest > budget:
            chunks.append(cur)
            cur, new_longest = [], n
        cur.append(i)
        longest = new_longest
    if cur:
        chunks.append(cur)
    return chunks


@functools.lru_cache(maxsize=None)
def _cache_kw_of(cls: type) -> str:
    params = inspect.signature(cls.forward).parameters
    return next((n for n in ("cache", "past_key_values") if n in params), "")


def cache_kw(module: Any) -> str:
    """Name of ``module``'s KV-cache argument: "cache" in newer transformers, "past_key_values" in older
    ones, "" when its forward takes none."""
    return _cache_kw_of(type(module))


def cache_of(out: Any) -> Any:
    """The KV cache a forward returned (under either name), or None."""
    c = getattr(out, "cache", None)
    return c if c is not None else getattr(out, "past_key_values", None)
