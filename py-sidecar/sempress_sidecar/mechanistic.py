"""Mechanistic ops: logit lens and attention-vs-FFN decomposition, and the batching helpers that the
activation-patching op (patching.py) shares with them.

Contract: LogitLensArgs/Result, DecomposeArgs/Result, PatchArgs/Result in src/rpc/protocol.ts. Each op
takes the parsed args map (protocol.parse_lens_items / parse_patch) and returns plain lists and floats.

Every op is batched: items (or patch rows) are packed into forward passes under ``ctx.max_batch_tokens``
(rows × longest row). Hooks capture only the rows/positions asked for, so memory stays at one hidden
vector per layer per item. The lens ops use no KV cache.
"""
from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import torch

from .batching import left_pad, right_pad
from .hooks import capture_rows, hook_name, hooks
from .protocol import BadArgs

log = logging.getLogger("sempress.mechanistic")

LOGIT_BLOCK = 1024
"""Positions whose full-vocabulary logits are materialised at once (bounds [block, vocab] float32)."""


# ---------------------------------------------------------------- batching helpers

@dataclass
class Batch:
    input_ids: torch.Tensor  # [B, T]
    attention_mask: torch.Tensor  # [B, T]
    position_ids: torch.Tensor  # [B, T]
    offsets: list[int]  # column of token 0 of each row (left padding), 0 for right padding


def _pad_id(ctx: Any) -> int:
    tok = getattr(ctx, "tokenizer", None)
    for attr in ("pad_token_id", "eos_token_id"):
        v = getattr(tok, attr, None) if tok is not None else None
        if isinstance(v, int):
            return v
    return 0


def make_batch(ctx: Any, seqs: Sequence[Sequence[int]], left: bool) -> Batch:
    """Pad ``seqs`` to one [B, T] batch (left or right), with attention mask and position ids that
    count real tokens only, so a row's numbers do not depend on its neighbours."""
    if left:
        ids, mask, pos = left_pad(seqs, _pad_id(ctx), ctx.device)
        offsets = [ids.shape[1] - len(s) for s in seqs]
    else:
        ids, mask = right_pad(seqs, _pad_id(ctx), ctx.device)
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


def run_backbone(ctx: Any, batch: Batch, past: Any = None) -> torch.Tensor:
    """One forward pass of the decoder stack; returns the final (normed) hidden states. Without ``past``
    no cache is used; with it, ``batch`` holds the tokens after the cached ones (its mask covers both)
    and ``past`` is extended in place, so pass a copy (:func:`batching.select_cache`)."""
    kw: dict[str, Any] = {"use_cache": False}
    if past is not None:
        kw = {"use_cache": True, _cache_kw(ctx): past}
    out = ctx.backbone()(
        input_ids=batch.input_ids,
        attention_mask=batch.attention_mask,
        position_ids=batch.position_ids,
        **kw,
    )
    return out.last_hidden_state if hasattr(out, "last_hidden_state") else out[0]


def _cache_kw(ctx: Any) -> str:
    """Name of the decoder stack's KV-cache argument ("cache" in newer transformers), "" if it has none."""
    params = inspect.signature(ctx.backbone().forward).parameters
    return next((n for n in ("cache", "past_key_values") if n in params), "")


def _vocab_size(ctx: Any) -> int:
    w = getattr(ctx.unembed(), "weight", None)
    return int(w.shape[0]) if w is not None else int(ctx.model.config.vocab_size)


def _resolve_position(pos: int, n: int, where: str) -> int:
    p = pos + n if pos < 0 else pos
    if not 0 <= p < n:
        raise BadArgs(f"{where}.position {pos} is outside ids of length {n}")
    return p


def _check_token_ids(token_ids: Iterable[int], vocab: int, where: str) -> None:
    for k, t in enumerate(token_ids):
        if not 0 <= t < vocab:
            raise BadArgs(f"{where}[{k}] = {t} is outside the vocabulary (size {vocab})")


