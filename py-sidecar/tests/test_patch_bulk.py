"""Patching in bulk: the clean prefixes of all items run in one left-padded pass, and the rows of every item,
site, layer and continuation share passes (one write hook per (site, layer), on its rows only). Results
must equal the unbatched computation (test_mechanistic.naive_patch: one unpadded forward per (site,
layer, continuation) with a plain hook) to 1e-5, argmaxes identical, on the tiny random Qwen2 and on the
embedded model; and the pass count must not grow with items or layers while memory allows.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from sempress_sidecar import memory
from sempress_sidecar.mechanistic import LOGIT_BLOCK
from sempress_sidecar.patching import op_patch
from test_mechanistic import N_LAYERS, make_tiny_ctx, max_diff_nested, naive_patch, rand_ids

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from counters import count_forwards, count_host_reads  # noqa: E402

SITES = ["resid", "attn"]
TOL = 1e-5


def items(n: int, seed: int = 0) -> list[dict]:
    """Targets of different lengths (padded prefixes), 1–3 token continuations, some with a layer subset."""
    out = []
    for i in range(n):
        s = seed + 100 * i
        it = {"source": rand_ids(7 + i % 4, s), "target": rand_ids(9 + 3 * (i % 3), s + 1),
              "continuations": [rand_ids(1 + k % 3, s + 10 + k) for k in range(2 + i % 2)]}
        if i % 3 == 2:
            it["layers"] = [-1, 0]
        out.append(it)
    return out


def assert_equals_unbatched(ctx, got: list[dict], its: list[dict], sites=SITES) -> None:
    moved = 0.0
    for res, it in zip(got, its, strict=True):
        clean, patched = naive_patch(ctx, it["source"], it["target"], it["continuations"], res["layers"], sites)
        assert max_diff_nested(res["clean"]["logprobs"], clean[0]) <= TOL
        assert res["clean"]["argmax"] == clean[1]
        for s in sites:
            for k in range(len(res["layers"])):
                assert max_diff_nested(res["patched"][s]["logprobs"][k], patched[s]["logprobs"][k]) <= TOL
                moved = max(moved, max_diff_nested(res["patched"][s]["logprobs"][k], clean[0]))
            assert res["patched"][s]["argmax"] == patched[s]["argmax"]
    assert moved > 1e-3  # the patches really change the target runs


def test_bulk_sweep_of_many_items_equals_the_unbatched_computation():
    ctx = make_tiny_ctx()
    its = items(5)
    with count_forwards(ctx) as fw, count_host_reads() as reads:
        got = op_patch(ctx, {"items": its, "sites": SITES})["items"]
    # sources, the clean prefixes of all five items, every row of every item and layer: three forwards
    assert fw.calls == 3
    assert sum(reads.values()) == 1  # log-probs and argmaxes cross to the host once
    assert_equals_unbatched(ctx, got, its)


def test_a_small_token_budget_splits_prefixes_and_rows_and_changes_nothing():
    ctx = make_tiny_ctx(max_batch_tokens=40)
    its = items(4, seed=7)
    with count_forwards(ctx) as fw:
        got = op_patch(ctx, {"items": its, "sites": SITES})["items"]
    assert fw.calls > 10
    assert_equals_unbatched(ctx, got, its)


def test_passes_sized_by_a_memory_budget_change_nothing(monkeypatch):
    ctx = make_tiny_ctx()
    its = items(3, seed=3)
    big = op_patch(ctx, {"items": its, "sites": SITES})["items"]
    rows = 6  # per pass, beside the logit block (widest prefix 14 tokens, tails of ≤ 4)
    budget = memory.logit_block_bytes(ctx, LOGIT_BLOCK) + rows * memory.patch_row_bytes(ctx, 14 + 4, 4)
    monkeypatch.setenv("SEMPRESS_MEMORY_BUDGET_MIB", str(budget / 2**20))
    with count_forwards(ctx) as fw:
        small = op_patch(ctx, {"items": its, "sites": SITES})["items"]
    n_rows = sum((1 + 2 * len(r["layers"])) * len(it["continuations"]) for r, it in zip(big, its))
    assert fw.calls == 2 + -(-n_rows // rows)  # sources, prefixes, then passes of `rows` rows
    assert_equals_unbatched(ctx, small, its)
    for a, b in zip(big, small):
        assert a["clean"]["argmax"] == b["clean"]["argmax"]
        assert max_diff_nested(a["clean"]["logprobs"], b["clean"]["logprobs"]) <= TOL


def test_one_token_targets_and_targets_without_continuations_mix_with_the_bulk():
    ctx = make_tiny_ctx()
    its = items(2, seed=11) + [{"source": rand_ids(5, 70), "target": rand_ids(1, 71), "continuations": [rand_ids(2, 72)]},
                               {"source": rand_ids(6, 80), "target": rand_ids(8, 81), "continuations": []}]
    got = op_patch(ctx, {"items": its, "sites": ["resid"]})["items"]
    assert got[3]["clean"]["logprobs"] == [] and len(got[3]["patched"]["resid"]["argmax"]) == N_LAYERS
    assert_equals_unbatched(ctx, got[:3], its[:3], sites=["resid"])
    clean, patched = naive_patch(ctx, its[3]["source"], its[3]["target"], [[]], got[3]["layers"], ["resid"])
    assert got[3]["clean"]["argmax"] == clean[1] and got[3]["patched"]["resid"]["argmax"] == patched["resid"]["argmax"]


def test_the_tiny_random_qwen2_with_its_real_vocabulary(tiny_ctx):
    its = items(3, seed=21)
    got = op_patch(tiny_ctx, {"items": its, "sites": SITES})["items"]
    assert_equals_unbatched(tiny_ctx, got, its)


@pytest.mark.embedded
def test_bulk_sweep_equals_the_unbatched_computation_on_the_embedded_model(embedded_ctx):
    ctx = embedded_ctx
    enc = lambda s: ctx.tokenizer(s)["input_ids"]  # noqa: E731
    base = "Answer with exactly one English word.\nQuestion: {q}\nAnswer:"
    neg = "Answer with exactly one English word.\nDo not use the word \"{x}\" anywhere in your answer.\nQuestion: {q}\nAnswer:"
    qs = [("Fill the blank with one word: The capital of France is ____.", "Paris"),
          ("One-word answer: Japan's capital is ____.", "Tokyo")]
    its = [{"source": enc(base.format(q=q)), "target": enc(neg.format(q=q, x=x)),
            "continuations": [enc(" " + x), enc(x + ".")], "layers": [0, 11, 23]} for q, x in qs]
    assert len(its[0]["target"]) != len(its[1]["target"])
    with count_forwards(ctx) as fw:
        got = op_patch(ctx, {"items": its, "sites": SITES})["items"]
    assert fw.calls == 3
    assert_equals_unbatched(ctx, got, its)
