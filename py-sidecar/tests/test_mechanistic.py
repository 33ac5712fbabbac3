"""Invariants of the hooks and the mechanistic ops (logit lens, decomposition, patching).

Runs on a tiny random Qwen2 built from a config (no download); the embedded default model repeats the
key invariants in test_mechanistic_embedded.py (slow; deselect with -m 'not embedded').
"""
from __future__ import annotations


import pytest
import torch
from transformers import Qwen2Config, Qwen2ForCausalLM

from sempress_sidecar.context import ModelContext
from sempress_sidecar.hooks import hook_name, hooks, parse_hook_name
from sempress_sidecar.mechanistic import chunk_by_tokens, op_decompose, op_logit_lens
from sempress_sidecar.patching import op_patch
from sempress_sidecar.protocol import BadArgs

N_LAYERS = 4
VOCAB = 512


def make_tiny_ctx(max_batch_tokens: int = 4096, seed: int = 0) -> ModelContext:
    torch.manual_seed(seed)
    cfg = Qwen2Config(
        vocab_size=VOCAB, hidden_size=64, intermediate_size=128, num_hidden_layers=N_LAYERS,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
        initializer_range=0.15,  # peaky distributions, so patch effects are far above float noise
        attn_implementation="eager",
    )
    model = Qwen2ForCausalLM(cfg).eval()
    with torch.no_grad():  # norm weights start at 1, which would hide a missing or doubled norm
        for name, p in model.named_parameters():
            if "norm" in name:
                p.uniform_(0.5, 1.5)
    return ModelContext(model=model, tokenizer=None, device=torch.device("cpu"), dtype=torch.float32,
                        n_layers=N_LAYERS, max_batch_tokens=max_batch_tokens, base_attn="eager")


@pytest.fixture(scope="module")
def ctx() -> ModelContext:
    return make_tiny_ctx()


def rand_ids(n: int, seed: int) -> list[int]:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(1, VOCAB, (n,), generator=g).tolist()


def model_next_logprobs(ctx: ModelContext, ids: list[int]) -> torch.Tensor:
    with torch.no_grad():
        logits = ctx.model(torch.tensor([ids]), use_cache=False).logits[0, -1].float()
    return torch.log_softmax(logits, -1)


def max_diff(a, b) -> float:
    ta, tb = torch.tensor(a, dtype=torch.float64), torch.tensor(b, dtype=torch.float64)
    assert ta.shape == tb.shape
    return float((ta - tb).abs().max()) if ta.numel() else 0.0


# ---------------------------------------------------------------- hooks

def test_hook_names_follow_one_grammar_and_round_trip():
    assert hook_name(3, "resid_post") == "blocks.3.hook_resid_post"
    assert hook_name(0, "attn_out") == "blocks.0.attn.hook_out"
    assert hook_name(2, "mlp_out") == "blocks.2.mlp.hook_out"
    for site in ("resid_pre", "resid_mid", "resid_post", "attn_out", "mlp_out"):
        assert parse_hook_name(hook_name(5, site)) == (5, site)
    with pytest.raises(ValueError):
        hook_name(0, "resid")
    with pytest.raises(ValueError):
        parse_hook_name("blocks.x.hook_resid_post")


def test_hooks_are_removed_even_when_the_forward_raises(ctx):
    layers = ctx.layers()

    def boom(act, name):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        with hooks(layers, {hook_name(1, "resid_post"): boom, hook_name(0, "resid_pre"): boom}):
            ctx.model(torch.tensor([[1, 2, 3]]), use_cache=False)
    assert not layers[1]._forward_hooks and not layers[0]._forward_pre_hooks
    ctx.model(torch.tensor([[1, 2, 3]]), use_cache=False)  # no stale hook fires