def _probs_at(ctx: Any, h: torch.Tensor, token_ids: list[list[int]], normed: bool) -> list[list[float]]:
    """h [B, H] → softmax(unembed(norm(h))) gathered at each row's token ids (float32 math)."""
    w = getattr(ctx.final_norm(), "weight", None)
    if w is not None and h.device != w.device:  # layers may live on other GPUs (device_map="auto")
        h = h.to(w.device)
    logits = ctx.logits_from_hidden(h, normed=normed).float()
    probs = torch.softmax(logits, dim=-1)
    return [probs[i, torch.tensor(t, dtype=torch.long, device=probs.device)].tolist() for i, t in enumerate(token_ids)]


def _capture_at_positions(ctx: Any, items: list[dict], sites: list[str]) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Left-padded forward of ``items`` capturing ``sites`` of every layer at each item's position.
    Returns ({hook name: [B, H]}, final normed hidden [B, H])."""
    seqs = [it["ids"] for it in items]
    batch = make_batch(ctx, seqs, left=True)
    rows = torch.arange(len(seqs))
    cols = torch.tensor([batch.offsets[i] + it["_pos"] for i, it in enumerate(items)])
    store: dict[str, torch.Tensor] = {}
    fns = {hook_name(l, s): capture_rows(store, rows, cols) for l in range(ctx.n_layers) for s in sites}
    with hooks(ctx.layers(), fns), torch.inference_mode():
        final = run_backbone(ctx, batch)
    return store, final[rows.to(final.device), cols.to(final.device)]


def _prepare_lens_items(ctx: Any, items: list[dict]) -> list[dict]:
    vocab = _vocab_size(ctx)
    out = []
    for i, it in enumerate(items):
        _check_token_ids(it["token_ids"], vocab, f"args.items[{i}].token_ids")
        out.append({**it, "_pos": _resolve_position(it.get("position", -1), len(it["ids"]), f"args.items[{i}]")})
    return out


# ---------------------------------------------------------------- logit lens

def op_logit_lens(ctx: Any, args: dict) -> dict:
    """probs[item][l][k] for l = 0..n_layers: h_0 = embeddings (resid_pre of layer 0), h_l = output of
    layer l-1 (resid_pre of layer l) through the final norm; entry n_layers is the model's own output
    (the backbone's last hidden state, already normed), i.e. its next-token distribution."""
    items = _prepare_lens_items(ctx, args["items"])
    L = ctx.n_layers
    result: list[Any] = [None] * len(items)
    for chunk in chunk_by_tokens([len(it["ids"]) for it in items], ctx.max_batch_tokens):
        sub = [items[i] for i in chunk]
        store, final = _capture_at_positions(ctx, sub, ["resid_pre"])
        tids = [it["token_ids"] for it in sub]
        with torch.inference_mode():
            per_layer = [_probs_at(ctx, store[hook_name(l, "resid_pre")], tids, normed=False) for l in range(L)]
            per_layer.append(_probs_at(ctx, final, tids, normed=True))
        for j, i in enumerate(chunk):
            result[i] = [per_layer[l][j] for l in range(L + 1)]
    return {"probs": result}


# ---------------------------------------------------------------- decomposition

DECOMPOSE_STAGES = ("resid_pre", "resid_mid", "resid_post")
"""Stage 0 = h_in, 1 = h_in + attention contribution, 2 = + FFN contribution (= h_out)."""


def op_decompose(ctx: Any, args: dict) -> dict:
    """probs[item][l][stage][k]: the residual stream of layer l captured before the layer, between
    attention and FFN, and after the layer, each through final norm + unembedding. Captured directly,
    so stage 2 of layer l is stage 0 of layer l+1 for any block structure (post-norms included)."""
    items = _prepare_lens_items(ctx, args["items"])
    L = ctx.n_layers
    result: list[Any] = [None] * len(items)
    for chunk in chunk_by_tokens([len(it["ids"]) for it in items], ctx.max_batch_tokens):
        sub = [items[i] for i in chunk]
        store, _ = _capture_at_positions(ctx, sub, list(DECOMPOSE_STAGES))
        tids = [it["token_ids"] for it in sub]
        with torch.inference_mode():
            stages = {
                (l, s): _probs_at(ctx, store[hook_name(l, site)], tids, normed=False)
                for l in range(L)
                for s, site in enumerate(DECOMPOSE_STAGES)
            }
        for j, i in enumerate(chunk):
            result[i] = [[stages[(l, s)][j] for s in range(len(DECOMPOSE_STAGES))] for l in range(L)]
    return {"probs": result}
