import torch

P_SHORT = [3838, 374, 279]
P_LONG = [785, 6722, 315, 9625, 374, 12095, 13, 576, 6722, 315]


def gen(ops, ctx, prompts, **kw):
    args = {"max_new_tokens": 6, "do_sample": False, **kw}
    return ops(ctx, "generate", prompts=prompts, **args)["sequences"]


def test_greedy_is_deterministic(tiny_ctx, ops):
    a = gen(ops, tiny_ctx, [P_SHORT, P_LONG])
    b = gen(ops, tiny_ctx, [P_SHORT, P_LONG])
    assert a == b and all(len(s[0]) == 6 for s in a)


def test_greedy_in_a_padded_batch_equals_greedy_alone_and_hf_generate(tiny_ctx, ops):
    batch = gen(ops, tiny_ctx, [P_SHORT, P_LONG])
    alone = gen(ops, tiny_ctx, [P_SHORT])
    assert batch[0] == alone[0]
    with torch.inference_mode():
        hf = tiny_ctx.model.generate(torch.tensor([P_SHORT]), max_new_tokens=6, do_sample=False,
                                     eos_token_id=None, pad_token_id=0)
    assert hf[0, len(P_SHORT):].tolist() == alone[0][0]


def test_sampling_with_one_seed_repeats_and_ignores_batch_partners(tiny_ctx, ops):
    kw = dict(do_sample=True, temperature=1.0, top_p=0.9, n=4, max_new_tokens=8)
    a = gen(ops, tiny_ctx, [P_SHORT], seeds=[7], **kw)
    b = gen(ops, tiny_ctx, [P_SHORT], seeds=[7], **kw)
    c = gen(ops, tiny_ctx, [P_LONG, P_SHORT], seeds=[99, 7], **kw)
    assert a == b
    assert c[1] == a[0]
    assert len({tuple(s) for s in a[0]}) > 1, "the n rows of one prompt should differ"
    d = gen(ops, tiny_ctx, [P_SHORT], seeds=[8], **kw)
    assert d != a


def test_generation_stops_after_eos_and_keeps_it(tiny_ctx, ops):
    first = gen(ops, tiny_ctx, [P_SHORT], max_new_tokens=1)[0][0][0]
    old = tiny_ctx.model.generation_config.eos_token_id
    tiny_ctx.model.generation_config.eos_token_id = first  # pretend the first greedy token is EOS
    try:
        out = gen(ops, tiny_ctx, [P_SHORT, P_LONG], max_new_tokens=5)
    finally:
        tiny_ctx.model.generation_config.eos_token_id = old
    assert out[0][0] == [first]
    assert out[1][0][-1] == first or len(out[1][0]) == 5


def test_greedy_rows_in_the_sampling_batch_equal_their_own_calls(tiny_ctx, ops):
    """greedy_tokens adds one argmax row per prompt to the sampling batch: those rows equal a greedy-only
    call, and the sampled rows equal a sampling-only call (the greedy rows draw no random numbers),
    whether the greedy rows stop before or after the sampled ones."""
    prompts, seeds = [P_SHORT, P_LONG], [3, 4]
    kw = dict(do_sample=True, temperature=1.0, top_p=0.9, n=3, seeds=seeds)
    for greedy_new, sample_new in ((4, 6), (6, 3), (5, 5)):
        both = ops(tiny_ctx, "generate", prompts=prompts, max_new_tokens=sample_new, greedy_tokens=greedy_new, **kw)
        assert both["sequences"] == gen(ops, tiny_ctx, prompts, max_new_tokens=sample_new, **kw)
        assert both["greedy"] == [s[0] for s in gen(ops, tiny_ctx, prompts, max_new_tokens=greedy_new)]
        assert [len(g) for g in both["greedy"]] == [greedy_new] * 2
        assert all(len(s) == sample_new for per in both["sequences"] for s in per)
    assert ops(tiny_ctx, "generate", prompts=prompts, max_new_tokens=2, **kw)["greedy"] is None


def test_a_greedy_row_stops_at_eos_while_the_samples_go_on(tiny_ctx, ops):
    first = gen(ops, tiny_ctx, [P_SHORT], max_new_tokens=1)[0][0][0]
    old = tiny_ctx.model.generation_config.eos_token_id
    tiny_ctx.model.generation_config.eos_token_id = first
    try:
        out = ops(tiny_ctx, "generate", prompts=[P_SHORT], max_new_tokens=6, do_sample=True, n=2, seeds=[1],
                  greedy_tokens=4)
    finally:
        tiny_ctx.model.generation_config.eos_token_id = old
    assert out["greedy"] == [[first]]
    assert all(len(s) == 6 or s[-1] == first for s in out["sequences"][0])
