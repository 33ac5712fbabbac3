"""Forward-pass ops: score (shared-prefix teacher forcing) and generate (own batched decode loop); trace is in trace.py."""
from __future__ import annotations

from typing import Any

import inspect

import torch

from .batching import check_ids, chunks_by_cost, left_pad, right_pad, select_cache
from .context import ModelContext
from .ops_text import eos_ids, pad_id, vocab_size


def _cache_kw(ctx: ModelContext) -> str:
    """Newer transformers name the KV-cache argument ``cache``; older ones ``past_key_values``."""
    name = getattr(ctx, "_cache_kw", None)
    if name is None:
        params = inspect.signature(ctx.model.forward).parameters
        name = "cache" if "cache" in params else "past_key_values"
        object.__setattr__(ctx, "_cache_kw", name)
    return name


def _last_only_kw(ctx: ModelContext) -> dict:
    """Ask for the last position's logits only (a big saving with 256k-token vocabularies), where supported."""
    kw = getattr(ctx, "_last_kw", None)
    if kw is None:
        params = inspect.signature(ctx.model.forward).parameters
        kw = next(({n: 1} for n in ("logits_to_keep", "num_logits_to_keep") if n in params), {})
        object.__setattr__(ctx, "_last_kw", kw)
    return kw


def _forward(ctx: ModelContext, past: Any = None, last_only: bool = False, **kw: Any) -> Any:
    if past is not None:
        kw[_cache_kw(ctx)] = past
    if last_only:
        kw.update(_last_only_kw(ctx))
    return ctx.model(**kw, return_dict=True)


def _cache_of(res: Any) -> Any:
    c = getattr(res, "cache", None)
    return c if c is not None else getattr(res, "past_key_values", None)


# ---------------------------------------------------------------- score

def op_score(ctx: ModelContext, args: dict) -> dict:
    items = args["items"]
    V = vocab_size(ctx)
    check_ids((it["prefix"] for it in items), V, "args.items[].prefix")
    for it in items:
        check_ids(it["continuations"], V, "args.items[].continuations")
    out: list[list[list[float]]] = [[] for _ in items]
    budget = ctx.max_batch_tokens

    def cost(it: dict) -> int:
        lp = len(it["prefix"])
        return lp + sum(lp + len(c) for c in it["continuations"])

    with torch.inference_mode():
        for group in chunks_by_cost((cost(it) for it in items), budget):
            _score_group(ctx, [items[i] for i in group], [out[i] for i in group], budget)
    return {"logprobs": out}


def _score_group(ctx: ModelContext, items: list[dict], outs: list[list], budget: int) -> None:
    """One forward over the left-padded prefixes, then continuations (right-padded) on copies of its KV cache."""
    pid = pad_id(ctx)
    prefixes = [it["prefix"] for it in items]
    ids, mask, pos = left_pad(prefixes, pid, ctx.device)
    res = _forward(ctx, input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=True, last_only=True)
    first = torch.log_softmax(res.logits[:, -1, :].float(), dim=-1)  # [B, V]: log p(cont[0] | prefix)
    cache = _cache_of(res)
    Lp = ids.shape[1]
    rows = [(b, j) for b, it in enumerate(items) for j in range(len(it["continuations"]))]
    for b, it in enumerate(items):
        outs[b].extend([None] * len(it["continuations"]))
    # continuation rows in sub-batches so the attended length (prefix + continuation) fits the budget
    conts_all = [items[b]["continuations"][j] for b, j in rows]
    for sub in chunks_by_cost((Lp + len(c) for c in conts_all), budget):
        rb = [rows[r] for r in sub]
        conts = [conts_all[r] for r in sub]
        lps = [[float(first[b, c[0]])] for (b, _), c in zip(rb, conts)]
        longer = [k for k, c in enumerate(conts) if len(c) > 1]
        if longer:
            sel = torch.tensor([rb[k][0] for k in longer], dtype=torch.long, device=mask.device)
            feed = [conts[k][:-1] for k in longer]  # the last token is only ever a target
            cids, cmask = right_pad(feed, pid, ctx.device)
            full_mask = torch.cat([mask.index_select(0, sel), cmask], dim=1)
            start = torch.tensor([len(items[rb[k][0]]["prefix"]) for k in longer], device=ctx.device)
            cpos = start[:, None] + torch.arange(cids.shape[1], device=ctx.device)[None, :]
            sub_cache = select_cache(cache, sel)
            r2 = _forward(ctx, input_ids=cids, attention_mask=full_mask, position_ids=cpos,
                          past=sub_cache, use_cache=True)
            logp = torch.log_softmax(r2.logits.float(), dim=-1)  # [R, Lc-1, V]
            for row, k in enumerate(longer):
                c = conts[k]
                tgt = torch.tensor(c[1:], dtype=torch.long, device=logp.device)
                vals = logp[row, : len(c) - 1].gather(-1, tgt[:, None])[:, 0]
                lps[k].extend(float(v) for v in vals.tolist())
            del sub_cache, r2, logp
        for (b, j), lp in zip(rb, lps):
            outs[b][j] = lp


