"""Activation patching (PatchArgs → PatchResult in src/rpc/protocol.ts): ``op_patch``.

Sources run once, recording each layer's resid_post / attn_out at the last position. The patch is written
at the target's last prompt position only, so every patched row shares the clean target prefix before it:
that prefix runs once per item and its KV cache is kept read-only (every patched pass gets its own copy,
so nothing a patch wrote can leak into another pass), and each (site, layer, continuation) row runs only
the last prompt token plus the continuation.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import torch

from .batching import select_cache
from .context import stack
from .hooks import hook_name, hooks, write_rows
from .mechanistic import (
    LOGIT_BLOCK,
    _cache_kw,
    _capture_at_positions,
    _check_token_ids,
    _vocab_size,
    chunk_by_tokens,
    make_batch,
    run_backbone,
)
from .protocol import BadArgs

log = logging.getLogger("sempress.patching")

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
            stacked = stack([store[hook_name(l, hs)] for l in range(L)], dim=1)  # [B, L, H], layers may sit on several GPUs
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
