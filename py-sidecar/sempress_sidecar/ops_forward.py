"""Forward-pass ops: score (shared-prefix teacher forcing) and generate (own batched decode loop); trace is in trace.py.

Neither op reads a value back per row: scores are gathered on the device and cross to the host once per
op, and the decode loop keeps its tokens and stop flags on the device, reading back one small flag
tensor per step (whether every row has stopped and, when sampling, whether each prompt's nucleus lay in
its top-k candidates) and the tokens once at the end.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Callable

import torch

from .batching import cache_kw, cache_of, check_ids, chunks_by_cost, left_pad, pad_id, right_pad, select_cache
from .context import ModelContext
from .memory import generate_prompt_bytes, memory_budget, sampling_workspace_bytes, score_item_bytes, score_row_bytes
from .ops_text import eos_ids, vocab_size
from .sampling import NUCLEUS_CANDIDATES, nucleus_draw, redraw, sample_rows
from .sampling import sample_rows as _sample_rows, top_p_sample as _top_p_sample  # noqa: F401  (tests import them here)


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
        kw[cache_kw(ctx.model) or "past_key_values"] = past
    if last_only:
        kw.update(_last_only_kw(ctx))
    return ctx.model(**kw, return_dict=True)


# ---------------------------------------------------------------- score

def op_score(ctx: ModelContext, args: dict) -> dict:
    items = args["items"]
    V = vocab_size(ctx)
    check_ids((it["prefix"] for it in items), V, "args.items[].prefix")
    for it in items:
        check_ids(it["continuations"], V, "args.items[].continuations")
    costs = _score_costs(ctx, items)
    parts: list[torch.Tensor] = []
    with torch.inference_mode():
        for group in chunks_by_cost((costs.item(it) for it in items), costs.cap):
            parts.append(_score_group(ctx, [items[i] for i in group], costs))
        flat = torch.cat(parts).tolist() if parts else []  # the op's one transfer
    out: list[list[list[float]]] = []
    k = 0
    for it in items:
        per = []
        for c in it["continuations"]:
            per.append(flat[k:k + len(c)])
            k += len(c)
        out.append(per)
    return {"logprobs": out}


@dataclass
class _ScoreCosts:
    """What a prefix group and a continuation sub-batch may hold: ``cap`` and each part's cost against it."""
    cap: int
    item: Callable[[dict], int]  # an item with all its continuations
    row: Callable[[int, list[int]], int]  # one continuation row, given the group's padded prefix width


def _score_costs(ctx: ModelContext, items: list[dict]) -> _ScoreCosts:
    """Bytes of device memory on CUDA (memory.py; every prefix priced at the longest one's width, as left
    padding makes it), else tokens under ``ctx.max_batch_tokens`` (rows × attended length)."""
    budget = memory_budget(ctx)
    if budget is None:
        return _ScoreCosts(ctx.max_batch_tokens,
                           lambda it: len(it["prefix"]) + sum(len(it["prefix"]) + len(c) for c in it["continuations"]),
                           lambda width, c: width + len(c))
    width = max((len(it["prefix"]) for it in items), default=0)
    return _ScoreCosts(budget, lambda it: score_item_bytes(ctx, width, [len(c) for c in it["continuations"]]),
                       lambda w, c: score_row_bytes(ctx, w, len(c)))


