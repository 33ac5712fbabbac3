"""The op whitelist: op name → function(ctx, parsed_args) → result dict. Nothing else is callable."""
from __future__ import annotations

import importlib
import logging
import random
from typing import Any, Callable

import numpy as np
import torch

from .context import ModelContext
from .ops_forward import op_generate, op_score
from .trace import op_trace
from .ops_text import op_chat_template, op_decode, op_hello, op_tokenize
from .protocol import ModelError

log = logging.getLogger("sempress.ops")

OpFn = Callable[[ModelContext, dict], dict]


def op_set_seed(ctx: ModelContext, args: dict) -> dict:
    seed = args["seed"]
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    return {}


def op_echo(ctx: ModelContext, args: dict) -> dict:
    return {"tensor": args["tensor"]}


def op_shutdown(ctx: ModelContext, args: dict) -> dict:
    return {}  # the server loop exits after replying


def _lazy(module: str, name: str) -> OpFn:
    """Resolve ``sempress_sidecar.<module>.<name>`` at call time, so the server runs without it."""

    def call(ctx: ModelContext, args: dict) -> dict:
        try:
            mod = importlib.import_module(f"sempress_sidecar.{module}")
        except ImportError as e:
            raise ModelError(f"mechanistic ops are not available: {e}") from e
        fn = getattr(mod, name, None)
        if fn is None:
            raise ModelError(f"sempress_sidecar.{module} has no {name}")
        return fn(ctx, args)

    call.__name__ = name
    return call


WHITELIST: dict[str, OpFn] = {
    "hello": op_hello,
    "tokenize": op_tokenize,
    "decode": op_decode,
    "chat_template": op_chat_template,
    "score": op_score,
    "generate": op_generate,
    "trace": op_trace,
    "logit_lens": _lazy("mechanistic", "op_logit_lens"),
    "decompose": _lazy("mechanistic", "op_decompose"),
    "patch": _lazy("patching", "op_patch"),
    "set_seed": op_set_seed,
    "echo": op_echo,
    "shutdown": op_shutdown,
}
