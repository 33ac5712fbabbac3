"""Named hook points on a decoder stack, and a scope that registers hooks and always removes them.

Hook names follow one grammar, built only by :func:`hook_name`::

    blocks.{L}.hook_resid_pre    input of decoder layer L (L = 0: the embeddings)
    blocks.{L}.hook_resid_mid    residual stream after attention, before the FFN
    blocks.{L}.hook_resid_post   output of decoder layer L (= resid_pre of layer L + 1)
    blocks.{L}.attn.hook_out     output of layer L's ``self_attn`` (after o_proj)
    blocks.{L}.mlp.hook_out      output of layer L's ``mlp``

Every hook function has one signature, ``fn(activation, name) -> Tensor | None``: ``activation`` is the
``[batch, seq, hidden]`` tensor at that point, ``name`` its hook name; returning a tensor replaces the
activation, returning ``None`` leaves it as it is. Decoder layers and attention modules may return a
tensor or a tuple whose first element is the hidden state; both are handled here, once.

``resid_mid`` is captured directly (not recomputed as resid_pre + attn_out) so that the three residual
points telescope for any supported block: it is the input of ``pre_feedforward_layernorm`` where a
layer has one (Gemma 2/3, whose attention output passes through a post-norm before the residual add),
else the input of ``post_attention_layernorm`` (Llama, Qwen2, Mistral: pre-norm blocks).
"""
from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator, Mapping

import torch

HookFn = Callable[[torch.Tensor, str], "torch.Tensor | None"]

SITES = ("resid_pre", "resid_mid", "resid_post", "attn_out", "mlp_out")
_SUFFIX = {
    "resid_pre": "hook_resid_pre",
    "resid_mid": "hook_resid_mid",
    "resid_post": "hook_resid_post",
    "attn_out": "attn.hook_out",
    "mlp_out": "mlp.hook_out",
}
_SITE_OF_SUFFIX = {v: k for k, v in _SUFFIX.items()}


def hook_name(layer: int, site: str) -> str:
    """The one way to spell a hook point: ``hook_name(3, "attn_out") == "blocks.3.attn.hook_out"``."""
    if site not in _SUFFIX:
        raise ValueError(f"unknown hook site {site!r}; expected one of {', '.join(SITES)}")
    if not isinstance(layer, int) or isinstance(layer, bool) or layer < 0:
        raise ValueError(f"hook layer must be a non-negative integer, got {layer!r}")
    return f"blocks.{layer}.{_SUFFIX[site]}"


def parse_hook_name(name: str) -> tuple[int, str]:
    """Inverse of :func:`hook_name`: ``"blocks.3.attn.hook_out" -> (3, "attn_out")``."""
    parts = name.split(".", 2)
    if len(parts) != 3 or parts[0] != "blocks" or not parts[1].isdigit() or parts[2] not in _SITE_OF_SUFFIX:
        raise ValueError(f"not a hook name: {name!r} (expected e.g. {hook_name(0, 'resid_post')!r})")
    return int(parts[1]), _SITE_OF_SUFFIX[parts[2]]


# ---------------------------------------------------------------- module resolution

def _child(layer: Any, names: tuple[str, ...], what: str) -> Any:
    for n in names:
        mod = getattr(layer, n, None)
        if mod is not None:
            return mod
    raise AttributeError(f"{type(layer).__name__} has no {what} module (looked for {', '.join(names)})")


def _resid_mid_module(layer: Any) -> Any:
    pre_ffn = getattr(layer, "pre_feedforward_layernorm", None)
    if pre_ffn is not None:
        return pre_ffn
    if getattr(layer, "post_feedforward_layernorm", None) is not None:
        # post-norm blocks (OLMo2 style): the mid residual is never a module input
        raise NotImplementedError(f"resid_mid is not supported for {type(layer).__name__} (post-norm block)")
    return _child(layer, ("post_attention_layernorm", "ln_2"), "pre-FFN norm")


def _resolve(layers: list[Any], name: str) -> tuple[Any, bool]:
    """(module, is_pre_hook) for a hook name."""
    layer_idx, site = parse_hook_name(name)
    if layer_idx >= len(layers):
        raise ValueError(f"hook {name!r}: the model has {len(layers)} layers")
    layer = layers[layer_idx]
    if site == "resid_pre":
        return layer, True
    if site == "resid_post":
        return layer, False
    if site == "resid_mid":
        return _resid_mid_module(layer), True
    if site == "attn_out":
        return _child(layer, ("self_attn", "attn", "attention"), "attention"), False
    return _child(layer, ("mlp", "feed_forward", "ffn"), "mlp"), False


# ---------------------------------------------------------------- hook adapters

def _forward_hook(name: str, fn: HookFn) -> Callable:
    def hook(module: Any, args: Any, output: Any) -> Any:
        hidden = output[0] if isinstance(output, tuple) else output
        new = fn(hidden, name)
        if new is None:
            return None
        return (new,) + tuple(output[1:]) if isinstance(output, tuple) else new

    return hook


def _pre_hook(name: str, fn: HookFn) -> Callable:
    def hook(module: Any, args: tuple, kwargs: dict) -> Any:
        if args:
            new = fn(args[0], name)
            return None if new is None else ((new,) + tuple(args[1:]), kwargs)
        if "hidden_states" not in kwargs:
            raise RuntimeError(f"hook {name}: {type(module).__name__} was called without hidden states")
        new = fn(kwargs["hidden_states"], name)
        return None if new is None else (args, {**kwargs, "hidden_states": new})

    return hook


@contextlib.contextmanager
def hooks(layers: list[Any], fns: Mapping[str, HookFn] | list[tuple[str, HookFn]]) -> Iterator[None]:
    """Register ``fns`` (hook name → fn, or a list of pairs to put several fns on one point) on
    ``layers`` (``ctx.layers()``) for the duration of the block; they are removed however it exits."""
    pairs = list(fns.items()) if isinstance(fns, Mapping) else list(fns)
    handles = []
    try:
        for name, fn in pairs:
            module, pre = _resolve(layers, name)
            if pre:
                handles.append(module.register_forward_pre_hook(_pre_hook(name, fn), with_kwargs=True))
            else:
                handles.append(module.register_forward_hook(_forward_hook(name, fn)))
        yield
    finally:
        for h in handles:
            h.remove()


# ---------------------------------------------------------------- small ready-made hook fns

def capture_rows(store: dict[str, torch.Tensor], rows: torch.Tensor, cols: torch.Tensor) -> HookFn:
    """A hook fn that stores ``activation[rows, cols]`` (shape ``[len(rows), hidden]``) under its name."""

    def fn(act: torch.Tensor, name: str) -> None:
        store[name] = act[rows.to(act.device), cols.to(act.device)].detach()
        return None

    return fn


def write_rows(rows: torch.Tensor, cols: torch.Tensor, values: torch.Tensor) -> HookFn:
    """A hook fn that returns a copy of the activation with ``values[i]`` written at ``(rows[i], cols[i])``."""

    def fn(act: torch.Tensor, name: str) -> torch.Tensor:
        out = act.clone()
        out[rows.to(act.device), cols.to(act.device)] = values.to(dtype=act.dtype, device=act.device)
        return out

    return fn
