"""op_patch on a shared clean prefix: the targets' [0, target_len − 1) run once, together (left-padded),
their KV cache is shared read-only, and every patched row runs only the last prompt token + its continuation.

The reference is the same op with ``prefix_cache=False`` (every row one full forward over target +
continuation, the path op_patch had before); test_mechanistic.py also checks both against an
independent one-forward-per-layer loop.
"""
from __future__ import annotations

import pytest
import torch

from sempress_sidecar import patching as mech
from sempress_sidecar.patching import op_patch
from test_mechanistic import make_tiny_ctx, max_diff_nested, rand_ids

SITES = ["resid", "attn"]


def two_items(vocab: int, seed: int) -> list[dict]:
    """Targets of different lengths, continuations of 1-3 tokens."""
    g = torch.Generator().manual_seed(seed)

    def ids(n: int) -> list[int]:
        return torch.randint(1, vocab, (n,), generator=g).tolist()

    return [
        {"source": ids(9), "target": ids(14), "continuations": [ids(1 + k % 3) for k in range(5)]},
        {"source": ids(12), "target": ids(7), "continuations": [ids(3 - k % 3) for k in range(4)], "layers": [0, -1, 1]},
    ]


def assert_same_sweep(got: list[dict], ref: list[dict], tol: float = 1e-4) -> float:
    """Equal logprobs (≤ tol) and argmaxes; returns the largest patch effect seen (to rule out a vacuous pass)."""
    moved = 0.0
    for x, y in zip(got, ref, strict=True):
        assert x["layers"] == y["layers"]
        assert max_diff_nested(x["clean"]["logprobs"], y["clean"]["logprobs"]) <= tol
        assert x["clean"]["argmax"] == y["clean"]["argmax"]
        for site in x["patched"]:
            for l in range(len(x["layers"])):
                assert max_diff_nested(x["patched"][site]["logprobs"][l], y["patched"][site]["logprobs"][l]) <= tol
                moved = max(moved, max_diff_nested(x["patched"][site]["logprobs"][l], x["clean"]["logprobs"]))
            assert x["patched"][site]["argmax"] == y["patched"][site]["argmax"]
    return moved


@pytest.fixture
def prefix_passes(monkeypatch) -> list[list[int]]:
    """Per clean-prefix pass op_patch makes, the prefix lengths it holds (proves the prefix path really ran)."""
    seen: list[list[int]] = []
    real = mech._clean_prefix

    def spy(ctx, items, which):
        seen.append([len(items[i]["target"]) - 1 for i in which])
        return real(ctx, items, which)

    monkeypatch.setattr(mech, "_clean_prefix", spy)
    return seen


def test_prefix_path_equals_full_forwards_on_the_tiny_random_qwen2(tiny_ctx, prefix_passes):
    items = two_items(tiny_ctx.model.config.vocab_size, 1)
    got = op_patch(tiny_ctx, {"items": items, "sites": SITES})["items"]
    assert prefix_passes == [[13, 6]]  # one clean pass over both items' prefixes, target_len − 1 tokens each
    ref = op_patch(tiny_ctx, {"items": items, "sites": SITES}, prefix_cache=False)["items"]
    assert len(prefix_passes) == 1
    assert assert_same_sweep(got, ref) > 1e-3


def test_many_passes_on_one_prefix_equal_full_forwards_when_the_budget_is_small(prefix_passes):
    """max_batch_tokens=40 splits each item's rows over several passes sharing one prefix cache; if a
    pass extended the shared cache, later passes would see extra keys and drift."""
    ctx = make_tiny_ctx(max_batch_tokens=40)
    items = two_items(512, 2)
    got = op_patch(ctx, {"items": items, "sites": SITES})["items"]
    ref = op_patch(ctx, {"items": items, "sites": SITES}, prefix_cache=False)["items"]
    assert prefix_passes == [[13, 6]]
    assert assert_same_sweep(got, ref) > 1e-3


def _per_row(scored) -> list[tuple[list[float], int]]:
    lp, am, counts = scored
    lp, am = lp.tolist(), am.tolist()
    return [(lp[o:o + n], a) for (o, n), a in zip(counts, am)]


