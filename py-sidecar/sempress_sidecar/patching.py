"""Activation patching (PatchArgs → PatchResult in src/rpc/protocol.ts): ``op_patch``.

Sources run once, recording each layer's resid_post / attn_out at the last position. The patch is written
at the target's last prompt position only, so every patched row shares the clean target prefix before it.
The clean prefixes of all items run together, once (left-padded, one KV cache per chunk of items, kept
read-only: every patched pass gets its own copy, so nothing a patch wrote can leak into another pass).
Then every (item, site, layer, continuation) row runs only the last prompt token plus the continuation,
as one batch row: rows of many items and many layers share a pass, each (site, layer) hook writing only
its own rows. Passes are as large as device memory allows (memory.py), or ``ctx.max_batch_tokens`` on the
CPU. Log-probs and argmaxes stay on the device until the op's one transfer.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import torch

from .batching import cache_kw, cache_of, chunk_by_tokens, left_pad, make_batch, pad_id, select_cache
from .context import stack
from .hooks import hook_name, hooks, write_rows
from .mechanistic import LOGIT_BLOCK, _capture_at_positions, _check_token_ids, _vocab_size, run_backbone
from .memory import logit_block_bytes, memory_budget, patch_row_bytes
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


@dataclass
class _Prefix:
    """The clean KV cache of several items' target prefixes, left-padded to one width (read-only)."""
    cache: Any
    mask: torch.Tensor  # [I, W]
    slot: dict[int, int]  # item index → batch row of the cache


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


def _clean_prefix(ctx: Any, items: list[dict], which: list[int]) -> _Prefix:
    """One clean (unhooked) left-padded pass over the target prefixes target[:-1] of items ``which``
    (each non-empty), keeping its KV cache."""
    seqs = [list(items[i]["target"][:-1]) for i in which]
    ids, mask, pos = left_pad(seqs, pad_id(ctx), ctx.device)
    with torch.inference_mode():
        out = ctx.backbone()(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=True)
    cache = cache_of(out)
    if cache is None:
        raise RuntimeError(f"{type(ctx.backbone()).__name__} returned no KV cache; call op_patch with prefix_cache=False")
    return _Prefix(cache, mask, {i: k for k, i in enumerate(which)})


def _row_start(r: _Row, prefix: _Prefix | None) -> int:
    """Tokens of row ``r`` already in the prefix cache (its patch position is the first one that runs)."""
    return r.patch_col if prefix is not None else 0


def _score_rows(ctx: Any, chunk_rows: list[_Row], recs: list[dict[str, torch.Tensor]],
                prefix: _Prefix | None = None) -> tuple[torch.Tensor, torch.Tensor, list[tuple[int, int]]]:
    """One right-padded forward of ``chunk_rows`` with one write hook per (site, layer) present.

    Returns, on the device, the log-probs of every row's continuation tokens (flat), the argmax at every
    row's patch position, and per row its (offset, count) in the flat log-probs. With ``prefix`` (the
    clean cache of every row's item) only ``ids[patch_col:]`` run, attending to a fresh copy of that
    cache; without it, each row is one full forward."""
    starts = [_row_start(r, prefix) for r in chunk_rows]
    batch = make_batch(ctx, [r.ids[s:] for r, s in zip(chunk_rows, starts)], left=False)
    past = None
    if prefix is not None:
        dev = batch.input_ids.device
        slots = torch.tensor([prefix.slot[r.item] for r in chunk_rows], dtype=torch.long, device=prefix.mask.device)
        past = select_cache(prefix.cache, slots)
        batch.attention_mask = torch.cat([prefix.mask.index_select(0, slots).to(dev), batch.attention_mask], dim=1)
        batch.position_ids = batch.position_ids + torch.tensor(starts, device=dev)[:, None]
    groups: dict[tuple[str, int], list[int]] = {}
    for b, r in enumerate(chunk_rows):
        if r.variant is not None:
            groups.setdefault(r.variant, []).append(b)
    fns = {}
    for (site, layer), bs in groups.items():
        vals = torch.stack([recs[chunk_rows[b].item][site][layer] for b in bs])
        cols = torch.tensor([chunk_rows[b].patch_col - starts[b] for b in bs])
        fns[hook_name(layer, PATCH_HOOK_SITE[site])] = write_rows(torch.tensor(bs), cols, vals)
    with hooks(ctx.layers(), fns), torch.inference_mode():
        final = run_backbone(ctx, batch, past)  # [B, T, H], normed
        del past
        # positions whose logits we need: patch_col .. end-1 (predicting the continuation tokens)
        row_idx, col_idx, targets, spans = [], [], [], []
        for b, (r, s) in enumerate(zip(chunk_rows, starts)):
            n_pred = max(len(r.ids) - 1 - r.patch_col, 1)  # a target-only row still needs its argmax
            spans.append((len(row_idx), n_pred))
            for c in range(r.patch_col, r.patch_col + n_pred):
                row_idx.append(b)
                col_idx.append(c - s)
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
        lp, am = torch.cat(lp_all), torch.cat(am_all)
    firsts = torch.tensor([o for o, _ in spans], dtype=torch.long, device=am.device)
    counts = [(o, n if r.cont >= 0 else 0) for (o, n), r in zip(spans, chunk_rows)]
    return lp, am.index_select(0, firsts), counts


