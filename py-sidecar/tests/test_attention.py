"""attention.grouped_sdpa (query heads folded onto their key/value head, no repeat_kv copy) computes the
attention transformers' sdpa computes: on tensors with left-padding masks, single- and multi-token
queries, and through every forward op of the tiny model (which has 4 query heads on 2 key/value heads)."""
import contextlib
from types import SimpleNamespace

import pytest
import torch
from transformers.integrations.sdpa_attention import sdpa_attention_forward

from sempress_sidecar import attention

from test_score import CONTS, PREFIXES


def padded_mask(lengths, q, S):
    """Bool [B, 1, q, S]: row b's keys start at S - lengths[b] (left padding), causal over the last q."""
    k = torch.arange(S)[None, :]
    qpos = torch.arange(S - q, S)[:, None]
    return torch.stack([((k >= S - n) & (k <= qpos))[None] for n in lengths])


@pytest.mark.parametrize("q", [1, 5])
def test_folded_queries_equal_repeated_keys(q):
    torch.manual_seed(0)
    B, H, kv, S, D = 3, 6, 2, 9, 8
    module = SimpleNamespace(num_key_value_groups=H // kv, is_causal=True, training=False)
    query, key, value = torch.randn(B, H, q, D), torch.randn(B, kv, S, D), torch.randn(B, kv, S, D)
    mask = padded_mask([9, 6, 7], q, S)
    got, _ = attention.grouped_sdpa(module, query, key, value, mask, scaling=D ** -0.5)
    want, _ = sdpa_attention_forward(module, query, key, value, mask, scaling=D ** -0.5)
    assert got.shape == want.shape == (B, q, H, D)
    assert torch.allclose(got, want, atol=1e-6), (got - want).abs().max()
    # Guards the comparison: a head order other than repeat_kv's gives another answer.
    wrong, _ = attention.grouped_sdpa(module, query.flip(1), key, value, mask, scaling=D ** -0.5)
    assert not torch.allclose(wrong.flip(2), want, atol=1e-3)


def test_no_mask_goes_to_transformers_sdpa():
    module = SimpleNamespace(num_key_value_groups=2, is_causal=True, training=False)
    q, k = torch.randn(1, 4, 3, 8), torch.randn(1, 2, 3, 8)
    got, _ = attention.grouped_sdpa(module, q, k, k, None)
    want, _ = sdpa_attention_forward(module, q, k, k, None)
    assert torch.equal(got, want)


@contextlib.contextmanager
def grouped(ctx, folded: list):
    """The model on NAME, with a spy that records each call's mask shape (a folded call has one)."""
    from transformers import AttentionInterface

    def spy(module, query, key, value, mask, **kw):
        folded.append(mask is not None and mask.dim() == 4 and mask.shape[1] == 1)
        return attention.grouped_sdpa(module, query, key, value, mask, **kw)

    assert attention.register()
    AttentionInterface.register(attention.NAME, spy)
    ctx._set_attn(attention.NAME)
    try:
        yield
    finally:
        ctx._set_attn(ctx.base_attn)
        attention.register()


def test_every_forward_op_gives_the_same_outputs_with_grouped_attention(tiny_ctx, ops):
    items = [{"prefix": p, "continuations": c} for p, c in zip(PREFIXES, CONTS)]
    gen = dict(prompts=PREFIXES, max_new_tokens=4, do_sample=True, top_p=0.9, n=3, seeds=[1, 2, 3, 4])
    lens = [{"ids": p, "token_ids": [5, 6, 12095]} for p in PREFIXES]
    patch = [{"source": PREFIXES[0], "target": PREFIXES[2], "continuations": CONTS[1]}]
    calls = [("score", dict(items=items)), ("generate", gen), ("generate", dict(gen, do_sample=False, n=1)),
             ("logit_lens", dict(items=lens)), ("decompose", dict(items=lens)), ("patch", dict(items=patch))]
    want = [ops(tiny_ctx, op, **a) for op, a in calls]
    folded: list[bool] = []
    with grouped(tiny_ctx, folded):
        assert tiny_ctx.model.config._attn_implementation == attention.NAME
        got = [ops(tiny_ctx, op, **a) for op, a in calls]
    assert sum(folded) >= len(calls) * tiny_ctx.n_layers, "the padded batches went through the folded path"
    assert tiny_ctx.model.config._attn_implementation == tiny_ctx.base_attn
    for (op, _), g, w in zip(calls, got, want):
        if op == "generate":
            assert g == w, op
        else:
            assert_close(g, w, op)


def assert_close(g, w, where):
    if isinstance(w, dict):
        assert g.keys() == w.keys(), where
        for k in w:
            assert_close(g[k], w[k], f"{where}.{k}")
    elif isinstance(w, list):
        assert len(g) == len(w), where
        for a, b in zip(g, w):
            assert_close(a, b, where)
    elif isinstance(w, float):
        assert abs(g - w) <= 1e-5, (where, g, w)
    else:
        assert g == w, where


def test_cpu_models_keep_transformers_sdpa(tiny_ctx):
    assert attention.use_grouped(tiny_ctx) is False
    assert tiny_ctx.base_attn == "sdpa"
