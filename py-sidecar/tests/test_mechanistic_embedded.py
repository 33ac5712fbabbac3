"""The lens, decomposition and patching invariants of test_mechanistic.py on the embedded default model
(slow: real weights; deselect with -m 'not embedded'). Uses conftest's session-wide ``embedded_ctx``."""
from __future__ import annotations

import math

import pytest

from sempress_sidecar.mechanistic import op_decompose, op_logit_lens
from sempress_sidecar.patching import op_patch
from test_mechanistic import max_diff, max_diff_nested, model_next_logprobs


@pytest.mark.embedded
def test_embedded_model_invariants(embedded_ctx):
    ctx = embedded_ctx
    ids = ctx.tokenizer("Answer with exactly one English word.\nQuestion: The capital of France is ____.\nAnswer:")["input_ids"]
    L = ctx.n_layers
    toks = ctx.tokenizer(" Paris")["input_ids"][:1] + [0, 1]
    lens = op_logit_lens(ctx, {"items": [{"ids": ids, "position": -1, "token_ids": list(range(_vocab(ctx)))}]})["probs"][0]
    own = model_next_logprobs(ctx, ids).exp()
    assert max_diff(lens[L], own.tolist()) < 1e-5
    dec = op_decompose(ctx, {"items": [{"ids": ids, "position": -1, "token_ids": toks}]})["probs"][0]
    for l in range(L - 1):
        assert max_diff(dec[l][2], dec[l + 1][0]) < 1e-5
    neg = ctx.tokenizer("Answer with exactly one English word.\nDo not use the word \"Paris\" anywhere in your answer.\nQuestion: The capital of France is ____.\nAnswer:")["input_ids"]
    item = {"source": ids, "target": neg, "continuations": [toks[:1]], "layers": [L - 1]}
    self_item = {"source": neg, "target": neg, "continuations": [toks[:1]], "layers": [0, L - 1]}
    res, same = op_patch(ctx, {"items": [item, self_item], "sites": ["resid", "attn"]})["items"]
    assert abs(res["patched"]["resid"]["logprobs"][0][0][0] - math.log(float(own[toks[0]]))) < 1e-4
    assert res["patched"]["resid"]["argmax"][0] == int(own.argmax())
    for site in ("resid", "attn"):
        for l in range(2):
            assert max_diff_nested(same["patched"][site]["logprobs"][l], same["clean"]["logprobs"]) < 1e-4
    assert math.isfinite(res["clean"]["logprobs"][0][0])


def _vocab(ctx) -> int:
    return int(ctx.unembed().weight.shape[0])