class _Results:
    """Device results of many passes, read back once: row → (log-probs of its continuation, argmax)."""

    def __init__(self, n_rows: int) -> None:
        self.parts: list[torch.Tensor] = []
        self.size = 0
        self.where: list[tuple[int, int, int]] = [(0, 0, 0)] * n_rows  # (lp offset, count, argmax offset)

    def add(self, rows: list[int], scored: tuple[torch.Tensor, torch.Tensor, list[tuple[int, int]]]) -> None:
        lp, am, counts = scored
        base_am = self.size + lp.numel()
        for k, (b, (o, n)) in enumerate(zip(rows, counts)):
            self.where[b] = (self.size + o, n, base_am + k)
        self.parts.append(torch.cat([lp.double(), am.double()]))  # argmax ids are exact in float64
        self.size += lp.numel() + am.numel()

    def read(self) -> list[tuple[list[float], int]]:
        flat = torch.cat(self.parts).tolist() if self.parts else []  # the op's one transfer
        return [(flat[o:o + n], int(flat[a])) for o, n, a in self.where]


def op_patch(ctx: Any, args: dict, prefix_cache: bool | None = None) -> dict:
    """Activation patching sweep (PatchArgs → PatchResult).

    Sources run once, recording each layer's resid_post / attn_out at the last position. A patch
    changes nothing before target_len − 1 (causal attention), so the clean prefixes [0, target_len − 1)
    of all targets run once, together, and their KV cache is shared read-only; every (item, site, layer,
    continuation) row plus the clean rows then run only the last prompt token and the continuation,
    rows of all items and layers packed into as few right-padded passes as memory allows. A write hook
    on each patched layer replaces the activation at target_len − 1 only in the rows of that layer (a
    row-index tensor per layer).

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
        prefix_cache = bool(cache_kw(ctx.backbone()))
    results = _Results(len(rows))
    if prefix_cache:
        _score_on_prefixes(ctx, items, rows, recs, results)
    else:
        _score_full(ctx, rows, recs, results, list(range(len(rows))))
    return {"items": _assemble(items, sites, rows, results.read())}


def _passes(ctx: Any, rows: list[_Row], idx: list[int], width: int) -> list[list[int]]:
    """``idx`` (rows attending to a prefix of ``width`` columns) cut into consecutive passes: by device
    memory where known (memory.py), else by ``ctx.max_batch_tokens`` over the attended length."""
    tails = [len(rows[b].ids) - (rows[b].patch_col if width else 0) for b in idx]
    budget = memory_budget(ctx)
    if budget is None:
        chunks = chunk_by_tokens([width + t for t in tails], ctx.max_batch_tokens)
    else:
        tail = max(tails)
        free = budget - logit_block_bytes(ctx, LOGIT_BLOCK)
        n = max(1, free // patch_row_bytes(ctx, width + tail, tail))
        chunks = [list(range(s, min(s + n, len(idx)))) for s in range(0, len(idx), n)]
    return [[idx[k] for k in c] for c in chunks]


def _score_full(ctx: Any, rows: list[_Row], recs: list[dict[str, torch.Tensor]], results: _Results,
                idx: list[int]) -> None:
    """Rows ``idx``, each one full forward over target + continuation, packed together."""
    passes = _passes(ctx, rows, idx, 0)
    log.debug("patch: %d rows in %d full forward passes", len(idx), len(passes))
    for sel in passes:
        results.add(sel, _score_rows(ctx, [rows[b] for b in sel], recs))


def _score_on_prefixes(ctx: Any, items: list[dict], rows: list[_Row], recs: list[dict[str, torch.Tensor]],
                       results: _Results) -> None:
    """One clean left-padded pass over the target prefixes of a chunk of items, then all their rows (last
    target token + continuation) in passes that each attend to a fresh copy of that prefix cache. A
    one-token target has no prefix: its rows run as full forwards."""
    by_item: dict[int, list[int]] = {}
    for b, r in enumerate(rows):
        by_item.setdefault(r.item, []).append(b)
    with_prefix = [i for i in range(len(items)) if len(items[i]["target"]) > 1]
    bare = [b for i in range(len(items)) if len(items[i]["target"]) <= 1 for b in by_item.get(i, [])]
    if bare:
        _score_full(ctx, rows, recs, results, bare)
    n_passes = 0
    for chunk in chunk_by_tokens([len(items[i]["target"]) - 1 for i in with_prefix], ctx.max_batch_tokens):
        which = [with_prefix[k] for k in chunk]
        prefix = _clean_prefix(ctx, items, which)
        idx = [b for i in which for b in by_item.get(i, [])]
        for sel in _passes(ctx, rows, idx, int(prefix.mask.shape[1])):
            results.add(sel, _score_rows(ctx, [rows[b] for b in sel], recs, prefix))
            n_passes += 1
        del prefix
    log.debug("patch: %d rows in %d passes on shared clean prefixes of %d items", len(rows), n_passes, len(with_prefix))


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
