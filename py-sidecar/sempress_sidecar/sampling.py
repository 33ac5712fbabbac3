"""Seeded top-p sampling for the decode loop (ops_forward.generate_ids): row i*n+k is sample k of prompt i,
and prompt i draws only from its own generator, rows k = 0..n-1 in order, so a prompt's samples do not
depend on its batch partners.

Gumbel-max: argmax(log p + G) over the nucleus samples exactly from the renormalised nucleus, and the
winner only changes if the top two perturbed scores are within float noise of each other, so padding
changes (other batch partners) do not move a draw.

Sorting a 150k–260k vocabulary for every row at every step dominated sampling, so the nucleus is first
looked for among each row's top-k tokens (one partial selection for the whole batch). Whenever those k
tokens hold at least top_p of the mass (the prompt is "covered"), the nucleus lies inside them and
Gumbel-max over the kept ones samples it exactly; otherwise the prompt is redrawn over the full
vocabulary from the generator state it had before. Nothing here reads a tensor back except
:func:`sample_rows`: the decode loop reads the covered flags together with its own step flags.
"""
from __future__ import annotations

import torch

NUCLEUS_CANDIDATES = 1024
"""Top-k candidates the nucleus is looked for in before falling back to a full-vocabulary sort."""

FALLBACK_ROWS = 256
"""Rows redrawn over the full vocabulary at once (bounds the sort and the float64 noise: ≈ 48 B per logit)."""


def _nucleus(logp: torch.Tensor, top_p: float) -> torch.Tensor:
    """``logp`` [rows, V] with every token outside each row's top-p nucleus set to -inf (full sort)."""
    if top_p >= 1.0:
        return logp
    sp, si = logp.exp().sort(dim=-1, descending=True)
    keep_sorted = (sp.cumsum(-1) - sp) < top_p  # always keeps the most likely token
    keep = torch.zeros_like(keep_sorted).scatter(-1, si, keep_sorted)
    return logp.masked_fill(~keep, float("-inf"))


def _gumbel_pick(lp: torch.Tensor, gens: list[torch.Generator], n: int) -> torch.Tensor:
    """argmax(lp + Gumbel noise) per row; rows i*n..i*n+n-1 draw their noise from gens[i], one [n, V]
    draw per generator in order (the numbers a loop over prompts draws)."""
    u = torch.cat([torch.rand((n, lp.shape[-1]), generator=g, dtype=torch.float64, device=lp.device) for g in gens])
    u.clamp_(min=1e-300)
    return (lp.double() - torch.log(-torch.log(u))).argmax(dim=-1)


def top_p_sample(logp: torch.Tensor, top_p: float, gen: torch.Generator) -> torch.Tensor:
    """One draw per row of log-probs [n, V] (float32) from the top-p nucleus, using ``gen`` in row order."""
    return _gumbel_pick(_nucleus(logp, top_p), [gen], logp.shape[0])


def nucleus_draw(logp: torch.Tensor, top_p: float, gens: list[torch.Generator], n: int,
                 k: int) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
    """Top-p draws for all rows [R, V] from each row's top-k tokens, without reading anything back.

    Returns (draws [R], covered [P] on the device: whether prompt i's top-k held ≥ top_p of the mass in
    every row, generator states before the draw). A prompt that is not covered has an invalid draw that
    :func:`redraw` must replace from the saved state."""
    vals, idx = logp.topk(k, dim=-1)  # sorted, descending
    p = vals.exp()
    before = p.cumsum(-1) - p
    keep = before < top_p  # always keeps the most likely token
    covered = ((before[:, -1] + p[:, -1]) >= top_p).view(-1, n).all(dim=1)
    lp = vals.masked_fill(~keep, float("-inf"))
    states = [g.get_state() for g in gens]  # host-side bookkeeping, no device sync
    pick = _gumbel_pick(lp, gens, n)
    return idx.gather(-1, pick[:, None])[:, 0], covered, states


def redraw(out: torch.Tensor, logp: torch.Tensor, top_p: float, gens: list[torch.Generator],
           states: list[torch.Tensor], n: int, prompts: list[int]) -> None:
    """Replace the draws of ``prompts`` (not covered by their top-k) in ``out`` by full-vocabulary draws
    made from the generator states they had before :func:`nucleus_draw`: exactly what a per-prompt
    :func:`top_p_sample` draws. Prompts go in blocks of FALLBACK_ROWS rows."""
    per = max(1, FALLBACK_ROWS // n)
    for s in range(0, len(prompts), per):
        block = prompts[s:s + per]
        for i in block:
            gens[i].set_state(states[i])
        rows = torch.cat([torch.arange(i * n, (i + 1) * n, device=out.device) for i in block])
        out[rows] = _gumbel_pick(_nucleus(logp.index_select(0, rows.to(logp.device)), top_p), [gens[i] for i in block], n).to(out.device)


def sample_rows(logp: torch.Tensor, top_p: float, gens: list[torch.Generator], n: int,
                k: int = NUCLEUS_CANDIDATES) -> torch.Tensor:
    """Top-p draws for all rows [R, V]; rows i*n..i*n+n-1 belong to prompt i and use gens[i] only."""
    R, V = logp.shape
    k = min(k, V)
    if top_p >= 1.0 or k == V:
        return _gumbel_pick(_nucleus(logp, top_p), gens, n)
    out, covered, states = nucleus_draw(logp, top_p, gens, n, k)
    redraw(out, logp, top_p, gens, states, n, [i for i, c in enumerate(covered.tolist()) if not c])
    return out
