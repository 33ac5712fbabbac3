"""No per-row host reads: each op's results cross to the host once (the decode loop: one small flag read
per step, then the tokens once), however many rows it has; on a GPU every read is a device sync
(bench/counters.py counts them on the CPU). And generate's groups sized by a memory budget
(memory.py) return the same ids as the token-cap groups.
"""
from __future__ import annotations

import sys
from pathlib import Path

from sempress_sidecar import memory
from test_ops_reference import prompts, surface_forms

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from counters import count_forwards, count_host_reads  # noqa: E402


def reads(fn) -> int:
    with count_host_reads() as r:
        fn()
    return sum(r.values())


def test_score_reads_back_once_for_any_number_of_rows(tiny_ctx, ops):
    conts = surface_forms(tiny_ctx)
    for k in (1, 6):
        items = [{"prefix": p, "continuations": conts} for p in (prompts(tiny_ctx) * 2)[:k]]
        assert reads(lambda: ops(tiny_ctx, "score", items=items)) == 1


def test_lens_ops_read_back_once(tiny_ctx, ops):
    items = [{"ids": p, "position": -1, "token_ids": [1, 2, 3]} for p in prompts(tiny_ctx) + prompts(tiny_ctx, True)]
    assert reads(lambda: ops(tiny_ctx, "logit_lens", items=items)) == 1
    assert reads(lambda: ops(tiny_ctx, "decompose", items=items)) == 1


def test_decoding_reads_one_flag_tensor_per_step_and_the_tokens_once(tiny_ctx, ops):
    ps = prompts(tiny_ctx) + prompts(tiny_ctx, True)
    greedy = lambda: ops(tiny_ctx, "generate", prompts=ps, max_new_tokens=6, do_sample=False)  # noqa: E731
    sampled = lambda: ops(tiny_ctx, "generate", prompts=ps, max_new_tokens=6, do_sample=True,  # noqa: E731
                          temperature=1.0, top_p=0.9, n=4, seeds=list(range(len(ps))))
    assert reads(greedy) == 6 + 1
    assert reads(sampled) == 6 + 1  # the full-vocabulary redraws of the random model read nothing more


def test_generate_groups_sized_by_a_memory_budget_return_the_same_ids(tiny_ctx, ops, monkeypatch):
    ps = prompts(tiny_ctx, True)
    args = dict(prompts=ps, max_new_tokens=3, do_sample=True, temperature=1.0, top_p=0.9, n=4, seeds=[5, 6, 7])
    whole = ops(tiny_ctx, "generate", **args)["sequences"]
    each = memory.generate_prompt_bytes(tiny_ctx, max(map(len, ps)), 3, 4)
    budget = memory.sampling_workspace_bytes(tiny_ctx) + 1.5 * each  # room for one prompt per group
    monkeypatch.setenv("SEMPRESS_MEMORY_BUDGET_MIB", str(budget / 2**20))
    with count_forwards(tiny_ctx) as fw:
        grouped = ops(tiny_ctx, "generate", **args)["sequences"]
    assert fw.calls == len(ps) * 3  # per group: the prefill and two decode steps
    assert grouped == whole


def test_score_groups_sized_by_a_memory_budget_return_the_same_log_probs(tiny_ctx, ops, monkeypatch):
    conts = surface_forms(tiny_ctx)
    items = [{"prefix": p, "continuations": conts} for p in prompts(tiny_ctx)]
    whole = ops(tiny_ctx, "score", items=items)["logprobs"]
    width = max(len(it["prefix"]) for it in items)
    one = memory.score_item_bytes(tiny_ctx, width, [len(c) for c in conts])
    monkeypatch.setenv("SEMPRESS_MEMORY_BUDGET_MIB", str(1.2 * one / 2**20))  # one item per prefix group
    with count_forwards(tiny_ctx) as fw:
        grouped = ops(tiny_ctx, "score", items=items)["logprobs"]
    assert fw.calls == 2 * len(items)  # per item: its prefix, then all its continuation rows in one pass
    for a, b in zip(whole, grouped):
        for x, y in zip(a, b):
            assert len(x) == len(y) and max(abs(u - v) for u, v in zip(x, y)) <= 1e-5
