"""The one object every op receives: the loaded model, its tokenizer and a few structural helpers.

Ops never reach into architecture-specific attribute paths themselves; they ask the context for
``layers()``, ``final_norm()``, ``unembed()`` and wrap attention-capturing passes in ``eager()``.
"""
from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

import torch

log = logging.getLogger("sempress.context")


def on_one_device(tensors: Sequence[torch.Tensor], device: torch.device | None = None) -> list[torch.Tensor]:
    """``tensors`` moved to one device (default: the last one's, i.e. the deepest layer's, where the model's
    outputs are gathered). With accelerate's ``device_map`` a model's layers live on several GPUs and so do
    activations captured per layer; on one device this moves nothing."""
    if not tensors:
        return []
    dev = device if device is not None else tensors[-1].device
    return [t if t.device == dev else t.to(dev) for t in tensors]


def stack(tensors: Sequence[torch.Tensor], dim: int = 0, device: torch.device | None = None) -> torch.Tensor:
    """``torch.stack`` of per-layer tensors that may live on different devices (see :func:`on_one_device`)."""
    return torch.stack(on_one_device(tensors, device), dim=dim)


@dataclass
class ModelContext:
    model: Any
    """A transformers causal LM (``*ForCausalLM``), in eval mode."""
    tokenizer: Any
    """A fast tokenizer (``PreTrainedTokenizerFast``)."""
    device: torch.device
    """Device of the input embeddings (where input ids must go). With a ``device_map`` over several GPUs the
    layers live on others (:meth:`devices`), and outputs are gathered on the last (:func:`stack`)."""
    dtype: torch.dtype
    n_layers: int
    model_id: str = ""
    model_source: str = ""
    """hf | gguf | random | embedded"""
    tokenizer_json: str = ""
    """tokenizer.json text, verbatim."""
    tokenizer_config: dict = field(default_factory=dict)
    max_batch_tokens: int = 4096
    base_attn: str = "sdpa"
    """Attention implementation the model was loaded with (restored after ``eager()``)."""

    # ------------------------------------------------------------------ structure
    def backbone(self) -> Any:
        """The decoder stack (``model.model`` for Llama/Qwen2/Gemma style models)."""
        m = self.model
        for name in ("model", "transformer", "gpt_neox"):
            inner = getattr(m, name, None)
            if inner is not None and inner is not m:
                # Gemma3ForConditionalGeneration nests language_model; causal LMs stop here
                lm = getattr(inner, "language_model", None)
                return lm if lm is not None and hasattr(lm, "layers") else inner
        raise AttributeError(f"cannot find the decoder stack of {type(m).__name__}")

    def layers(self) -> list[Any]:
        """The decoder layers, in order (length ``n_layers``)."""
        bb = self.backbone()
        for name in ("layers", "h", "blocks"):
            ls = getattr(bb, name, None)
            if ls is not None:
                return list(ls)
        raise AttributeError(f"cannot find decoder layers in {type(bb).__name__}")

    def final_norm(self) -> Any:
        """The norm applied to the last layer's output before the unembedding."""
        bb = self.backbone()
        for name in ("norm", "ln_f", "final_layer_norm"):
            mod = getattr(bb, name, None)
            if mod is not None:
                return mod
        raise AttributeError(f"cannot find the final norm of {type(bb).__name__}")

    def unembed(self) -> Any:
        """The unembedding (``lm_head``): hidden [.., H] → logits [.., V]."""
        head = self.model.get_output_embeddings()
        if head is None:
            raise AttributeError(f"{type(self.model).__name__} has no output embeddings")
        return head

    def embed(self) -> Any:
        """The input embedding module."""
        return self.model.get_input_embeddings()

    def logits_from_hidden(self, h: torch.Tensor, normed: bool = False) -> torch.Tensor:
        """Final norm (unless already ``normed``) then unembedding, with the model's logit soft-cap if any."""
        x = h if normed else self.final_norm()(h)
        logits = self.unembed()(x)
        cap = getattr(self.model.config, "final_logit_softcapping", None)
        if cap:
            logits = torch.tanh(logits / cap) * cap
        return logits

    def devices(self) -> list[torch.device]:
        """Every device holding a parameter, in first-use order (one entry unless split by ``device_map``)."""
        return list(dict.fromkeys(p.device for p in self.model.parameters()))

    # ------------------------------------------------------------------ attention mode
    @contextlib.contextmanager
    def eager(self) -> Iterator[None]:
        """Switch attention to the eager implementation (needed for attention weights), then back."""
        current = getattr(self.model.config, "_attn_implementation", None) or self.base_attn
        if current == "eager":
            yield
            return
        self._set_attn("eager")
        try:
            yield
        finally:
            self._set_attn(current)

    def _set_attn(self, impl: str) -> None:
        setter = getattr(self.model, "set_attn_implementation", None)
        if setter is not None:
            setter(impl)
        else:  # older transformers: the config flag is read at every forward
            self.model.config._attn_implementation = impl
            for mod in self.model.modules():
                cfg = getattr(mod, "config", None)
                if cfg is not None and hasattr(cfg, "_attn_implementation"):
                    cfg._attn_implementation = impl
