"""What a batch costs in device memory, so that ops can size batches by the memory they have instead of
by the fixed token cap ``ctx.max_batch_tokens``.

The model is explicit and deliberately pessimistic: KV cache bytes per token from the config, the
transient activations of one decoder layer per token (layers run one after another, so only one
layer's intermediates are alive at a time), and the per-row logits workspace (full-vocabulary logits
in the model dtype plus float32 copies for log-softmax and sampling). Only on CUDA is the free memory
known, so only there do ops plan by bytes; on the CPU (:func:`memory_budget` is None) the token cap
stays the rule, which keeps CPU batches, and so CPU results, exactly as before.
"""
from __future__ import annotations

import os
from typing import Any

import torch

MEMORY_FRACTION = 0.6
"""Share of the free device memory a batch may plan to use: the estimates are rough and the caching
allocator fragments, so the plan leaves room."""

FLOAT32_LOGIT_COPIES = 3
"""float32 [rows, vocab] tensors alive at once next to the model-dtype logits (upcast, log-softmax, noise)."""


def _text_config(ctx: Any) -> Any:
    cfg = ctx.model.config
    return getattr(cfg, "text_config", None) or cfg


def element_bytes(dtype: torch.dtype) -> int:
    return torch.empty((), dtype=dtype).element_size()


def kv_bytes_per_token(ctx: Any) -> int:
    """Keys + values of every layer for one token of one row."""
    tc = _text_config(ctx)
    heads = int(tc.num_attention_heads)
    kv_heads = int(getattr(tc, "num_key_value_heads", None) or heads)
    head_dim = int(getattr(tc, "head_dim", None) or tc.hidden_size // heads)
    return 2 * ctx.n_layers * kv_heads * head_dim * element_bytes(ctx.dtype)


def activation_bytes_per_token(ctx: Any) -> int:
    """Transient bytes per token of one decoder layer: residual, norm, q/k/v/o and attention output
    (≈ 6 × hidden) and the MLP's gate, up and activation (3 × intermediate)."""
    tc = _text_config(ctx)
    inter = int(getattr(tc, "intermediate_size", None) or 4 * tc.hidden_size)
    return (6 * int(tc.hidden_size) + 3 * inter) * element_bytes(ctx.dtype)


def logit_bytes_per_row(ctx: Any) -> int:
    """One position's full-vocabulary logits in the model dtype plus their float32 working copies."""
    vocab = int(ctx.unembed().weight.shape[0])
    return vocab * (element_bytes(ctx.dtype) + 4 * FLOAT32_LOGIT_COPIES)


def free_bytes(ctx: Any) -> int | None:
    """Bytes a batch can still allocate on the tightest CUDA device of the model (free + cached but unused
    by torch); None off CUDA."""
    devices = getattr(ctx, "devices", lambda: [ctx.device])()
    cuda = [d for d in devices if d.type == "cuda"]
    if not cuda or not torch.cuda.is_available():
        return None
    return min(torch.cuda.mem_get_info(d)[0] + torch.cuda.memory_reserved(d) - torch.cuda.memory_allocated(d)
               for d in cuda)


def memory_budget(ctx: Any) -> int | None:
    """Bytes one batch may plan to use, or None where batches are sized by ``ctx.max_batch_tokens``.
    ``SEMPRESS_MEMORY_BUDGET_MIB`` sets it by hand (also on the CPU, which is how tests exercise it).
    Several sidecars on one GPU each plan with the free memory they see at the time; requests from the
    CLI stay far below that plan (a run chunk's sampling is a few GiB at 7B shapes), and the variable
    caps each one where they might not."""
    forced = os.environ.get("SEMPRESS_MEMORY_BUDGET_MIB")
    if forced:
        return int(float(forced) * 2**20)
    free = free_bytes(ctx)
    return None if free is None else int(free * MEMORY_FRACTION)


def generate_prompt_bytes(ctx: Any, prompt_len: int, max_new: int, n: int) -> int:
    """Peak bytes one prompt adds to a generate batch: its prefill cache and activations, the n sample
    rows' caches (copies of it, grown by max_new), and n rows of logits workspace."""
    kv = kv_bytes_per_token(ctx)
    return (prompt_len * (kv + activation_bytes_per_token(ctx))
            + n * (prompt_len + max_new) * kv
            + n * logit_bytes_per_row(ctx))


def score_row_bytes(ctx: Any, width: int, cont_len: int) -> int:
    """One continuation row of score: its copy of the prefix cache grown by the continuation, and the
    activations and full logits (log-softmax in float32) of the continuation tokens it feeds."""
    fed = max(0, cont_len - 1)
    return (width + cont_len) * kv_bytes_per_token(ctx) + fed * (activation_bytes_per_token(ctx) + logit_bytes_per_row(ctx))


def score_item_bytes(ctx: Any, width: int, cont_lens: list[int]) -> int:
    """One score item: its prefix's forward (cache and activations, one row of logits) and all its rows."""
    prefix = width * (kv_bytes_per_token(ctx) + activation_bytes_per_token(ctx)) + logit_bytes_per_row(ctx)
    return prefix + sum(score_row_bytes(ctx, width, n) for n in cont_lens)


def sampling_workspace_bytes(ctx: Any) -> int:
    """The full-vocabulary redraw of prompts whose nucleus is not in their top-k (sampling.redraw): a sort
    (values + indices), a mask, and float64 noise and scores, for FALLBACK_ROWS rows at a time."""
    from .sampling import FALLBACK_ROWS

    vocab = int(ctx.unembed().weight.shape[0])
    return FALLBACK_ROWS * vocab * 48


def patch_row_bytes(ctx: Any, attended: int, tail: int) -> int:
    """Bytes one patched row costs: its copy of the clean prefix cache plus its own tokens (``attended``
    in all) and the activations of its ``tail`` tokens, twice (a write hook returns a copy). Its logits
    are not counted: they are computed in fixed blocks of positions (see :func:`logit_block_bytes`)."""
    return attended * kv_bytes_per_token(ctx) + 2 * tail * activation_bytes_per_token(ctx)


def logit_block_bytes(ctx: Any, positions: int) -> int:
    """Workspace of one block of ``positions`` full-vocabulary logits."""
    return positions * logit_bytes_per_row(ctx)