def test_residual_points_satisfy_the_block_equations(ctx):
    """resid_mid = resid_pre + attn_out and resid_post = resid_mid + mlp_out for a pre-norm block, which
    exercises tensor outputs (decoder layer, mlp), tuple outputs (self_attn) and pre-hooks."""
    got = {}

    def keep(act, name):
        got[name] = act.clone()

    names = [hook_name(l, s) for l in range(N_LAYERS) for s in ("resid_pre", "resid_mid", "resid_post", "attn_out", "mlp_out")]
    with torch.no_grad(), hooks(ctx.layers(), {n: keep for n in names}):
        out = ctx.model(torch.tensor([rand_ids(9, 1)]), use_cache=False, output_hidden_states=True)
    for l in range(N_LAYERS):
        pre, mid, post = (got[hook_name(l, s)] for s in ("resid_pre", "resid_mid", "resid_post"))
        assert torch.allclose(mid, pre + got[hook_name(l, "attn_out")], atol=1e-5)
        assert torch.allclose(post, mid + got[hook_name(l, "mlp_out")], atol=1e-5)
        assert torch.allclose(pre, out.hidden_states[l], atol=1e-6)
        if l + 1 < N_LAYERS:
            assert torch.equal(post, got[hook_name(l + 1, "resid_pre")])


def test_a_hook_that_returns_a_tensor_replaces_the_activation(ctx):
    ids = torch.tensor([rand_ids(6, 2)])
    with torch.no_grad():
        base = ctx.model(ids, use_cache=False).logits
        with hooks(ctx.layers(), {hook_name(N_LAYERS - 1, "attn_out"): lambda a, n: torch.zeros_like(a)}):
            zeroed = ctx.model(ids, use_cache=False).logits
        again = ctx.model(ids, use_cache=False).logits
    assert (base - zeroed).abs().max() > 1e-3
    assert torch.equal(base, again)


# ---------------------------------------------------------------- logit lens

def test_logit_lens_last_layer_is_the_models_own_next_token_distribution(ctx):
    ids = rand_ids(11, 3)
    token_ids = list(range(VOCAB))
    probs = op_logit_lens(ctx, {"items": [{"ids": ids, "position": -1, "token_ids": token_ids}]})["probs"][0]
    assert len(probs) == N_LAYERS + 1
    own = model_next_logprobs(ctx, ids).exp()
    assert max_diff(probs[N_LAYERS], own.tolist()) < 1e-5
    assert abs(sum(probs[N_LAYERS]) - 1) < 1e-4
    # intermediate layers: final norm + unembedding of HF's hidden_states[l] (not yet normed)
    with torch.no_grad():
        hs = ctx.model(torch.tensor([ids]), use_cache=False, output_hidden_states=True).hidden_states
        for l in (0, 2):
            ref = torch.softmax(ctx.model.lm_head(ctx.model.model.norm(hs[l][0, -1])), -1)
            assert max_diff(probs[l], ref.tolist()) < 1e-5
    assert max_diff(probs[0], probs[N_LAYERS]) > 1e-3  # the layers do something


def test_logit_lens_at_an_inner_position_matches_the_prefix_run(ctx):
    ids = rand_ids(10, 4)
    toks = [5, 17, 300]
    at4 = op_logit_lens(ctx, {"items": [{"ids": ids, "position": 4, "token_ids": toks}]})["probs"][0]
    prefix = op_logit_lens(ctx, {"items": [{"ids": ids[:5], "position": -1, "token_ids": toks}]})["probs"][0]
    assert max_diff(at4, prefix) < 1e-5


def test_logit_lens_batch_composition_does_not_change_results(ctx):
    a = {"ids": rand_ids(7, 5), "position": -1, "token_ids": [1, 2, 3]}
    b = {"ids": rand_ids(15, 6), "position": -2, "token_ids": [4, 9]}
    both = op_logit_lens(ctx, {"items": [a, b]})["probs"]
    assert max_diff(both[0], op_logit_lens(ctx, {"items": [a]})["probs"][0]) < 1e-4
    assert max_diff(both[1], op_logit_lens(ctx, {"items": [b]})["probs"][0]) < 1e-4


def test_lens_ops_reject_positions_and_token_ids_out_of_range(ctx):
    with pytest.raises(BadArgs, match="position"):
        op_logit_lens(ctx, {"items": [{"ids": [1, 2], "position": 2, "token_ids": [1]}]})
    with pytest.raises(BadArgs, match="vocabulary"):
        op_decompose(ctx, {"items": [{"ids": [1, 2], "position": -1, "token_ids": [VOCAB]}]})


# ---------------------------------------------------------------- decomposition

