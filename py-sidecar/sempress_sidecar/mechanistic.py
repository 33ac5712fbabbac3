"""Mechanistic ops: logit lens, attention-vs-FFN decomposition and activation patching.

Contract: LogitLensArgs/Result, DecomposeArgs/Result, PatchArgs/Result in src/rpc/protocol.ts. Each op
takes the parsed args map (protocol.parse_lens_items / parse_patch) and returns plain lists and floats.

Every op is batched: items (or patch rows) are packed into forward passes under ``ctx.max_batch_tokens``
(rows × longest row). Hooks capture only the rows/positions asked for, so memory stays at one hidden
vector per layer per item. The lens ops use no KV cache. Patching runs the clean target prefix once per
item and keeps its KV cache read-only: every patched pass gets its own copy, so nothing a patch wrote
can leak into another pass.
"""
from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import torch

from .batching import left_pad, right_pad, select_cache
from .hooks import capture_rows, hook_name, hooks, write_rows
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


# ---------------------------------------------------------------- activation patching

PATCH_HOOK_SITE = {"resid": "resid_post", "attn": "attn_out"}


@dataclass
class _Row:
    item: int
    variant: tuple[str, int] | None  # (site, layer) or None for the clean target
    cont: int  # continuation index, -1 for a target-only row (no continuations)
    ids: list[int]
    patch_col: int  # target_len - 1


def _normalise_layers(layers: list[int] | None, L: int, where: str) -> list[int]:
    if layers is None:
        return list(range(L))
    out = []
    for k, l in enumerate(layers):
        ll = l + L if l < 0 else l
        if not 0 <= ll < L:
            raise BadArgs(f"{where}.layers[{k}] = {l} is outside 0..{L - 1}")
        out.append(ll)
    return out


def _record_sources(ctx: Any, items: list[dict], sites: list[str]) -> list[dict[str, torch.Tensor]]:
    """Run every source once (left-padded, chunked); per item {site: [n_layers, H]} at its last position."""
    L = ctx.n_layers
    hook_sites = [PATCH_HOOK_SITE[s] for s in sites]
    recs: list[dict[str, torch.Tensor]] = [dict() for _ in items]
    lens_items = [{"ids": it["source"], "_pos": len(it["source"]) - 1} for it in items]
    for chunk in chunk_by_tokens([len(it["ids"]) for it in lens_items], ctx.max_batch_tokens):
        store, _ = _capture_at_positions(ctx, [lens_items[i] for i in chunk], hook_sites)
        for site, hs in zip(sites, hook_sites):
            stacked = torch.stack([store[hook_name(l, hs)] for l in range(L)], dim=1)  # [B, L, H]
            for j, i in enumerate(chunk):
                recs[i][site] = stacked[j]
    return recs


def _build_rows(items: list[dict], sites: list[str]) -> list[_Row]:
    rows: list[_Row] = []
    for i, it in enumerate(items):
        tgt = list(it["target"])
        conts = it["continuations"]
        variants: list[tuple[str, int] | None] = [None] + [(s, l) for s in sites for l in dict.fromkeys(it["_layers"])]
        for v in variants:
            if conts:
                rows.extend(_Row(i, v, c, tgt + list(cont), len(tgt) - 1) for c, cont in enumerate(conts))
            else:
                rows.append(_Row(i, v, -1, tgt, len(tgt) - 1))
    return rows


def _clean_prefix(ctx: Any, ids: list[int]) -> Any:
    """KV cache of one clean (unhooked) pass over ``ids``, batch 1; None for an empty prefix.
    Shared read-only by every row of the item: each pass extends its own copy."""
    if not ids:
        return None
    batch = make_batch(ctx, [ids], left=False)
    with torch.inference_mode():
        out = ctx.backbone()(input_ids=batch.input_ids, attention_mask=batch.attention_mask,
                             position_ids=batch.position_ids, use_cache=True)
    cache = getattr(out, "cache", None)
    cache = cache if cache is not None else getattr(out, "past_key_values", None)
    if cache is None:
        raise RuntimeError(f"{type(ctx.backbone()).__name__} returned no KV cache; call op_patch with prefix_cache=False")
    return cache