# ---------------------------------------------------------------- generate

def _top_p_sample(logp: torch.Tensor, top_p: float, gen: torch.Generator) -> torch.Tensor:
    """One draw per row of log-probs [n, V] (float32) from the top-p nucleus, using ``gen`` in row order.

    Gumbel-max: argmax(log p + G) over the nucleus samples exactly from the renormalised nucleus, and
    the winner only changes if the top two perturbed scores are within float noise of each other, so
    the draw for one prompt does not move when its batch partners (and hence the padding) change.
    """
    if top_p < 1.0:
        sp, si = logp.exp().sort(dim=-1, descending=True)
        keep_sorted = (sp.cumsum(-1) - sp) < top_p  # always keeps the most likely token
        keep = torch.zeros_like(keep_sorted).scatter(-1, si, keep_sorted)
        logp = logp.masked_fill(~keep, float("-inf"))
    u = torch.rand(logp.shape, generator=gen, dtype=torch.float64, device=logp.device).clamp_(min=1e-300)
    gumbel = -torch.log(-torch.log(u))
    return (logp.double() + gumbel).argmax(dim=-1)


NUCLEUS_CANDIDATES = 1024
"""Top-k candidates the nucleus is looked for in before falling back to a full-vocabulary sort."""


def _gumbel_argmax(lp: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    u = torch.rand(lp.shape, generator=gen, dtype=torch.float64, device=lp.device).clamp_(min=1e-300)
    return (lp.double() - torch.log(-torch.log(u))).argmax(dim=-1)


def _sample_rows(logp: torch.Tensor, top_p: float, gens: list[torch.Generator], n: int,
                 k: int = NUCLEUS_CANDIDATES) -> torch.Tensor:
    """Top-p draws for all rows [R, V]; rows i*n..i*n+n-1 belong to prompt i and use gens[i] only.

    Sorting a 150k–260k vocabulary for every row at every step dominated sampling, so the nucleus is
    found among each row's top-k tokens (one partial selection for the whole batch). Whenever those k
    tokens hold at least top_p of the mass, the nucleus lies inside them and Gumbel-max over the kept
    ones samples it exactly; otherwise that prompt falls back to ``_top_p_sample`` over the full
    vocabulary. The choice is made per prompt from its own rows, so a prompt's draws do not depend on
    its batch partners."""
    R, V = logp.shape
    out = torch.empty(R, dtype=torch.long, device=logp.device)
    k = min(k, V)
    if top_p >= 1.0 or k == V:
        for i, g in enumerate(gens):
            out[i * n:(i + 1) * n] = _top_p_sample(logp[i * n:(i + 1) * n], top_p, g)
        return out
    vals, idx = logp.topk(k, dim=-1)  # sorted, descending
    p = vals.exp()
    before = p.cumsum(-1) - p
    keep = before < top_p  # always keeps the most likely token
    covered = ((before[:, -1] + p[:, -1]) >= top_p).view(-1, n).all(dim=1).tolist()
    lp = vals.masked_fill(~keep, float("-inf"))
    for i, g in enumerate(gens):
        rows = slice(i * n, (i + 1) * n)
        if covered[i]:
            out[rows] = idx[rows].gather(-1, _gumbel_argmax(lp[rows], g)[:, None])[:, 0]
        else:
            out[rows] = _top_p_sample(logp[rows], top_p, g)
    return out


def generate_ids(ctx: ModelContext, prompts: list[list[int]], max_new: int, do_sample: bool,
                 temperature: float = 1.0, top_p: float = 1.0, n: int = 1,
                 seeds: list[int] | None = None) -> list[list[list[int]]]:
    """sequences[prompt][k]: new ids, stopping after (and including) the first EOS."""
    out: list[list[list[int]]] = [[] for _ in prompts]
    budget = ctx.max_batch_tokens
    with torch.inference_mode():
        for group in chunks_by_cost(((len(p) + max_new) * n for p in prompts), budget):
            gseeds = None
            if do_sample:
                gseeds = [int(seeds[i]) if seeds is not None else int(torch.randint(0, 2**62, (1,)).item())
                          for i in group]
            seqs = _decode_loop(ctx, [prompts[i] for i in group], max_new, do_sample, temperature, top_p, n, gseeds)
            for gi, i in enumerate(group):
                out[i] = seqs[gi]
    return out


def _decode_loop(ctx: ModelContext, prompts: list[list[int]], max_new: int, do_sample: bool,
                 temperature: float, top_p: float, n: int, seeds: list[int] | None) -> list[list[list[int]]]:
    """Batched decoding with a KV cache. Row i*n+k is sample k of prompt i; sampling for prompt i draws
    from its own generator (seeded with seeds[i], on the logits' device), rows k = 0..n-1 in order."""
    pid = pad_id(ctx)
    stop = set(eos_ids(ctx))
    # Each prompt is prefilled once; its n sample rows (row = prompt i * n + k) start from copies of
    # that one KV cache, so the prompt's forward pass is not repeated n times.
    ids, mask, pos = left_pad(prompts, pid, ctx.device)
    R = len(prompts) * n
    done = [False] * R
    new: list[list[int]] = [[] for _ in range(R)]
    gens: list[torch.Generator] | None = None
    res = _forward(ctx, input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=True, last_only=True)
    cache = _cache_of(res)
    logits = res.logits[:, -1, :].float()
    if n > 1:
        sel = torch.arange(len(prompts), device=mask.device).repeat_interleave(n)
        cache = select_cache(cache, sel)
        mask, pos, logits = mask.index_select(0, sel), pos.index_select(0, sel), logits.index_select(0, sel.to(logits.device))
    last_pos = pos[:, -1]
    for step in range(max_new):
        if step > 0:
            logits = res.logits[:, -1, :].float()
        if do_sample:
            logp = torch.log_softmax(logits / temperature, dim=-1)
            if gens is None:
                gens = [torch.Generator(device=logp.device).manual_seed(s) for s in seeds or []]
            nxt = _sample_rows(logp, top_p, gens, n).cpu()
        else:
            nxt = logits.argmax(dim=-1).cpu()
        for r in range(R):
            if not done[r]:
                t = int(nxt[r])
                new[r].append(t)
                if t in stop:
                    done[r] = True
        if all(done) or step == max_new - 1:
            break
        feed = torch.tensor([[pid if done[r] else new[r][-1]] for r in range(R)], device=ctx.device)
        mask = torch.cat([mask, torch.ones((R, 1), dtype=mask.dtype, device=mask.device)], dim=1)
        last_pos = last_pos + 1
        res = _forward(ctx, input_ids=feed, attention_mask=mask, position_ids=last_pos[:, None],
                       past=cache, use_cache=True)
        cache = _cache_of(res)
    return [new[i * n:(i + 1) * n] for i in range(len(prompts))]


def op_generate(ctx: ModelContext, args: dict) -> dict:
    check_ids(args["prompts"], vocab_size(ctx), "args.prompts")
    seqs = generate_ids(ctx, args["prompts"], args["max_new_tokens"], args["do_sample"], args["temperature"],
                        args["top_p"], args["n"], args["seeds"])
    return {"sequences": seqs}