def test_patched_passes_leave_the_shared_prefix_cache_untouched():
    ctx = make_tiny_ctx()
    it = {"source": rand_ids(8, 3), "target": rand_ids(10, 4), "continuations": [rand_ids(2, 5), rand_ids(3, 6)],
          "_layers": [0, 2]}
    recs = mech._record_sources(ctx, [it], SITES)
    rows = mech._build_rows([it], SITES)
    prefix = mech._clean_prefix(ctx, [it], [0])
    before = [(layer.keys.clone(), layer.values.clone()) for layer in prefix.cache.layers]
    first = _per_row(mech._score_rows(ctx, rows, recs, prefix))
    second = _per_row(mech._score_rows(ctx, rows[::-1], recs, prefix))[::-1]
    assert prefix.cache.get_seq_length() == 9
    for layer, (k, v) in zip(prefix.cache.layers, before):
        assert torch.equal(layer.keys, k) and torch.equal(layer.values, v)
    assert first == second


def test_a_one_token_target_has_no_prefix_and_still_matches(prefix_passes):
    ctx = make_tiny_ctx()
    items = [{"source": rand_ids(5, 7), "target": rand_ids(1, 8), "continuations": [rand_ids(2, 9), rand_ids(1, 10)]},
             {"source": rand_ids(6, 11), "target": rand_ids(4, 12), "continuations": []}]
    got = op_patch(ctx, {"items": items, "sites": SITES})["items"]
    ref = op_patch(ctx, {"items": items, "sites": SITES}, prefix_cache=False)["items"]
    assert prefix_passes == [[3]]  # the one-token target has no prefix: its rows run as full forwards
    assert assert_same_sweep(got, ref) > 1e-3


def test_prefix_path_matches_on_sliding_window_post_norm_blocks(prefix_passes):
    """Gemma3-style blocks with a 4-token sliding window shorter than the prefix: the copied cache keeps
    its window bookkeeping, so windowed layers see the same keys as in a full forward."""
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    from sempress_sidecar.context import ModelContext

    torch.manual_seed(1)
    cfg = Gemma3TextConfig(vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=3,
                           num_attention_heads=4, num_key_value_heads=2, head_dim=16, max_position_embeddings=256,
                           sliding_window=4, attn_implementation="eager")
    model = Gemma3ForCausalLM(cfg).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.uniform_(-0.5, 0.5)
    g = ModelContext(model=model, tokenizer=None, device=torch.device("cpu"), dtype=torch.float32, n_layers=3,
                     base_attn="eager")
    items = two_items(512, 3)
    got = op_patch(g, {"items": items, "sites": SITES})["items"]
    ref = op_patch(g, {"items": items, "sites": SITES}, prefix_cache=False)["items"]
    assert prefix_passes == [[13, 6]]
    assert assert_same_sweep(got, ref) > 1e-4


@pytest.mark.embedded
def test_prefix_path_equals_full_forwards_on_the_embedded_model(embedded_ctx, prefix_passes):
    ctx = embedded_ctx
    enc = lambda s: ctx.tokenizer(s)["input_ids"]  # noqa: E731
    items = [
        {"source": enc("Answer with exactly one English word.\nQuestion: The capital of France is ____.\nAnswer:"),
         "target": enc("Answer with exactly one English word.\nDo not use the word \"Paris\" anywhere in your answer."
                       "\nQuestion: The capital of France is ____.\nAnswer:"),
         "continuations": [enc(" Paris"), enc(" Lyon is")[:2], enc(" Berlin, Germany")[:3]], "layers": [0, 5, 11, 17, 23]},
        {"source": enc("Reply with one lowercase word.\nQuestion: What colour is the sky?\nReply:"),
         "target": enc("Reply with one lowercase word. Never say blue.\nQuestion: What colour is the sky?\nReply:"),
         "continuations": [enc(" blue"), enc(" light blue sky")[:3]], "layers": [2, 12, 22]},
    ]
    assert len(items[0]["target"]) != len(items[1]["target"])
    got = op_patch(ctx, {"items": items, "sites": SITES})["items"]
    assert len(prefix_passes) == 1
    ref = op_patch(ctx, {"items": items, "sites": SITES}, prefix_cache=False)["items"]
    assert assert_same_sweep(got, ref) > 1e-3
