import torch

from sempress_sidecar.tensors import decode_tensor

PROMPTS = [[3838, 374, 279, 6722], [785, 6722, 315, 9625, 374, 12095, 13]]
STEPS = 4


def test_rows_mode_shapes_and_attention_rows_sum_to_one(tiny_ctx, ops):
    res = ops(tiny_ctx, "trace", prompts=PROMPTS, max_new_tokens=STEPS)["items"]
    greedy = ops(tiny_ctx, "generate", prompts=PROMPTS, max_new_tokens=STEPS, do_sample=False)["sequences"]
    L, H, heads = tiny_ctx.n_layers, 64, 4
    for p, item, g in zip(PROMPTS, res, greedy):
        steps = len(item["generated"])
        seq = len(p) + steps - 1
        assert item["generated"] == g[0] and item["prompt_len"] == len(p)
        hid, att = decode_tensor(item["hidden"]), decode_tensor(item["attentions"])
        assert hid.dtype == torch.float32 and tuple(hid.shape) == (steps, L + 1, H)
        assert tuple(att.shape) == (steps, L, heads, seq)
        for s in range(steps):
            row = att[s]
            assert torch.allclose(row[..., : len(p) + s].sum(-1), torch.ones(L, heads), atol=1e-5)
            assert torch.all(row[..., len(p) + s:] == 0)


def test_full_mode_holds_the_rows_of_rows_mode(tiny_ctx, ops):
    rows = ops(tiny_ctx, "trace", prompts=PROMPTS[:1], max_new_tokens=STEPS)["items"][0]
    full = ops(tiny_ctx, "trace", prompts=PROMPTS[:1], max_new_tokens=STEPS, mode="full")["items"][0]
    p = len(PROMPTS[0])
    steps = len(full["generated"])
    fh, fa = decode_tensor(full["hidden"]), decode_tensor(full["attentions"])
    assert tuple(fh.shape) == (tiny_ctx.n_layers + 1, p + steps - 1, 64)
    assert tuple(fa.shape) == (tiny_ctx.n_layers, 4, p + steps - 1, p + steps - 1)
    rh, ra = decode_tensor(rows["hidden"]), decode_tensor(rows["attentions"])
    assert torch.allclose(rh[1], fh[:, p, :], atol=1e-5)
    assert torch.allclose(ra[2], fa[:, :, p + 1, :], atol=1e-6)


def test_trace_restores_the_fast_attention_implementation(tiny_ctx, ops):
    ops(tiny_ctx, "trace", prompts=PROMPTS[:1], max_new_tokens=1)
    assert tiny_ctx.model.config._attn_implementation == tiny_ctx.base_attn != "eager"
