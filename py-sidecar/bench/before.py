"""The sidecar package as it was at a git revision, importable next to the current one in the same process.

    old = load_at("2415c2a")          # module ``sempress_sidecar_at_2415c2a``
    old.ops.WHITELIST["score"](ctx, args)

The package's files at that revision are written to a temporary directory under another top-level name;
its relative imports stay inside it, so old and new ops run on the same loaded model (a ``ModelContext``
is duck-typed: both read the same attributes). Used by ops_bench.py for before/after numbers.
"""
from __future__ import annotations

import atexit
import importlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]
PACKAGE = "py-sidecar/sempress_sidecar"


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(REPO), *args], check=True, capture_output=True, text=True).stdout


def load_at(rev: str) -> ModuleType:
    """Import ``sempress_sidecar`` as of ``rev`` as ``sempress_sidecar_at_<short rev>``; its submodules
    (``.ops``, ``.patching`` …) are imported too. Raises CalledProcessError for an unknown revision."""
    short = _git("rev-parse", "--short", rev).strip()
    name = f"sempress_sidecar_at_{short}"
    if name in sys.modules:
        return sys.modules[name]
    root = Path(tempfile.mkdtemp(prefix="sempress-before-"))
    atexit.register(shutil.rmtree, root, True)
    pkg = root / name
    pkg.mkdir()
    for path in _git("ls-tree", "--name-only", f"{rev}:{PACKAGE}").split():
        if path.endswith(".py"):
            (pkg / path).write_text(_git("show", f"{rev}:{PACKAGE}/{path}"))
    sys.path.insert(0, str(root))
    mod = importlib.import_module(name)
    for sub in ("ops_forward", "mechanistic", "patching", "ops"):
        if (pkg / f"{sub}.py").exists():
            setattr(mod, sub, importlib.import_module(f"{name}.{sub}"))
    return mod
