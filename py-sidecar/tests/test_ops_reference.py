"""Every forward-pass op against its straightforward reference (reference_ops.py: one unpadded sequence
per forward, no cache, no batching): ids identical, log-probs and probabilities within 1e-5, seeded
samples identical. On the tiny random Qwen2 (real tokenizer, prompts of the design's shape) and on the
embedded model (slow; deselect with -m 'not embedded').
"""
from __future__ import annotations

import pytest
import torch

import reference_ops as ref

TOL = 1e-5
QUESTIONS = ["Fill the blank with one word: The capital of France is ____.",
             "Fill the blank (one word): You use a knife to ____.",
             "One-word answer: Japan's capital is ____."]


def prompts(ctx, negative: bool = False) -> list[list[int]]:
    """Baseline or negative prompts of the design (different lengths, so batches are padded)."""
    out = []
    for q, x in zip(QUESTIONS, ["Paris", "cut", "Tokyo"]):
        lines = ["Answer with exactly one English word."]
        if negative:
            lines.append(f'Do not use the word "{x}" anywhere in your answer.')
        out.append(ctx.tokenizer("\n".join(lines + [f"Question: {q}", "Answer:"]), add_special_tokens=False)["input_ids"])
    return out


def surface_forms(ctx) -> list[list[int]]:
    enc = lambda s: ctx.tokenizer(s, add_special_tokens=False)["input_ids"]  # noqa: E731
    return [enc(" Paris"), enc("Paris."), enc(" PARIS."), enc(" cut"), enc(" Tokyo is")]


def max_abs(a, b) -> float:
    ta, tb = torch.tensor(a, dtype=torch.float64), torch.tensor(b, dtype=torch.float64)
    assert ta.shape == tb.shape
    return float((ta - tb).abs().max()) if ta.numel() else 0.0


def check_score(ctx, ops) -> None:
    conts = surface_forms(ctx)
    items = [{"prefix": p, "continuations": conts[: 2 + i]} for i, p in enumerate(prompts(ctx) + prompts(ctx, True))]
    got = ops(ctx, "score", items=items)["logprobs"]
    for it, lps in zip(items, got):
        for c, lp in zip(it["continuations"], lps):
            assert max_abs(lp, ref.score(ctx, it["prefix"], c)) <= TOL


def check_greedy(ctx, ops, new: int = 8) -> None:
    ps = prompts(ctx) + prompts(ctx, True)
    got = ops(ctx, "generate", prompts=ps, max_new_tokens=new, do_sample=False)["sequences"]
    assert [g[0] for g in got] == [ref.generate(ctx, p, new, False)[0] for p in ps]


def check_samples(ctx, ops, n: int = 4, new: int = 5, top_p: float = 0.9) -> None:
    ps = prompts(ctx, True)
    seeds = [11, 2**40 + 3, 7]
    got = ops(ctx, "generate", prompts=ps, max_new_tokens=new, do_sample=True, temperature=1.0, top_p=top_p,
              n=n, seeds=seeds)["sequences"]
    for p, s, g in zip(ps, seeds, got):
        assert g == ref.generate(ctx, p, new, True, 1.0, top_p, n, s)


def check_lens_ops(ctx, ops) -> None:
    ps = prompts(ctx) + prompts(ctx, True)
    toks = sorted({c[0] for c in surface_forms(ctx)})
    items = [{"ids": p, "position": -1 - (i % 2), "token_ids": toks[: 1 + i]} for i, p in enumerate(ps)]
    lens = ops(ctx, "logit_lens", items=items)["probs"]
    dec = ops(ctx, "decompose", items=items)["probs"]
    for it, lz, d in zip(items, lens, dec):
        assert max_abs(lz, ref.logit_lens(ctx, it["ids"], it["position"], it["token_ids"])) <= TOL
        assert max_abs(d, ref.decompose(ctx, it["ids"], it["position"], it["token_ids"])) <= TOL


# ---------------------------------------------------------------- the tiny random Qwen2

def test_score_equals_one_forward_per_continuation(tiny_ctx, ops):
    check_score(tiny_ctx, ops)


def test_greedy_ids_equal_a_recomputed_decode_per_prompt(tiny_ctx, ops):
    check_greedy(tiny_ctx, ops)


def test_seeded_samples_equal_a_per_prompt_loop_over_the_full_vocabulary_fallback(tiny_ctx, ops):
    # random weights: flat distributions, so every step takes the full-vocabulary nucleus
    check_samples(tiny_ctx, ops)


def test_seeded_samples_equal_a_per_prompt_loop_on_the_top_k_path(tiny_ctx, ops, monkeypatch):
    # peaky logits (the lm head scaled up) keep the nucleus inside the top-k candidates
    head = tiny_ctx.model.lm_head
    monkeypatch.setattr(head, "forward", lambda h, f=head.forward: f(h) * 40.0)
    first = ref.generate(tiny_ctx, prompts(tiny_ctx, True)[0], 1, True, 1.0, 0.9, 4, 11)
    logp = torch.log_softmax(ref.last_logits(tiny_ctx, prompts(tiny_ctx, True)[0]), -1)
    assert float(logp.topk(ref.NUCLEUS_CANDIDATES).values.exp().sum()) >= 0.9, "the test needs peaky logits"
    assert first and all(len(s) == 1 for s in first)
    check_samples(tiny_ctx, ops)


def test_samples_and_greedy_stop_at_eos_like_the_reference(tiny_ctx, ops):
    p = prompts(tiny_ctx, True)[0]
    eos = ref.generate(tiny_ctx, p, 2, True, 1.0, 0.9, 4, 11)[1][0]  # a token some sample draws first
    gc = tiny_ctx.model.generation_config
    old = gc.eos_token_id
    gc.eos_token_id = eos
    try:
        got = ops(tiny_ctx, "generate", prompts=[p], max_new_tokens=5, do_sample=True, temperature=1.0, top_p=0.9,
                  n=4, seeds=[11])["sequences"][0]
        assert got == ref.generate(tiny_ctx, p, 5, True, 1.0, 0.9, 4, 11)
        assert any(s[-1] == eos and len(s) < 5 for s in got)
        check_greedy(tiny_ctx, ops, new=4)
    finally:
        gc.eos_token_id = old


def test_logit_lens_and_decomposition_equal_one_hooked_forward_per_item(tiny_ctx, ops):
    check_lens_ops(tiny_ctx, ops)


# ---------------------------------------------------------------- the embedded model

@pytest.mark.embedded
def test_embedded_score_greedy_and_lens_equal_their_references(embedded_ctx, ops):
    check_score(embedded_ctx, ops)
    check_greedy(embedded_ctx, ops, new=4)
    check_lens_ops(embedded_ctx, ops)


@pytest.mark.embedded
def test_embedded_seeded_samples_equal_the_per_prompt_loop(embedded_ctx, ops):
    check_samples(embedded_ctx, ops, n=3, new=3)
