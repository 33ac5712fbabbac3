"""Random-weight models spread over several devices with accelerate (``random:`` models bigger than one GPU).

A checkpoint goes through ``from_pretrained(device_map="auto")``; random weights have no checkpoint, so this
does what that path does, without ever holding the weights in host memory (a 72B model is ≈145 GB in bf16):

1. build the model with its parameters on the ``meta`` device (``accelerate.init_empty_weights``; buffers such
   as rotary frequencies stay real, they are tiny);
2. place its blocks with accelerate's balanced ``device_map`` (what ``device_map="auto"`` means in
   transformers), a decoder layer never split;
3. create each parameter on its block's device and fill it with the model's own ``_init_weights`` (the
   architecture's initialiser, seeded), then re-tie tied weights;
4. ``accelerate.dispatch_model``: hooks that move activations between devices, as a loaded checkpoint gets.

On one device (``["cpu"]`` in tests, or one GPU) steps 2 and 4 place everything there: the same path minus the split.
"""
from __future__ import annotations

import logging
from collections import Counter
from typing import Any

import torch

log = logging.getLogger("sempress.dispatch")

GPU_MEMORY_FRACTION = 0.9
"""Share of each GPU's free memory the weights may take; the rest is for activations and KV caches."""


def plan_device_map(model: Any, devices: list[str], dtype: torch.dtype) -> dict[str, Any]:
    """Block name → device: everything on the one device, or accelerate's balanced map over the GPUs."""
    if len(devices) == 1:
        return {"": devices[0]}
    from accelerate.utils import get_balanced_memory, infer_auto_device_map

    gpus = [torch.device(d) for d in devices]
    if any(g.type != "cuda" for g in gpus):
        raise ValueError(f"a model spread over several devices needs GPUs, got {devices}")
    budget = {g.index: int(torch.cuda.mem_get_info(g.index)[0] * GPU_MEMORY_FRACTION) for g in gpus}
    no_split = list(getattr(model, "_no_split_modules", None) or [])
    balanced = get_balanced_memory(model, max_memory=budget, no_split_module_classes=no_split, dtype=dtype)
    dmap = infer_auto_device_map(model, max_memory=balanced, no_split_module_classes=no_split, dtype=dtype)
    off = sorted({str(d) for d in dmap.values() if not isinstance(d, int) and str(d) in ("cpu", "disk")})
    if off:
        raise ValueError(f"the model does not fit on {', '.join(devices)} (accelerate would offload to {off})")
    return dmap


def _materialise(model: Any, device_map: dict[str, Any]) -> None:
    """Every meta parameter of each mapped block re-created (uninitialised) on the block's device; buffers moved."""
    for name, dev in device_map.items():
        block = model.get_submodule(name) if name else model
        target = torch.device(f"cuda:{dev}") if isinstance(dev, int) else torch.device(dev)
        for mod in block.modules():
            for pn, p in list(mod._parameters.items()):
                if p is not None and p.device.type == "meta":
                    mod._parameters[pn] = torch.nn.Parameter(torch.empty(p.shape, dtype=p.dtype, device=target),
                                                             requires_grad=False)
            for bn, b in list(mod._buffers.items()):
                if b is not None and b.device != target:
                    mod._buffers[bn] = b.to(target)


def build_spread(config: Any, dtype: torch.dtype, devices: list[str], seed: int) -> Any:
    """A random-weight causal LM for ``config`` placed over ``devices`` (see the module doc), in eval mode."""
    from accelerate import dispatch_model, init_empty_weights
    from transformers import AutoModelForCausalLM

    with init_empty_weights():
        model = AutoModelForCausalLM.from_config(config, attn_implementation="sdpa", dtype=dtype)
    dmap = plan_device_map(model, devices, dtype)
    _materialise(model, dmap)
    left = [n for n, p in model.named_parameters() if p.device.type == "meta"]
    if left:
        raise RuntimeError(f"parameters left on the meta device after placement: {left[:5]}")
    torch.manual_seed(seed)
    with torch.no_grad():
        for mod in model.modules():
            model._init_weights(mod)
    model.tie_weights()
    model = dispatch_model(model, device_map=dmap)
    model.eval()
    per_device = Counter(str(p.device) for p in model.parameters())
    log.info("random weights placed on %s (parameter tensors per device: %s)", ", ".join(devices), dict(per_device))
    return model


def layer_devices(model: Any, layers: list[Any]) -> list[str]:
    """The device of each decoder layer's first parameter (what a hook on that layer sees)."""
    return [str(next(layer.parameters()).device) for layer in layers]