def _score_rows(ctx: Any, chunk_rows: list[_Row], recs: list[dict[str, torch.Tensor]],
                prefix: Any = None, start: int = 0) -> list[tuple[list[float], int]]:
    """One right-padded forward of ``chunk_rows`` with one write hook per (site, layer) present.
    Returns per row (logprobs of its continuation tokens, argmax at the patch position).

    With ``prefix`` (the clean KV cache of every row's first ``start`` tokens, all rows from one item)
    only ``ids[start:]`` run, attending to a fresh copy of that cache; ``start`` ≤ every patch_col, so
    the patched position is among the tokens that run. Without it, each row is one full forward."""
    batch = make_batch(ctx, [r.ids[start:] for r in chunk_rows], left=False)
    past = None
    if start:
        n = len(chunk_rows)
        past = select_cache(prefix, torch.zeros(n, dtype=torch.long, device=batch.input_ids.device))
        ones = torch.ones((n, start), dtype=batch.attention_mask.dtype, device=batch.attention_mask.device)
        batch.attention_mask = torch.cat([ones, batch.attention_mask], dim=1)
        batch.position_ids = batch.position_ids + start
    groups: dict[tuple[str, int], list[int]] = {}
    for b, r in enumerate(chunk_rows):
        if r.variant is not None:
            groups.setdefault(r.variant, []).append(b)
    fns = {}
    for (site, layer), bs in groups.items():
        vals = torch.stack([recs[chunk_rows[b].item][site][layer] for b in bs])
        cols = torch.tensor([chunk_rows[b].patch_col - start for b in bs])
        fns[hook_name(layer, PATCH_HOOK_SITE[site])] = write_rows(torch.tensor(bs), cols, vals)
    with hooks(ctx.layers(), fns), torch.inference_mode():
        final = run_backbone(ctx, batch, past)  # [B, T - start, H], normed
        del past
        # positions whose logits we need: patch_col .. end-1 (predicting the continuation tokens)
        row_idx, col_idx, targets, spans = [], [], [], []
        for b, r in enumerate(chunk_rows):
            n_pred = max(len(r.ids) - 1 - r.patch_col, 1)  # a target-only row still needs its argmax
            spans.append((len(row_idx), n_pred))
            for c in range(r.patch_col, r.patch_col + n_pred):
                row_idx.append(b)
                col_idx.append(c - start)
                targets.append(r.ids[c + 1] if c + 1 < len(r.ids) else 0)
        ri = torch.tensor(row_idx, device=final.device)
        ci = torch.tensor(col_idx, device=final.device)
        lp_all, am_all = [], []
        for s in range(0, len(row_idx), LOGIT_BLOCK):
            h = final[ri[s:s + LOGIT_BLOCK], ci[s:s + LOGIT_BLOCK]]
            logp = torch.log_softmax(ctx.logits_from_hidden(h, normed=True).float(), dim=-1)
            t = torch.tensor(targets[s:s + LOGIT_BLOCK], device=logp.device)
            lp_all.append(logp.gather(1, t[:, None])[:, 0])
            am_all.append(logp.argmax(dim=-1))
        lp = torch.cat(lp_all).tolist()
        am = torch.cat(am_all).tolist()
    out = []
    for (start, n), r in zip(spans, chunk_rows):
        out.append((lp[start:start + n] if r.cont >= 0 else [], int(am[start])))
    return out


