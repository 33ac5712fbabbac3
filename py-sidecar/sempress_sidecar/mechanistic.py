"""Mechanistic ops: logit lens and attention-vs-FFN decomposition, and the capture pass that the
activation-patching op (patching.py) shares with them (padding and chunking live in batching.py).

Contract: LogitLensArgs/Result, DecomposeArgs/Result, PatchArgs/Result in src/rpc/protocol.ts. Each op
takes the parsed args map (protocol.parse_lens_items / parse_patch) and returns plain lists and floats.

Every op is batched: items (or patch rows) are packed into forward passes under ``ctx.max_batch_tokens``
(rows × longest row). Hooks capture only the rows/positions asked for, so memory stays at one hidden
vector per layer per item. The lens ops use no KV cache. Each op's probabilities are gathered at the
requested token ids on the device and cross to the host once, at the end of the op.
"""
from __future__ import annotations

import logging
from typing import Any, Iterable

import torch

from .batching import Batch, cache_kw, chunk_by_tokens, make_batch  # noqa: F401  (chunk_by_tokens: re-exported)
from .context import stack
from .hooks import capture_rows, hook_name, hooks
from .protocol import BadArgs

log = logging.getLogger("sempress.mechanistic")

LOGIT_BLOCK = 1024
"""Positions whose full-vocabulary logits are materialised at once (bounds [block, vocab] float32)."""


def run_backbone(ctx: Any, batch: Batch, past: Any = None) -> torch.Tensor:
    """One forward pass of the decoder stack; returns the final (normed) hidden states. Without ``past``
    no cache is used; with it, ``batch`` holds the tokens after the cached ones (its mask covers both)
    and ``past`` is extended in place, so pass a copy (:func:`batching.select_cache`)."""
    kw: dict[str, Any] = {"use_cache": False}
    if past is not None:
        kw = {"use_cache": True, cache_kw(ctx.backbone()): past}
    out = ctx.backbone()(
        input_ids=batch.input_ids,
        attention_mask=batch.attention_mask,
        position_ids=batch.position_ids,
        **kw,
    )
    return out.last_hidden_state if hasattr(out, "last_hidden_state") else out[0]


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


def _probs_at(ctx: Any, hidden: list[torch.Tensor], normed: list[bool], token_ids: list[list[int]]) -> torch.Tensor:
    """softmax(unembed(norm(h))) at each item's token ids, for every captured point, on the device.

    ``hidden[m]`` is [B, H] (point m of the B items; ``normed[m]``: already through the final norm).
    Returns the values flat in (item, point, token) order: only the requested ids leave the device."""
    norm = ctx.final_norm()
    w = getattr(norm, "weight", None)
    hs = stack(hidden, device=w.device if w is not None else None)  # [M, B, H]; layers may sit on other GPUs
    M, B = hs.shape[0], hs.shape[1]
    if not all(normed):
        raw = torch.tensor([not x for x in normed], device=hs.device)
        hs = torch.where(raw[:, None, None], norm(hs), hs)
    flat = hs.reshape(M * B, -1)
    K = max(1, max(len(t) for t in token_ids))
    index = torch.tensor([t + [0] * (K - len(t)) for t in token_ids], dtype=torch.long).repeat(M, 1)  # [M*B, K]
    vals = []
    # On a GPU, blocks of LOGIT_BLOCK positions across points; on the CPU one point's B items at a time
    # (the cache-sized [B, vocab] blocks of per-layer code: larger ones run slower there).
    step = LOGIT_BLOCK if flat.device.type != "cpu" else min(B, LOGIT_BLOCK)
    for s in range(0, M * B, step):
        probs = torch.softmax(ctx.logits_from_hidden(flat[s:s + step], normed=True).float(), dim=-1)
        vals.append(probs.gather(-1, index[s:s + step].to(probs.device)))
    out = torch.cat(vals).reshape(-1)  # [(m, b, k)]
    order = [(m * B + b) * K + k for b, t in enumerate(token_ids) for m in range(M) for k in range(len(t))]
    return out.index_select(0, torch.tensor(order, dtype=torch.long, device=out.device))


def _nest(flat: list[float], shapes: Iterable[tuple[int, ...]]) -> list[Any]:
    """Cut ``flat`` into one nested list per shape (row-major), in order."""
    out, k = [], 0

    def take(shape: tuple[int, ...]) -> Any:
        nonlocal k
        if len(shape) == 1:
            k += shape[0]
            return flat[k - shape[0]:k]
        return [take(shape[1:]) for _ in range(shape[0])]

    for shape in shapes:
        out.append(take(shape))
    return out


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
    parts = []
    for chunk in chunk_by_tokens([len(it["ids"]) for it in items], ctx.max_batch_tokens):
        sub = [items[i] for i in chunk]
        store, final = _capture_at_positions(ctx, sub, ["resid_pre"])
        with torch.inference_mode():
            hidden = [store[hook_name(l, "resid_pre")] for l in range(L)] + [final]
            parts.append(_probs_at(ctx, hidden, [False] * L + [True], [it["token_ids"] for it in sub]))
    flat = torch.cat(parts).tolist() if parts else []  # the op's one transfer
    return {"probs": _nest(flat, ((L + 1, len(it["token_ids"])) for it in items))}


# ---------------------------------------------------------------- decomposition

DECOMPOSE_STAGES = ("resid_pre", "resid_mid", "resid_post")
"""Stage 0 = h_in, 1 = h_in + attention contribution, 2 = + FFN contribution (= h_out)."""


def op_decompose(ctx: Any, args: dict) -> dict:
    """probs[item][l][stage][k]: the residual stream of layer l captured before the layer, between
    attention and FFN, and after the layer, each through final norm + unembedding. Captured directly,
    so stage 2 of layer l is stage 0 of layer l+1 for any block structure (post-norms included)."""
    items = _prepare_lens_items(ctx, args["items"])
    L, S = ctx.n_layers, len(DECOMPOSE_STAGES)
    parts = []
    for chunk in chunk_by_tokens([len(it["ids"]) for it in items], ctx.max_batch_tokens):
        sub = [items[i] for i in chunk]
        store, _ = _capture_at_positions(ctx, sub, list(DECOMPOSE_STAGES))
        with torch.inference_mode():
            hidden = [store[hook_name(l, site)] for l in range(L) for site in DECOMPOSE_STAGES]
            parts.append(_probs_at(ctx, hidden, [False] * (L * S), [it["token_ids"] for it in sub]))
    flat = torch.cat(parts).tolist() if parts else []  # the op's one transfer
    return {"probs": _nest(flat, ((L, S, len(it["token_ids"])) for it in items))}