def test_decomposition_telescopes_and_meets_the_lens(ctx):
    items = [{"ids": rand_ids(9, 7), "position": -1, "token_ids": list(range(0, VOCAB, 7))},
             {"ids": rand_ids(5, 8), "position": 2, "token_ids": [3, 4]}]
    dec = op_decompose(ctx, {"items": items})["probs"]
    lens = op_logit_lens(ctx, {"items": items})["probs"]
    for d, lz in zip(dec, lens):
        assert len(d) == N_LAYERS and all(len(stages) == 3 for stages in d)
        assert max_diff(d[0][0], lz[0]) < 1e-6
        for l in range(N_LAYERS - 1):
            assert max_diff(d[l][2], d[l + 1][0]) < 1e-6
            assert max_diff(d[l][2], lz[l + 1]) < 1e-6
        assert max_diff(d[N_LAYERS - 1][2], lz[N_LAYERS]) < 1e-5
    # attention and FFN both move the distribution
    assert max(max_diff(d[l][1], d[l][0]) for l in range(N_LAYERS) for d in dec) > 1e-4
    assert max(max_diff(d[l][2], d[l][1]) for l in range(N_LAYERS) for d in dec) > 1e-4


def test_post_norm_blocks_telescope_and_the_lens_matches_a_soft_capped_model():
    """Gemma3-style blocks norm the attention and FFN outputs before the residual add, and soft-cap
    the logits: resid_mid is captured directly, so stages still telescope and resid_mid - resid_pre is
    post_attention_layernorm(attn_out), not the raw attention output."""
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    torch.manual_seed(1)
    cfg = Gemma3TextConfig(vocab_size=VOCAB, hidden_size=64, intermediate_size=128, num_hidden_layers=3,
                           num_attention_heads=4, num_key_value_heads=2, head_dim=16, max_position_embeddings=256,
                           sliding_window=4, final_logit_softcapping=5.0, attn_implementation="eager")
    model = Gemma3ForCausalLM(cfg).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.uniform_(-0.5, 0.5)  # Gemma norms scale by (1 + weight)
    g = ModelContext(model=model, tokenizer=None, device=torch.device("cpu"), dtype=torch.float32, n_layers=3,
                     base_attn="eager")
    ids = rand_ids(9, 90)
    lens = op_logit_lens(g, {"items": [{"ids": ids, "position": -1, "token_ids": list(range(VOCAB))}]})["probs"][0]
    assert max_diff(lens[3], model_next_logprobs(g, ids).exp().tolist()) < 1e-5
    dec = op_decompose(g, {"items": [{"ids": ids, "position": -1, "token_ids": list(range(VOCAB))}]})["probs"][0]
    for l in range(2):
        assert max_diff(dec[l][2], dec[l + 1][0]) < 1e-6
    assert max_diff(dec[2][2], lens[3]) < 1e-5
    got = {}
    names = [hook_name(0, s) for s in ("resid_pre", "resid_mid", "attn_out")]
    with torch.no_grad(), hooks(g.layers(), {n: (lambda a, n: got.__setitem__(n, a.clone())) for n in names}):
        model(torch.tensor([ids]), use_cache=False)
    diff = got[names[1]] - got[names[0]]
    with torch.no_grad():
        assert torch.allclose(diff, g.layers()[0].post_attention_layernorm(got[names[2]]), atol=1e-5)
    assert (diff - got[names[2]]).abs().max() > 1e-3


# ---------------------------------------------------------------- patching

def naive_patch(ctx: ModelContext, source, target, conts, layers, sites):
    """One forward per (site, layer, continuation) with a plain hook: the reference."""
    point = {"resid": "resid_post", "attn": "attn_out"}
    rec = {}
    with torch.no_grad():
        def keep(act, name):
            rec[name] = act[0, -1].clone()

        names = [hook_name(l, point[s]) for s in sites for l in range(ctx.n_layers)]
        with hooks(ctx.layers(), {n: keep for n in names}):
            ctx.model(torch.tensor([source]), use_cache=False)

        def score(fns):
            lps, am = [], None
            for c in conts:
                with hooks(ctx.layers(), fns):
                    logits = ctx.model(torch.tensor([target + c]), use_cache=False).logits[0].float()
                logp = torch.log_softmax(logits, -1)
                p0 = len(target) - 1
                lps.append([float(logp[p0 + t, c[t]]) for t in range(len(c))])
                am = int(logp[p0].argmax())
            return lps, am

        clean = score({})
        patched = {}
        for s in sites:
            lp, am = [], []
            for l in layers:
                name = hook_name(l, point[s])

                def write(act, n, v=rec[name]):
                    out = act.clone()
                    out[0, len(target) - 1] = v
                    return out

                x, y = score({name: write})
                lp.append(x)
                am.append(y)
            patched[s] = {"logprobs": lp, "argmax": am}
    return clean, patched