def _score_group(ctx: ModelContext, items: list[dict], costs: _ScoreCosts) -> torch.Tensor:
    """log p of every continuation token of ``items``, flat in (item, continuation, token) order, on the
    device. One forward over the left-padded prefixes, then the continuations (right-padded) on copies of
    its KV cache, in sub-batches that fit the budget."""
    pid = pad_id(ctx)
    ids, mask, pos = left_pad([it["prefix"] for it in items], pid, ctx.device)
    res = _forward(ctx, input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=True, last_only=True)
    first = torch.log_softmax(res.logits[:, -1, :].float(), dim=-1)  # [B, V]: log p(cont[0] | prefix)
    cache = cache_of(res)
    Lp = ids.shape[1]
    rows = [(b, c) for b, it in enumerate(items) for c in it["continuations"]]
    dev = first.device
    pieces = [first[torch.tensor([b for b, _ in rows], dtype=torch.long, device=dev),
                    torch.tensor([c[0] for _, c in rows], dtype=torch.long, device=dev)]]
    size = len(rows)
    later = [0] * len(rows)  # where in cat(pieces) the values of row r's tokens 1.. start
    for sub in chunks_by_cost((costs.row(Lp, c) for _, c in rows), costs.cap):
        longer = [r for r in sub if len(rows[r][1]) > 1]
        if not longer:
            continue
        sel = torch.tensor([rows[r][0] for r in longer], dtype=torch.long, device=mask.device)
        cids, cmask = right_pad([rows[r][1][:-1] for r in longer], pid, ctx.device)  # the last token is only a target
        W = cids.shape[1]
        full_mask = torch.cat([mask.index_select(0, sel), cmask], dim=1)
        start = torch.tensor([len(items[rows[r][0]]["prefix"]) for r in longer], device=ctx.device)
        cpos = start[:, None] + torch.arange(W, device=ctx.device)[None, :]
        r2 = _forward(ctx, input_ids=cids, attention_mask=full_mask, position_ids=cpos,
                      past=select_cache(cache, sel), use_cache=True)
        logp = torch.log_softmax(r2.logits.float(), dim=-1)  # [R, W, V]
        tgt, _ = right_pad([rows[r][1][1:] for r in longer], 0, logp.device)
        pieces.append(logp.gather(-1, tgt[..., None])[..., 0].reshape(-1))  # [R * W], padding included
        for k, r in enumerate(longer):
            later[r] = size + k * W
        size += len(longer) * W
        del r2, logp
    order = [i for r, (_, c) in enumerate(rows) for i in (r, *range(later[r], later[r] + len(c) - 1))]
    return torch.cat(pieces).index_select(0, torch.tensor(order, dtype=torch.long, device=dev))


# ---------------------------------------------------------------- generate

def generate_ids(ctx: ModelContext, prompts: list[list[int]], max_new: int, do_sample: bool,
                 temperature: float = 1.0, top_p: float = 1.0, n: int = 1,
                 seeds: list[int] | None = None, greedy_new: int = 0) -> tuple[list[list[list[int]]], list[list[int]] | None]:
    """(sequences[prompt][k], greedy[prompt] or None): new ids, stopping after (and including) the first EOS.

    ``greedy_new`` > 0 adds one greedy row per prompt, decoded for up to that many tokens in the same
    batch as the n sampled rows: it shares their prefill and decode steps instead of a call of its own.
    Prompts go in groups sized by device memory where it is known (memory.py: the KV cache of the
    rows, the prefill and the logits workspace), else by ``ctx.max_batch_tokens``. A prompt's tokens do
    not depend on its group: padding is masked and each prompt samples from its own generator."""
    out: list[list[list[int]]] = [[] for _ in prompts]
    greedy: list[list[int]] | None = [[] for _ in prompts] if greedy_new > 0 else None
    if not prompts:
        return out, greedy
    rows = n + (1 if greedy_new > 0 else 0)
    steps = max(max_new, greedy_new)
    budget = memory_budget(ctx)
    if budget is None:
        groups = chunks_by_cost(((len(p) + steps) * rows for p in prompts), ctx.max_batch_tokens)
    else:  # every prompt priced at the longest one's length: left padding makes the group that wide
        each = generate_prompt_bytes(ctx, max(len(p) for p in prompts), steps, rows)
        free = budget - (sampling_workspace_bytes(ctx) if do_sample else 0)
        groups = chunks_by_cost((each for _ in prompts), max(free, each))
    with torch.inference_mode():
        for group in groups:
            gseeds = None
            if do_sample:
                gseeds = [int(seeds[i]) if seeds is not None else int(torch.randint(0, 2**62, (1,)).item())
                          for i in group]
            seqs, gr = _decode_loop(ctx, [prompts[i] for i in group], max_new, do_sample, temperature, top_p, n,
                                    gseeds, greedy_new)
            for gi, i in enumerate(group):
                out[i] = seqs[gi]
                if greedy is not None:
                    greedy[i] = gr[gi]
    return out, greedy


