import math

import pytest
import torch

PREFIXES = [[9707, 11, 1879, 0, 374, 264], [3838, 374], [785, 6722, 315, 9625, 374, 12095, 13, 576, 6722], [17]]
CONTS = [[[12095]], [[12095, 13], [1207], [6722, 315, 9625, 374]], [[13, 576, 1008], [362]], [[5], [6, 7], [8, 9, 10]]]


def reference(ctx, prefix, cont):
    """log p(cont[t] | prefix, cont[:t]) from one unpadded full forward over prefix+continuation."""
    ids = torch.tensor([prefix + cont])
    with torch.inference_mode():
        logp = torch.log_softmax(ctx.model(input_ids=ids).logits[0].float(), -1)
    return [float(logp[len(prefix) - 1 + t, tok]) for t, tok in enumerate(cont)]


def close(a, b, tol=1e-4):
    return len(a) == len(b) and all(abs(x - y) <= tol for x, y in zip(a, b))


def test_score_matches_a_full_forward_per_prefix_and_continuation(tiny_ctx, ops):
    items = [{"prefix": p, "continuations": c} for p, c in zip(PREFIXES, CONTS)]
    got = ops(tiny_ctx, "score", items=items)["logprobs"]
    assert [len(x) for x in got] == [len(c) for c in CONTS]
    for p, cs, g in zip(PREFIXES, CONTS, got):
        for c, lp in zip(cs, g):
            want = reference(tiny_ctx, p, c)
            assert close(lp, want), (p, c, lp, want)


def test_score_of_a_single_continuation_matches(tiny_ctx, ops):
    got = ops(tiny_ctx, "score", items=[{"prefix": PREFIXES[2], "continuations": [CONTS[1][2]]}])["logprobs"]
    assert close(got[0][0], reference(tiny_ctx, PREFIXES[2], CONTS[1][2]))


def test_score_depends_on_the_prefix(tiny_ctx, ops):
    """Guards the test above: a wrongly shared cache would show up as equal scores here."""
    cont = [6722, 315]
    a, b = ops(tiny_ctx, "score", items=[{"prefix": PREFIXES[0], "continuations": [cont]},
                                         {"prefix": PREFIXES[2], "continuations": [cont]}])["logprobs"]
    assert max(abs(x - y) for x, y in zip(a[0], b[0])) > 1e-2


def test_score_is_the_same_when_chunked_into_tiny_batches(tiny_ctx, ops):
    items = [{"prefix": p, "continuations": c} for p, c in zip(PREFIXES, CONTS)]
    whole = ops(tiny_ctx, "score", items=items)["logprobs"]
    old = tiny_ctx.max_batch_tokens
    tiny_ctx.max_batch_tokens = 12  # forces one item per group and continuation sub-batches
    try:
        chunked = ops(tiny_ctx, "score", items=items)["logprobs"]
    finally:
        tiny_ctx.max_batch_tokens = old
    for w, c in zip(whole, chunked):
        for x, y in zip(w, c):
            assert close(x, y)


def test_score_probabilities_are_valid(tiny_ctx, ops):
    got = ops(tiny_ctx, "score", items=[{"prefix": [1, 2], "continuations": [[3], [4, 5]]}])["logprobs"][0]
    assert all(v <= 0 and math.isfinite(v) for lp in got for v in lp)


def test_out_of_range_token_ids_are_bad_args(tiny_ctx, ops):
    from sempress_sidecar.protocol import BadArgs

    with pytest.raises(BadArgs, match="outside"):
        ops(tiny_ctx, "score", items=[{"prefix": [1], "continuations": [[10**7]]}])