def patch_item(seed: int, n_conts: int = 3):
    return {"source": rand_ids(8, seed), "target": rand_ids(11, seed + 1),
            "continuations": [rand_ids(1 + k % 3, seed + 10 + k) for k in range(n_conts)]}


def test_patching_a_prompt_with_itself_changes_nothing(ctx):
    it = patch_item(20)
    it["source"] = it["target"]
    res = op_patch(ctx, {"items": [it], "sites": ["resid", "attn"]})["items"][0]
    assert res["layers"] == list(range(N_LAYERS))
    for site in ("resid", "attn"):
        assert len(res["patched"][site]["logprobs"]) == N_LAYERS
        for l in range(N_LAYERS):
            assert max_diff_nested(res["patched"][site]["logprobs"][l], res["clean"]["logprobs"]) < 1e-5
            assert res["patched"][site]["argmax"][l] == res["clean"]["argmax"]


def test_patching_the_last_layer_residual_gives_the_source_next_token_distribution(ctx):
    it = patch_item(30, n_conts=4)
    res = op_patch(ctx, {"items": [it], "sites": ["resid"]})["items"][0]
    src = model_next_logprobs(ctx, it["source"])
    tgt = model_next_logprobs(ctx, it["target"])
    last = res["patched"]["resid"]["logprobs"][N_LAYERS - 1]
    for c, cont in enumerate(it["continuations"]):
        assert abs(last[c][0] - float(src[cont[0]])) < 1e-5
        assert abs(res["clean"]["logprobs"][c][0] - float(tgt[cont[0]])) < 1e-5
    assert res["patched"]["resid"]["argmax"][N_LAYERS - 1] == int(src.argmax())
    assert res["clean"]["argmax"] == int(tgt.argmax())
    assert max(abs(float(src[c[0]] - tgt[c[0]])) for c in it["continuations"]) > 1e-3  # not vacuous


def test_batched_sweep_equals_one_forward_per_layer(ctx):
    it = patch_item(40)
    res = op_patch(ctx, {"items": [it], "sites": ["resid", "attn"]})["items"][0]
    clean, patched = naive_patch(ctx, it["source"], it["target"], it["continuations"], list(range(N_LAYERS)), ["resid", "attn"])
    assert max_diff_nested(res["clean"]["logprobs"], clean[0]) < 1e-4
    assert res["clean"]["argmax"] == clean[1]
    moved = 0.0
    for site in ("resid", "attn"):
        for l in range(N_LAYERS):
            assert max_diff_nested(res["patched"][site]["logprobs"][l], patched[site]["logprobs"][l]) < 1e-4
            moved = max(moved, max_diff_nested(res["patched"][site]["logprobs"][l], clean[0]))
        assert res["patched"][site]["argmax"] == patched[site]["argmax"]
    assert moved > 1e-3  # patches really change the target run


def max_diff_nested(a, b) -> float:
    assert len(a) == len(b)
    return max((max_diff(x, y) for x, y in zip(a, b)), default=0.0)


def test_patch_results_do_not_depend_on_batch_composition_or_chunking(ctx):
    a, b = patch_item(50), patch_item(60, n_conts=2)
    b["layers"] = [-1, 0, 2]
    both = op_patch(ctx, {"items": [a, b], "sites": ["resid", "attn"]})["items"]
    alone = [op_patch(ctx, {"items": [x], "sites": ["resid", "attn"]})["items"][0] for x in (a, b)]
    small = make_tiny_ctx(max_batch_tokens=40)  # same weights (same seed), many small passes
    chunked = op_patch(small, {"items": [a, b], "sites": ["resid", "attn"]})["items"]
    assert both[1]["layers"] == [N_LAYERS - 1, 0, 2]
    for got in (alone, chunked):
        for x, y in zip(both, got):
            assert x["layers"] == y["layers"]
            assert max_diff_nested(x["clean"]["logprobs"], y["clean"]["logprobs"]) < 1e-4
            assert x["clean"]["argmax"] == y["clean"]["argmax"]
            for site in ("resid", "attn"):
                for l in range(len(x["layers"])):
                    assert max_diff_nested(x["patched"][site]["logprobs"][l], y["patched"][site]["logprobs"][l]) < 1e-4
                assert x["patched"][site]["argmax"] == y["patched"][site]["argmax"]


