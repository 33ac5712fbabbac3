"""--device pinning, the 72B shapes, random weights built through the multi-device path, and the
multi-GPU check script's CPU path (the same code minus the split)."""
import json
import os
import subprocess
import sys

import pytest
import torch
from transformers import AutoConfig, AutoModelForCausalLM

from conftest import PY_SIDECAR, TINY_CONFIG
from sempress_sidecar.devices import DeviceError, pin, visible_devices, wants_cuda


def test_when_a_gpu_is_asked_for_then_only_it_is_visible_counting_the_gpus_the_process_was_given():
    assert visible_devices("cuda:1", None) == "1"
    assert visible_devices("cuda:0+cuda:1", None) == "0,1"
    assert visible_devices("cuda:1", "4,5") == "5"  # a scheduler gave us GPUs 4 and 5
    assert visible_devices("cpu", "0,1") == ""


@pytest.mark.parametrize("spec,current,msg", [
    ("gpu0", None, "expected cpu"), ("cuda:2", "0,1", "shows 2 GPU"), ("cuda:0+cuda:0", None, "twice"), ("cuda:", None, "expected"),
])
def test_when_the_device_cannot_be_honoured_then_the_error_names_it(spec, current, msg):
    with pytest.raises(DeviceError, match=msg):
        visible_devices(spec, current)


def test_when_pinned_then_the_environment_says_so_and_no_device_leaves_it_alone():
    env = {"CUDA_VISIBLE_DEVICES": "2,3"}
    assert pin("cuda:1", env) == "3" and env["CUDA_VISIBLE_DEVICES"] == "3"
    env2: dict = {}
    assert pin(None, env2) is None and env2 == {}
    assert (wants_cuda("cpu"), wants_cuda("cuda:0"), wants_cuda(None)) == (False, True, None)


def test_qwen25_72b_config_has_the_public_model_shapes():
    cfg = AutoConfig.from_pretrained(str(PY_SIDECAR / "configs" / "qwen2.5-72b-instruct.json"))
    with torch.device("meta"):
        m = AutoModelForCausalLM.from_config(cfg)
    theta = cfg.rope_theta if hasattr(cfg, "rope_theta") else cfg.rope_parameters["rope_theta"]
    assert (cfg.num_hidden_layers, cfg.hidden_size, cfg.num_attention_heads, cfg.num_key_value_heads) == (80, 8192, 64, 8)
    assert (cfg.intermediate_size, cfg.vocab_size, theta, cfg.rms_norm_eps) == (29568, 152064, 1e6, 1e-6)
    assert m.lm_head.weight is not m.model.embed_tokens.weight
    n = sum(p.numel() for p in m.parameters())
    assert 72.5e9 < n < 72.9e9, n  # Qwen2.5-72B has 72.7B parameters (≈145 GB in bf16)


def test_when_built_through_the_spread_path_on_one_device_then_it_is_the_same_architecture_with_the_same_init():
    from sempress_sidecar.loading import build_context, random_context

    spread = random_context(str(TINY_CONFIG), ["cpu"])
    plain = build_context(f"random:{TINY_CONFIG}")
    a, b = dict(spread.model.named_parameters()), dict(plain.model.named_parameters())
    assert a.keys() == b.keys()
    for name in a:
        assert a[name].shape == b[name].shape and a[name].device.type == "cpu", name
        assert abs(float(a[name].detach().std()) - float(b[name].detach().std())) < 0.03, name
    assert spread.model.lm_head.weight is spread.model.model.embed_tokens.weight  # still tied
    assert torch.equal(dict(spread.model.named_buffers())["model.rotary_emb.inv_freq"],
                       dict(plain.model.named_buffers())["model.rotary_emb.inv_freq"])
    again = random_context(str(TINY_CONFIG), ["cpu"])
    assert torch.equal(again.model.model.layers[1].mlp.up_proj.weight, spread.model.model.layers[1].mlp.up_proj.weight)


def test_when_the_multi_gpu_check_runs_on_cpu_then_every_op_reports_a_rate_and_its_checks_hold():
    script = PY_SIDECAR / "bench" / "multi_gpu_check.py"
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    r = subprocess.run([sys.executable, str(script), "--config", str(TINY_CONFIG), "--devices", "cpu", "--prompts", "2"],
                       capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert lines[0]["facts"]["layers_per_device"] == {"cpu": 3}
    ops = {x["op"]: x for x in lines if "op" in x}
    assert set(ops) == {"hello", "score", "generate_greedy", "generate_sampled", "trace", "logit_lens", "decompose", "patch"}
    for name, x in ops.items():
        assert x["ok"] and x["rate"] > 0, (name, x)
    assert ops["logit_lens"]["lens_vs_score_max_abs"] < 1e-4
    assert ops["decompose"]["telescoping_max_abs"] == 0.0
    assert lines[-1]["ok"] is True


def test_when_the_sidecar_gets_a_bad_device_then_it_exits_2_naming_it_before_loading_anything():
    env = {**os.environ, "PYTHONPATH": str(PY_SIDECAR)}
    r = subprocess.run([sys.executable, "-m", "sempress_sidecar", "--model", f"random:{TINY_CONFIG}",
                        "--endpoint", "tcp://127.0.0.1:5999", "--device", "gpu0"],
                       capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 2
    assert "--device 'gpu0'" in r.stderr and "loaded" not in r.stderr


def test_when_accelerate_hooks_sit_on_every_block_then_every_op_gives_the_plain_models_numbers(ops):
    """What a device_map split adds to a model (accelerate's align-device hooks on each block, and on the
    model its output gatherer) must not disturb sempress's own hooks: on one CPU the numbers stay the same."""
    from accelerate import dispatch_model

    from sempress_sidecar.loading import build_context

    plain = build_context(f"random:{TINY_CONFIG}")
    hooked = build_context(f"random:{TINY_CONFIG}")
    blocks = ["model.embed_tokens", *(f"model.layers.{i}" for i in range(hooked.n_layers)), "model.norm", "model.rotary_emb", "lm_head"]
    hooked.model = dispatch_model(hooked.model, device_map={b: "cpu" for b in blocks}, force_hooks=True)
    assert hasattr(hooked.model.model.layers[1], "_hf_hook")
    tok = plain.tokenizer
    a, b = (tok(t, add_special_tokens=False)["input_ids"] for t in ("Answer with one word. The sky is", "Do not say blue. The sky is"))
    conts = [tok(w, add_special_tokens=False)["input_ids"] for w in (" blue", " grey")]
    calls = [
        ("score", {"items": [{"prefix": a, "continuations": conts}, {"prefix": b, "continuations": conts}]}),
        ("generate", {"prompts": [a, b], "max_new_tokens": 3, "do_sample": False}),
        ("generate", {"prompts": [a, b], "max_new_tokens": 3, "do_sample": True, "n": 2, "seeds": [1, 2]}),
        ("trace", {"sequences": [a, b], "mode": "decision"}),
        ("logit_lens", {"items": [{"ids": a, "token_ids": [conts[0][0]]}, {"ids": b, "token_ids": [conts[1][0]]}]}),
        ("decompose", {"items": [{"ids": a, "token_ids": [conts[0][0]]}]}),
        ("patch", {"items": [{"source": a, "target": b, "continuations": conts}], "sites": ["resid", "attn"]}),
    ]
    for op, args in calls:
        assert ops(hooked, op, **args) == ops(plain, op, **args), op
