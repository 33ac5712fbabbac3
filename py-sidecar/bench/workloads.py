"""Op arguments of the design's exact shapes for the benches: prompts as the run builds them (≈40–55 tokens
with the Qwen tokenizer), S(X) surface forms as P_sem scores them, 16 samples × 10 tokens, 8 greedy tokens.

Every builder returns the op's args before ``protocol.ARG_PARSERS`` (benches parse them as the server does).
"""
from __future__ import annotations

from typing import Any

SUBJECTS = [
    "France", "Japan", "Kenya", "Peru", "Norway", "Egypt", "Chile", "Canada", "India", "Spain", "Ghana",
    "Brazil", "Italy", "Nepal", "Cuba", "Mali", "Oman", "Fiji", "Laos", "Chad", "Iran", "Iraq", "Togo",
]
THINGS = ["hammer", "violin", "kettle", "ladder", "pillow", "bucket", "candle", "shovel", "mirror", "needle"]
TARGETS = ["Paris", "Tokyo", "water", "music", "light", "bread", "north", "green", "stone", "silver"]

SAMPLES = 16
SAMPLE_NEW_TOKENS = 10
GREEDY_NEW_TOKENS = 8


def make_prompts(tok: Any, n: int, negative: bool) -> list[list[int]]:
    """Prompts of the design's exact shape and realistic length (≈40–55 tokens)."""
    out = []
    for i in range(n):
        s, x = SUBJECTS[i % len(SUBJECTS)], THINGS[(i // len(SUBJECTS)) % len(THINGS)]
        q = (f"Fill the blank (one word): You use a {x} to ____." if i % 2 else
             f"Fill the blank with one word: The capital of {s} is ____.")
        lines = ["Answer with exactly one English word."]
        if negative:
            lines.append(f'Do not use the word "{TARGETS[i % len(TARGETS)]}" anywhere in your answer.')
        lines += [f"Question: {q}", "Answer:"]
        out.append(tok("\n".join(lines), add_special_tokens=False)["input_ids"])
    return out


def variants(tok: Any, i: int) -> list[list[int]]:
    """The S(X) token sequences of target i (case and leading-space forms, with and without a period)."""
    x = TARGETS[i % len(TARGETS)]
    seqs = []
    for form in sorted({x, x.lower(), x.capitalize(), x.upper()}):
        for v in (form, " " + form, form + ".", " " + form + "."):
            ids = tok(v, add_special_tokens=False)["input_ids"]
            if ids and ids not in seqs:
                seqs.append(ids)
    return seqs


def score_args(tok: Any, n: int) -> dict:
    return {"items": [{"prefix": p, "continuations": variants(tok, i)}
                      for i, p in enumerate(make_prompts(tok, n, negative=False))]}


def generate_args(tok: Any, n: int, sample: bool) -> dict:
    """Greedy: both conditions of n/2 prompts, 8 tokens. Sampling: n negative prompts × 16 × 10, seeded."""
    if not sample:
        half = max(1, n // 2)
        prompts = make_prompts(tok, half, negative=False) + make_prompts(tok, n - half, negative=True)
        return {"prompts": prompts, "max_new_tokens": GREEDY_NEW_TOKENS, "do_sample": False}
    return {"prompts": make_prompts(tok, n, negative=True), "max_new_tokens": SAMPLE_NEW_TOKENS, "do_sample": True,
            "temperature": 1.0, "top_p": 0.9, "n": SAMPLES, "seeds": list(range(n))}


def trace_args(prompts: list[list[int]], greedy: list[list[list[int]]]) -> dict:
    """Decision-mode trace of prompt + greedy[:-1] (the longest decision input a unit can have)."""
    return {"sequences": [p + g[0][:-1] for p, g in zip(prompts, greedy)], "mode": "decision"}


def lens_args(tok: Any, n: int) -> dict:
    """Both conditions' decision inputs (the prompt), summed over S(X)'s first tokens."""
    half = max(1, n // 2)
    prompts = make_prompts(tok, half, negative=False) + make_prompts(tok, n - half, negative=True)
    return {"items": [{"ids": p, "position": -1, "token_ids": sorted({v[0] for v in variants(tok, i % half)})}
                      for i, p in enumerate(prompts)]}


def patch_args(tok: Any, n: int) -> dict:
    """Baseline prompt as source, negative as target, S(X) as continuations, every layer, both sites."""
    base, neg = make_prompts(tok, n, negative=False), make_prompts(tok, n, negative=True)
    return {"items": [{"source": b, "target": g, "continuations": variants(tok, i)} for i, (b, g) in enumerate(zip(base, neg))],
            "sites": ["resid", "attn"]}
