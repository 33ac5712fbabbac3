import torch

from sempress_sidecar.tensors import decode_tensor

SEQS = [[3838, 374, 279, 6722], [785, 6722, 315, 9625, 374, 12095, 13], [785, 6722, 315]]


def _rows(ctx, ops, seqs, mode="decision"):
    return ops(ctx, "trace", sequences=seqs, mode=mode)["items"]


def test_decision_mode_returns_the_last_query_row_per_layer_and_head(tiny_ctx, ops):
    L, heads = tiny_ctx.n_layers, 4
    for s, item in zip(SEQS, _rows(tiny_ctx, ops, SEQS)):
        att = decode_tensor(item["attentions"])
        assert item["hidden"] is None
        assert att.dtype == torch.float32 and tuple(att.shape) == (L, heads, len(s))
        assert torch.allclose(att.sum(-1), torch.ones(L, heads), atol=1e-5)


def test_batched_rows_equal_one_sequence_at_a_time(tiny_ctx, ops):
    batched = _rows(tiny_ctx, ops, SEQS)
    for s, item in zip(SEQS, batched):
        alone = _rows(tiny_ctx, ops, [s])[0]
        assert torch.allclose(decode_tensor(item["attentions"]), decode_tensor(alone["attentions"]), atol=1e-5)  # fp32 GEMM blocking differs with batch shape


def test_the_decision_row_is_the_same_row_of_the_longer_teacher_forced_pass(tiny_ctx, ops):
    # What the run used to store: row q of one unpadded pass over prompt + greedy[:-1]. Causal attention
    # makes it the last row of the pass over the first q+1 tokens, which is what decision mode computes.
    full = _rows(tiny_ctx, ops, SEQS[1:2], mode="full")[0]
    fa, fh = decode_tensor(full["attentions"]), decode_tensor(full["hidden"])
    n = len(SEQS[1])
    assert tuple(fa.shape) == (tiny_ctx.n_layers, 4, n, n)
    assert tuple(fh.shape) == (tiny_ctx.n_layers + 1, n, 64)
    for q in (2, 4, n - 1):
        row = decode_tensor(_rows(tiny_ctx, ops, [SEQS[1][: q + 1], SEQS[0]])[0]["attentions"])
        assert torch.allclose(row, fa[:, :, q, : q + 1], atol=1e-5)


def test_trace_restores_the_fast_attention_implementation(tiny_ctx, ops):
    _rows(tiny_ctx, ops, SEQS[:1])
    assert tiny_ctx.model.config._attn_implementation == tiny_ctx.base_attn != "eager"
