"""The one object every op receives: the loaded model, its tokenizer and a few structural helpers.

Ops never reach into architecture-specific attribute paths themselves; they ask the context for
``layers()``, ``final_norm()``, ``unembed()`` and wrap attention-capturing passes in ``eager()``.
"""
from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any, Iterator

import torch

log = logging.getLogger("sempress.context")


@dataclass
class ModelContext:
    model: Any
    """A transformers causal LM (``*ForCausalLM``), in eval mode."""
    tokenizer: Any
    """A fast tokenizer (``PreTrainedTokenizerFast``)."""
    device: torch.device
    """Device of the input embeddings (where input ids must go)."""
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
