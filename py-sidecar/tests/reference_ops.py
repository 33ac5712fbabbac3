"""Straightforward references for the forward-pass ops: one unpadded sequence per forward, no KV cache, no
batching, every value read as the plain definition says. The batched ops must reproduce them: ids
identical, log-probs and probabilities within 1e-5 (tests/test_ops_reference.py, test_patch_bulk.py).
"""
from __future__ import annotations

import torch

from sempress_sidecar.batching import pad_id
from sempress_sidecar.hooks import hook_name, hooks
from sempress_sidecar.ops_text import eos_ids

NUCLEUS_CANDIDATES = 1024  # the sampling rule's top-k (sempress_sidecar/sampling.py states it)


def last_logits(ctx, ids: list[int]) -> torch.Tensor:
    with torch.inference_mode():
        return ctx.model(torch.tensor([ids], device=ctx.device), use_cache=False).logits[0, -1].float()


def score(ctx, prefix: list[int], cont: list[int]) -> list[float]:
    """log p(cont[t] | prefix, cont[:t]) from one forward over prefix + cont."""
    with torch.inference_mode():
        logits = ctx.model(torch.tensor([prefix + cont], device=ctx.device), use_cache=False).logits[0].float()
    logp = torch.log_softmax(logits, -1)
    return [float(logp[len(prefix) - 1 + t, tok]) for t, tok in enumerate(cont)]


def _draw(logp: torch.Tensor, top_p: float, gen: torch.Generator) -> list[int]:
    """One prompt's n rows [n, V]: the nucleus from the top-k candidates when they hold ≥ top_p of every
    row's mass, else from the full sorted vocabulary; Gumbel-max with [n, k] or [n, V] float64 noise."""
    n, V = logp.shape
    k = min(NUCLEUS_CANDIDATES, V)
    vals, idx = logp.topk(k, dim=-1)
    p = vals.exp()
    before = p.cumsum(-1) - p
    if top_p < 1.0 and k < V and bool(((before[:, -1] + p[:, -1]) >= top_p).all()):
        lp = vals.masked_fill(before >= top_p, float("-inf"))
        u = torch.rand((n, k), generator=gen, dtype=torch.float64, device=logp.device).clamp(min=1e-300)
        return idx.gather(-1, (lp.double() - torch.log(-torch.log(u))).argmax(-1, keepdim=True))[:, 0].tolist()
    lp = logp
    if top_p < 1.0:
        sp, si = logp.exp().sort(dim=-1, descending=True)
        keep = torch.zeros_like(sp, dtype=torch.bool).scatter(-1, si, (sp.cumsum(-1) - sp) < top_p)
        lp = logp.masked_fill(~keep, float("-inf"))
    u = torch.rand((n, V), generator=gen, dtype=torch.float64, device=logp.device).clamp(min=1e-300)
    return (lp.double() - torch.log(-torch.log(u))).argmax(-1).tolist()


def generate(ctx, prompt: list[int], max_new: int, do_sample: bool, temperature: float = 1.0, top_p: float = 1.0,
             n: int = 1, seed: int = 0) -> list[list[int]]:
    """n samples of one prompt, each row recomputed from scratch at every step. A row that emitted EOS
    keeps being fed the pad token (its logits still take part in the prompt's top-k check), as the
    batched loop does; its sequence ends with the EOS."""
    stop, pid = set(eos_ids(ctx)), pad_id(ctx)
    gen = torch.Generator(device=ctx.device).manual_seed(seed) if do_sample else None
    fed = [list(prompt) for _ in range(n)]
    seqs: list[list[int]] = [[] for _ in range(n)]
    done = [False] * n
    for _ in range(max_new):
        logits = torch.stack([last_logits(ctx, row) for row in fed])
        if do_sample:
            nxt = _draw(torch.log_softmax(logits / temperature, dim=-1), top_p, gen)
        else:
            nxt = logits.argmax(-1).tolist()
        for r, t in enumerate(nxt):
            if not done[r]:
                seqs[r].append(t)
                done[r] = t in stop
        if all(done):
            break
        for r, t in enumerate(nxt):
            fed[r].append(pid if done[r] else t)
    return seqs


def _captured(ctx, ids: list[int], sites: list[str], pos: int) -> dict[str, torch.Tensor]:
    got: dict[str, torch.Tensor] = {}
    fns = {hook_name(l, s): (lambda a, name: got.__setitem__(name, a[0, pos].clone())) for l in range(ctx.n_layers) for s in sites}
    with torch.inference_mode(), hooks(ctx.layers(), fns):
        ctx.model(torch.tensor([ids], device=ctx.device), use_cache=False)
    return got


def _probs(ctx, h: torch.Tensor, token_ids: list[int], normed: bool) -> list[float]:
    with torch.inference_mode():
        return torch.softmax(ctx.logits_from_hidden(h[None], normed=normed).float()[0], -1)[token_ids].tolist()


def logit_lens(ctx, ids: list[int], position: int, token_ids: list[int]) -> list[list[float]]:
    pos = position % len(ids)
    got = _captured(ctx, ids, ["resid_pre"], pos)
    out = [_probs(ctx, got[hook_name(l, "resid_pre")], token_ids, normed=False) for l in range(ctx.n_layers)]
    with torch.inference_mode():
        logits = ctx.model(torch.tensor([ids[:pos + 1]], device=ctx.device), use_cache=False).logits[0, -1].float()
    return out + [torch.softmax(logits, -1)[token_ids].tolist()]


def decompose(ctx, ids: list[int], position: int, token_ids: list[int]) -> list[list[list[float]]]:
    stages = ["resid_pre", "resid_mid", "resid_post"]
    got = _captured(ctx, ids, stages, position % len(ids))
    return [[_probs(ctx, got[hook_name(l, s)], token_ids, normed=False) for s in stages] for l in range(ctx.n_layers)]