def op_patch(ctx: Any, args: dict, prefix_cache: bool | None = None) -> dict:
    """Activation patching sweep (PatchArgs → PatchResult).

    Sources run once, recording each layer's resid_post / attn_out at the last position. A patch
    changes nothing before target_len − 1 (causal attention), so each target's clean prefix
    [0, target_len − 1) runs once and its KV cache is shared read-only; every (site, layer,
    continuation) row plus the clean rows then run only the last prompt token and the continuation,
    packed per item into as few right-padded passes as ``ctx.max_batch_tokens`` allows (counting the
    attended length, prefix included). A write hook on each patched layer replaces the activation at
    target_len − 1 only in the rows of that layer (a row-index tensor per layer).

    ``prefix_cache``: None picks the prefix path when the decoder stack takes a KV cache; False runs
    every row as one full forward over target + continuation (the reference; same numbers).
    """
    L = ctx.n_layers
    sites = list(dict.fromkeys(args.get("sites") or ["resid", "attn"]))
    vocab = _vocab_size(ctx)
    items = []
    for i, it in enumerate(args["items"]):
        for c, cont in enumerate(it["continuations"]):
            _check_token_ids(cont, vocab, f"args.items[{i}].continuations[{c}]")
        _check_token_ids(it["source"], vocab, f"args.items[{i}].source")
        _check_token_ids(it["target"], vocab, f"args.items[{i}].target")
        items.append({**it, "_layers": _normalise_layers(it.get("layers"), L, f"args.items[{i}]")})
    if not items:
        return {"items": []}
    recs = _record_sources(ctx, items, sites)
    rows = _build_rows(items, sites)
    if prefix_cache is None:
        prefix_cache = bool(_cache_kw(ctx))
    scored = _score_on_prefixes(ctx, items, rows, recs) if prefix_cache else _score_full(ctx, rows, recs)
    return {"items": _assemble(items, sites, rows, scored)}


def _score_full(ctx: Any, rows: list[_Row], recs: list[dict[str, torch.Tensor]]) -> list[Any]:
    """Every row one full forward over target + continuation, rows of all items packed together."""
    scored: list[Any] = [None] * len(rows)
    chunks = chunk_by_tokens([len(r.ids) for r in rows], ctx.max_batch_tokens)
    log.debug("patch: %d rows in %d full forward passes", len(rows), len(chunks))
    for chunk in chunks:
        for b, res in zip(chunk, _score_rows(ctx, [rows[b] for b in chunk], recs)):
            scored[b] = res
    return scored


def _score_on_prefixes(ctx: Any, items: list[dict], rows: list[_Row], recs: list[dict[str, torch.Tensor]]) -> list[Any]:
    """Per item: one clean pass over target[:-1], then its rows (last target token + continuation)
    in passes that each attend to a fresh copy of that prefix cache."""
    scored: list[Any] = [None] * len(rows)
    by_item: dict[int, list[int]] = {}
    for b, r in enumerate(rows):
        by_item.setdefault(r.item, []).append(b)
    passes = 0
    for i, idx in by_item.items():
        start = len(items[i]["target"]) - 1
        prefix = _clean_prefix(ctx, list(items[i]["target"][:start]))
        for chunk in chunk_by_tokens([len(rows[b].ids) for b in idx], ctx.max_batch_tokens):
            sel = [idx[k] for k in chunk]
            for b, res in zip(sel, _score_rows(ctx, [rows[b] for b in sel], recs, prefix, start)):
                scored[b] = res
            passes += 1
        del prefix
    log.debug("patch: %d rows in %d passes on %d shared clean prefixes", len(rows), passes, len(by_item))
    return scored


def _assemble(items: list[dict], sites: list[str], rows: list[_Row], scored: list[Any]) -> list[dict]:
    by_key: dict[tuple[int, Any], list[tuple[int, Any]]] = {}
    for r, res in zip(rows, scored):
        by_key.setdefault((r.item, r.variant), []).append((r.cont, res))

    def variant(i: int, v: Any) -> tuple[list[list[float]], int]:
        entries = sorted(by_key[(i, v)], key=lambda e: e[0])
        lps = [res[0] for c, res in entries if c >= 0]
        return lps, entries[0][1][1]

    out = []
    for i, it in enumerate(items):
        clean_lp, clean_am = variant(i, None)
        patched = {}
        for s in sites:
            per = [variant(i, (s, l)) for l in it["_layers"]]
            patched[s] = {"logprobs": [p[0] for p in per], "argmax": [p[1] for p in per]}
        out.append({"layers": list(it["_layers"]), "clean": {"logprobs": clean_lp, "argmax": clean_am}, "patched": patched})
    return out
