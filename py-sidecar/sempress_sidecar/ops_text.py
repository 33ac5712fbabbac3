"""Tokenizer-only ops: hello, tokenize, decode, chat_template."""
from __future__ import annotations

import os
import platform
from typing import Any

import torch

from .context import ModelContext
from .protocol import PROTOCOL_VERSION, ModelError


def _text_config(ctx: ModelContext) -> Any:
    cfg = ctx.model.config
    return getattr(cfg, "text_config", None) or cfg


def eos_ids(ctx: ModelContext) -> list[int]:
    """Every id that ends a generation: the generation config's eos ids plus the tokenizer's."""
    out: list[int] = []
    gen = getattr(ctx.model, "generation_config", None)
    for src in (getattr(gen, "eos_token_id", None), _text_config(ctx).eos_token_id, ctx.tokenizer.eos_token_id):
        vals = src if isinstance(src, (list, tuple)) else [src]
        for v in vals:
            if isinstance(v, int) and v not in out:
                out.append(v)
    return out


def pad_id(ctx: ModelContext) -> int:
    p = ctx.tokenizer.pad_token_id
    if p is None:
        e = eos_ids(ctx)
        p = e[0] if e else 0
    return int(p)


def vocab_size(ctx: ModelContext) -> int:
    """Rows of the input embedding (the valid id range)."""
    return int(ctx.embed().weight.shape[0])


def op_hello(ctx: ModelContext, args: dict) -> dict:
    import transformers

    tc = _text_config(ctx)
    n_heads = int(tc.num_attention_heads)
    tok = ctx.tokenizer
    return {
        "protocol": PROTOCOL_VERSION,
        "model_id": ctx.model_id,
        "model_source": ctx.model_source,
        "architecture": type(ctx.model).__name__,
        "n_layers": ctx.n_layers,
        "n_heads": n_heads,
        "n_kv_heads": int(getattr(tc, "num_key_value_heads", None) or n_heads),
        "hidden_size": int(tc.hidden_size),
        "vocab_size": int(getattr(tc, "vocab_size", None) or vocab_size(ctx)),
        "dtype": str(ctx.dtype).replace("torch.", ""),
        "device": str(ctx.device),
        "torch_version": torch.__version__,
        "transformers_version": transformers.__version__,
        "python_version": platform.python_version(),
        "tokenizer_json": ctx.tokenizer_json,
        "tokenizer_config": ctx.tokenizer_config,
        "chat_template": tok.chat_template if isinstance(getattr(tok, "chat_template", None), str) else None,
        "bos_token_id": tok.bos_token_id if isinstance(tok.bos_token_id, int) else None,
        "eos_token_ids": eos_ids(ctx),
        "pad_token_id": tok.pad_token_id if isinstance(tok.pad_token_id, int) else None,
        "max_batch_tokens": int(ctx.max_batch_tokens),
        "pid": os.getpid(),
    }


def op_tokenize(ctx: ModelContext, args: dict) -> dict:
    if not args["texts"]:
        return {"ids": [], "offsets": []}
    enc = ctx.tokenizer(
        args["texts"], add_special_tokens=args["add_special_tokens"], return_offsets_mapping=True,
        return_attention_mask=False,
    )
    return {
        "ids": [list(map(int, x)) for x in enc["input_ids"]],
        "offsets": [[[int(a), int(b)] for a, b in x] for x in enc["offset_mapping"]],
    }


def op_decode(ctx: ModelContext, args: dict) -> dict:
    from .batching import check_ids

    check_ids(args["ids"], max(vocab_size(ctx), len(ctx.tokenizer)), "args.ids")
    texts = [
        ctx.tokenizer.decode(x, skip_special_tokens=args["skip_special_tokens"], clean_up_tokenization_spaces=False)
        for x in args["ids"]
    ]
    return {"texts": texts}


def op_chat_template(ctx: ModelContext, args: dict) -> dict:
    tok = ctx.tokenizer
    if not getattr(tok, "chat_template", None):
        raise ModelError(f"the tokenizer of {ctx.model_id} has no chat template; use --prompt-format raw")
    out = []
    for t in args["texts"]:
        msgs = []
        if args["system"] is not None:
            msgs.append({"role": "system", "content": args["system"]})
        msgs.append({"role": "user", "content": t})
        s = tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
        out.append(s if isinstance(s, str) else str(s))
    return {"texts": out}