def _decode_loop(ctx: ModelContext, prompts: list[list[int]], max_new: int, do_sample: bool,
                 temperature: float, top_p: float, n: int, seeds: list[int] | None,
                 greedy_new: int = 0) -> tuple[list[list[list[int]]], list[list[int]]]:
    """Batched decoding with a KV cache. Row i*n+k is sample k of prompt i; sampling for prompt i draws
    from its own generator (seeded with seeds[i], on the logits' device), rows k = 0..n-1 in order.
    With ``greedy_new`` > 0, rows P*n + i are prompt i's greedy rows (argmax, up to greedy_new tokens);
    they draw no random numbers, so the sampled rows are what they are without them.

    Tokens and stop flags stay on the device; each step reads back one small flag tensor, and the
    tokens cross once, after the last step."""
    pid = pad_id(ctx)
    # Each prompt is prefilled once; its n sample rows (row = prompt i * n + k) and its greedy row start
    # from copies of that one KV cache, so the prompt's forward pass is not repeated.
    ids, mask, pos = left_pad(prompts, pid, ctx.device)
    P, S = len(prompts), len(prompts) * n
    G = P if greedy_new > 0 else 0
    R = S + G
    res = _forward(ctx, input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=True, last_only=True)
    cache = cache_of(res)
    logits = res.logits[:, -1, :].float()
    if R != P:
        sel = torch.arange(P, device=mask.device).repeat_interleave(n)
        if G:
            sel = torch.cat([sel, torch.arange(P, device=mask.device)])
        cache = select_cache(cache, sel)
        mask, pos, logits = mask.index_select(0, sel), pos.index_select(0, sel), logits.index_select(0, sel.to(logits.device))
    dev = logits.device
    gens = [torch.Generator(device=dev).manual_seed(s) for s in seeds or []] if do_sample else []
    stop = torch.tensor(sorted(set(eos_ids(ctx))), dtype=torch.long, device=dev)
    steps = max(max_new, greedy_new)
    # A row stops at its own token limit: max_new for sampled rows, greedy_new for greedy rows.
    limit = torch.full((R,), max_new, dtype=torch.long, device=dev)
    limit[S:] = greedy_new
    tokens = torch.full((R, steps), -1, dtype=torch.long, device=dev)  # -1: the row had already stopped
    done = torch.zeros(R, dtype=torch.bool, device=dev)
    last_pos = pos[:, -1]
    for step in range(steps):
        if step > 0:
            logits = res.logits[:, -1, :].float()
        nxt, covered, logp, states = _next_tokens(logits[:S], do_sample, temperature, top_p, gens, n)
        if G:
            nxt = torch.cat([nxt, logits[S:].argmax(dim=-1)])
        finished = done | torch.isin(nxt, stop) | (limit <= step + 1)
        flags = finished.all()[None] if covered is None else torch.cat([finished.all()[None], covered])
        host = flags.tolist()  # the step's one read-back
        all_done = bool(host[0])
        missed = [i for i, c in enumerate(host[1:]) if not c]
        if missed:  # rare with a trained model: a flat distribution whose nucleus is wider than the top-k
            redraw(nxt, logp, top_p, gens, states, n, missed)
            finished = done | torch.isin(nxt, stop) | (limit <= step + 1)
            all_done = False  # not read again: at worst one more step whose tokens are all masked
        tokens[:, step] = nxt.masked_fill(done, -1)
        done = finished
        if all_done or step == steps - 1:
            break
        feed = nxt.masked_fill(done, pid)[:, None].to(ctx.device)
        mask = torch.cat([mask, torch.ones((R, 1), dtype=mask.dtype, device=mask.device)], dim=1)
        last_pos = last_pos + 1
        res = _forward(ctx, input_ids=feed, attention_mask=mask, position_ids=last_pos[:, None],
                       past=cache, use_cache=True)
        cache = cache_of(res)
    new = [[t for t in row if t >= 0] for row in tokens.tolist()]
    return [new[i * n:(i + 1) * n] for i in range(P)], new[S:]


def _next_tokens(logits: torch.Tensor, do_sample: bool, temperature: float, top_p: float,
                 gens: list[torch.Generator], n: int) -> tuple[torch.Tensor, Any, Any, Any]:
    """(next ids [R], covered [P] or None, log-probs, generator states) for one step, all on the device."""
    if not do_sample:
        return logits.argmax(dim=-1), None, None, None
    logp = torch.log_softmax(logits / temperature, dim=-1)
    k = min(NUCLEUS_CANDIDATES, logp.shape[-1])
    if top_p >= 1.0 or k == logp.shape[-1]:
        return sample_rows(logp, top_p, gens, n), None, logp, None
    nxt, covered, states = nucleus_draw(logp, top_p, gens, n, k)
    return nxt, covered, logp, states


def op_generate(ctx: ModelContext, args: dict) -> dict:
    check_ids(args["prompts"], vocab_size(ctx), "args.prompts")
    seqs, greedy = generate_ids(ctx, args["prompts"], args["max_new_tokens"], args["do_sample"], args["temperature"],
                                args["top_p"], args["n"], args["seeds"], args["greedy_tokens"])
    return {"sequences": seqs, "greedy": greedy}
