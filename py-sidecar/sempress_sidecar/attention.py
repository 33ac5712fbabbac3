"""Grouped-query attention through SDPA without copying the key/value cache once per query head.

With a padding mask, transformers' sdpa path (up to 5.17 at least) repeats every key/value head
``num_key_value_groups`` times before calling SDPA (``repeat_kv``), because SDPA's own ``enable_gqa``
falls back to the math kernel when a mask is given. In a decode step that copy, and attention over the
copied cache, is most of the step: profiled at Qwen2.5-7B shapes (28 query heads on 4 key/value heads,
1,024 sample rows) on an H200 it took ≈ 45 % of a sampling call (py-sidecar/bench/profile_ops.py).

Here the query heads are folded onto their key/value head instead: [B, H, q, D] → [B, H_kv, g·q, D],
the mask repeated g times along the query axis (small: it has one head), so SDPA attends each key/value
head once. Every query row still sees exactly the keys its mask allows, so the result is the same
attention. Cases this does not cover (no mask, one group, a per-head mask, position bias, softcap) go
to transformers' own function unchanged.
"""
from __future__ import annotations

import logging
from typing import Any

import torch

log = logging.getLogger("sempress.attention")

NAME = "sempress_sdpa"
"""The attention implementation this registers with transformers (``config._attn_implementation``)."""


def grouped_sdpa(module: Any, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                 attention_mask: torch.Tensor | None, dropout: float = 0.0, scaling: float | None = None,
                 is_causal: bool | None = None, **kwargs: Any) -> tuple[torch.Tensor, None]:
    """transformers' attention-function signature: query [B, H, q, D], key/value [B, H_kv, S, D] →
    ([B, q, H, D], None)."""
    groups = int(getattr(module, "num_key_value_groups", 1) or 1)
    B, H, q, D = query.shape
    plain = (groups == 1 or attention_mask is None or attention_mask.dim() != 4 or attention_mask.shape[1] != 1
             or kwargs.get("position_bias") is not None or kwargs.get("softcap") is not None
             or key.shape[1] * groups != H)
    if plain:
        from transformers.integrations.sdpa_attention import sdpa_attention_forward

        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout, scaling=scaling,
                                      is_causal=is_causal, **kwargs)
    kv = key.shape[1]
    # head h = j·groups + r reads key/value head j (repeat_kv's order); its query rows become rows r·q + t.
    folded = query.reshape(B, kv, groups * q, D)
    Bm, _, _, S = attention_mask.shape
    mask = attention_mask[:, :, None].expand(Bm, 1, groups, q, S).reshape(Bm, 1, groups * q, S)
    out = torch.nn.functional.scaled_dot_product_attention(folded, key, value, attn_mask=mask, dropout_p=dropout,
                                                           scale=scaling, is_causal=False)
    return out.reshape(B, H, q, D).transpose(1, 2).contiguous(), None


def register() -> bool:
    """Make NAME a transformers attention implementation (sdpa's mask builder); False where this
    transformers has no registry for custom attention functions."""
    try:
        from transformers import AttentionInterface
        from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, AttentionMaskInterface
    except ImportError:
        return False
    AttentionInterface.register(NAME, grouped_sdpa)
    AttentionMaskInterface.register(NAME, ALL_MASK_ATTENTION_FUNCTIONS["sdpa"])
    return True


def use_grouped(ctx: Any) -> bool:
    """Switch a CUDA model loaded with sdpa to NAME (its grouped-query layers attend without the copy).
    CPU models keep transformers' sdpa, so CPU outputs stay byte-identical to what they were."""
    cfg = getattr(ctx.model.config, "text_config", None) or ctx.model.config
    heads, kv = getattr(cfg, "num_attention_heads", None), getattr(cfg, "num_key_value_heads", None)
    if ctx.device.type != "cuda" or ctx.base_attn != "sdpa" or not heads or not kv or heads == kv or not register():
        return False
    ctx._set_attn(NAME)
    ctx.base_attn = NAME
    log.info("attention: %s (%d query heads on %d key/value heads)", NAME, heads, kv)
    return True