def test_patch_with_no_continuations_still_reports_the_greedy_token(ctx):
    it = patch_item(70)
    it["continuations"] = []
    res = op_patch(ctx, {"items": [it], "sites": ["resid"]})["items"][0]
    assert res["clean"] == {"logprobs": [], "argmax": int(model_next_logprobs(ctx, it["target"]).argmax())}
    assert res["patched"]["resid"]["logprobs"] == [[] for _ in range(N_LAYERS)]
    assert res["patched"]["resid"]["argmax"][-1] == int(model_next_logprobs(ctx, it["source"]).argmax())


def test_patch_rejects_layers_out_of_range(ctx):
    it = patch_item(80)
    it["layers"] = [N_LAYERS]
    with pytest.raises(BadArgs, match="layers"):
        op_patch(ctx, {"items": [it], "sites": ["resid"]})


def test_chunk_by_tokens_respects_the_budget():
    assert chunk_by_tokens([3, 3, 3, 3], 6) == [[0, 1], [2, 3]]
    assert chunk_by_tokens([10, 2], 6) == [[0], [1]]
    assert chunk_by_tokens([2, 5, 1], 10) == [[0, 1], [2]]
    assert chunk_by_tokens([], 10) == []


def test_patch_bench_counts_one_row_pass_for_the_whole_sweep():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "bench" / "patch_bench.py"
    spec = importlib.util.spec_from_file_location("patch_bench", path)
    pb = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pb)
    ctx = pb.tiny_ctx(n_layers=2)
    res = pb.bench(ctx, n_items=1, target_len=10, n_conts=3, cont_len=2, repeats=1)
    assert res["layer_patches"] == 4
    assert res["batched"]["forward_passes"] == 3  # sources + the clean prefix + every row in one pass
    assert res["per_layer"]["forward_passes"] == 1 + (1 + 4)  # sources + clean + one per (site, layer)
    assert res["per_variant"]["forward_passes"] == 1 + (1 + 4) * 3
    assert res["batched"]["layer_patches_per_s"] > 0 and res["speedup_vs_per_variant"] > 0


# ---------------------------------------------------------------- through the sidecar's dispatch

def test_ops_are_reachable_through_the_whitelist_with_protocol_defaults(tiny_ctx, ops):
    """The core's random tiny Qwen2 (loaded by loading.build_context) through ARG_PARSERS + WHITELIST."""
    ids = rand_ids(6, 100)
    L = tiny_ctx.n_layers
    lens = ops(tiny_ctx, "logit_lens", items=[{"ids": ids, "token_ids": [1, 2]}])["probs"][0]
    own = model_next_logprobs(tiny_ctx, ids).exp()
    assert len(lens) == L + 1 and max_diff(lens[L], [float(own[1]), float(own[2])]) < 1e-5
    dec = ops(tiny_ctx, "decompose", items=[{"ids": ids, "token_ids": [1]}])["probs"][0]
    assert len(dec) == L and max_diff(dec[L - 1][2], lens[L][:1]) < 1e-5
    res = ops(tiny_ctx, "patch", items=[{"source": ids, "target": ids, "continuations": [[3, 4]]}])["items"][0]
    assert sorted(res["patched"]) == ["attn", "resid"] and res["layers"] == list(range(L))


def test_patch_result_crosses_the_wire_as_plain_msgpack(tiny_server):
    item = {"source": [5, 6, 7], "target": [5, 6, 8, 9], "continuations": [[10], [11, 12]], "layers": [0, -1]}
    rep = tiny_server.call("patch", {"items": [item], "sites": ["resid"]})
    assert rep["ok"], rep
    res = rep["result"]["items"][0]
    assert len(res["clean"]["logprobs"]) == 2 and len(res["clean"]["logprobs"][1]) == 2
    assert len(res["patched"]["resid"]["argmax"]) == 2 and res["layers"][0] == 0
    bad = tiny_server.call("logit_lens", {"items": [{"ids": [1], "position": 3, "token_ids": []}]})
    assert not bad["ok"] and bad["error"]["code"] == "bad_args"
