import torch

from sempress_sidecar.ops_forward import _sample_rows, _top_p_sample


def test_batched_sampling_draws_what_each_prompt_would_draw_alone():
    torch.manual_seed(0)
    n, prompts, V = 4, 3, 50
    logp = torch.log_softmax(torch.randn(prompts * n, V) * 3, dim=-1)
    seeds = [11, 22, 33]
    gens = [torch.Generator().manual_seed(s) for s in seeds]
    got = _sample_rows(logp, 0.9, gens, n)
    for i, s in enumerate(seeds):
        alone = _top_p_sample(logp[i * n:(i + 1) * n], 0.9, torch.Generator().manual_seed(s))
        assert torch.equal(got[i * n:(i + 1) * n], alone)


def test_sampling_stays_inside_the_nucleus():
    logp = torch.log(torch.tensor([[0.6, 0.3, 0.05, 0.05]] * 200))
    gens = [torch.Generator().manual_seed(1)]
    draws = _sample_rows(logp, 0.8, gens, 200)
    assert set(draws.tolist()) <= {0, 1}
    assert (draws == 0).sum() > (draws == 1).sum()
