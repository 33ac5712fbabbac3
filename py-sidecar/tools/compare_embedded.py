"""Compare embedded-model candidates on one-word questions (raw and chat baseline prompts).

    python py-sidecar/tools/compare_embedded.py qwen2.5-coder-0.5b   # one model per process (the loader is a singleton)

Prints one JSON line: load time, per format the greedy answers, exact-one-word rate, accuracy and the
mean teacher-forced probability of the expected word. Results are recorded in py-sidecar/EMBEDDED.md.
"""
from __future__ import annotations

import json
import math
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

QUESTIONS = [
    ("What is the capital of France?", "Paris"),
    ("What is the capital of Japan?", "Tokyo"),
    ("What color is a clear daytime sky?", "Blue"),
    ("What is the opposite of hot?", "Cold"),
    ("Which animal barks?", "Dog"),
    ("What is the largest planet in the solar system?", "Jupiter"),
    ("What do bees make?", "Honey"),
    ("What is frozen water called?", "Ice"),
]
INSTR = "Answer with exactly one English word."


def baseline(q: str) -> str:
    return f"{INSTR}\nQuestion: {q}\nAnswer:"


def norm_words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z]+", text)


def main() -> None:
    name = sys.argv[1]
    from sempress_sidecar import embedded
    from sempress_sidecar.loading import load
    from sempress_sidecar.ops import WHITELIST as W

    t0 = time.time()
    ctx = load(f"embedded:{embedded.lookup(name).name}")
    load_s = time.time() - t0
    tok = ctx.tokenizer
    report: dict = {"model": name, "load_s": round(load_s, 1), "formats": {}}
    raw = [baseline(q) for q, _ in QUESTIONS]
    formats = {"raw": raw, "raw_no_special": raw}
    if tok.chat_template:
        formats["chat"] = W["chat_template"](ctx, {"texts": raw, "system": None})["texts"]
    for fmt, prompts in formats.items():
        enc = [tok(p, add_special_tokens=(fmt == "raw"))["input_ids"] for p in prompts]
        t1 = time.time()
        gen = W["generate"](ctx, {"prompts": enc, "max_new_tokens": 8, "do_sample": False, "temperature": 1.0,
                                  "top_p": 1.0, "n": 1, "seeds": None})["sequences"]
        gen_s = time.time() - t1
        texts = [tok.decode(s[0], skip_special_tokens=True, clean_up_tokenization_spaces=False) for s in gen]
        items = []
        for (q, want), e in zip(QUESTIONS, enc):
            conts = []
            for v in (want, " " + want, want.lower(), " " + want.lower()):
                ids = tok(v, add_special_tokens=False)["input_ids"]
                if ids and ids not in conts:
                    conts.append(ids)
            items.append({"prefix": e, "continuations": conts})
        lps = W["score"](ctx, {"items": items})["logprobs"]
        p_want = [sum(math.exp(sum(c)) for c in lp) for lp in lps]
        one_word = [len(norm_words(t)) == 1 for t in texts]
        first_line_one_word = [len(norm_words(t.strip().split("\n")[0])) == 1 for t in texts]
        correct = [bool(norm_words(t)) and norm_words(t)[0].lower() == w.lower() for t, (_, w) in zip(texts, QUESTIONS)]
        report["formats"][fmt] = {
            "answers": texts,
            "one_word_rate": sum(one_word) / len(texts),
            "first_line_one_word_rate": sum(first_line_one_word) / len(texts),
            "first_word_correct_rate": sum(correct) / len(texts),
            "exact_one_word_correct": sum(o and c for o, c in zip(one_word, correct)) / len(texts),
            "empty": sum(1 for t in texts if not t.strip()),
            "mean_p_expected": round(sum(p_want) / len(p_want), 4),
            "generate_s": round(gen_s, 2),
        }
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main()
