"""The `trace` op: one teacher-forced eager pass per batch of sequences, capturing what analyses declared.

mode "decision": the attention row of each sequence's last position (the decision step's query, when TS
sends prompt + greedy tokens before the decision step), per layer and head: [n_layers, n_heads, seq].
Nothing else leaves the GPU. mode "full": hidden states of every layer at every position
[n_layers+1, seq, hidden] and full attention maps [n_layers, n_heads, seq, seq], for `--trace full`.

Sequences are batched with left padding under the token budget; eager attention materialises
[B, heads, W, W] per layer, so the budget counts W² per row. Padded key columns are cut off on the GPU
and each sequence's rows travel to the host in one copy.
"""
from __future__ import annotations

import torch

from .batching import check_ids, chunks_by_cost, left_pad
from .context import ModelContext, stack
from .ops_text import pad_id, vocab_size
from .tensors import encode_tensor


def _out_dtype(ctx: ModelContext) -> torch.dtype:
    return torch.float32 if ctx.device.type == "cpu" else ctx.dtype


def _attention_budget(ctx: ModelContext) -> int:
    """Rows × W² attention entries per batch that fit the op's token budget (W = padded width)."""
    return max(1, ctx.max_batch_tokens) * 64


def op_trace(ctx: ModelContext, args: dict) -> dict:
    seqs: list[list[int]] = args["sequences"]
    check_ids(seqs, vocab_size(ctx), "args.sequences")
    full = args["mode"] == "full"
    items: list[dict | None] = [None] * len(seqs)
    # Sorting by length keeps padding small; results go back in request order.
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    costs = [len(seqs[i]) ** 2 for i in order]
    budget = _attention_budget(ctx) if not full else max(1, ctx.max_batch_tokens) * 8
    with torch.inference_mode(), ctx.eager():
        for group in chunks_by_cost(costs, budget):
            idx = [order[g] for g in group]
            for i, item in zip(idx, _trace_batch(ctx, [seqs[i] for i in idx], full)):
                items[i] = item
    return {"items": items}


def _trace_batch(ctx: ModelContext, seqs: list[list[int]], full: bool) -> list[dict]:
    ids, mask, pos = left_pad(seqs, pad_id(ctx), ctx.device)
    W = ids.shape[1]
    res = ctx.model(input_ids=ids, attention_mask=mask, position_ids=pos, output_attentions=True,
                    output_hidden_states=full, use_cache=False, return_dict=True)
    dt = _out_dtype(ctx)
    out = []
    if not full:
        # [B, L, heads, W]: the last query's row of every layer, gathered on the device, one copy.
        rows = stack([a[:, :, -1, :] for a in res.attentions], dim=1).to(dt).cpu()  # layers may sit on several GPUs
        for b, s in enumerate(seqs):
            out.append({"attentions": encode_tensor(rows[b, :, :, W - len(s):].contiguous()), "hidden": None})
        return out
    for b, s in enumerate(seqs):
        n = len(s)
        at = stack([a[b, :, W - n:, W - n:] for a in res.attentions]).to(dt).cpu()  # [L, heads, n, n]
        hs = stack([h[b, W - n:, :] for h in res.hidden_states]).to(dt).cpu()  # [L+1, n, hidden]
        out.append({"attentions": encode_tensor(at.contiguous()), "hidden": encode_tensor(hs.contiguous())})
    return out
