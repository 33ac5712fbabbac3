"""Hugging Face hub ids → a local snapshot directory, the way HF users expect.

A hub id (``Qwen/Qwen2.5-7B-Instruct``) is fetched into the HF cache with huggingface_hub's own
``snapshot_download``, so ``HF_HOME``/``HF_HUB_CACHE``, ``HF_ENDPOINT``, ``HF_HUB_OFFLINE`` and
``HF_TOKEN`` mean what they mean everywhere else; a cached snapshot is reused. Only config, tokenizer and
safetensors files are fetched, never pickled ``*.bin`` weights; ``*.py`` files only with trust_remote_code.
Progress bars go to stderr.

``python -m sempress_sidecar.hub pull <id> [--revision R]`` fetches ahead of a run and prints one JSON
document on stdout: ``{id, revision, commit, path, files, bytes}``.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

log = logging.getLogger("sempress.hub")

META_FILES = [
    "config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
    "special_tokens_map.json", "added_tokens.json", "vocab.json", "merges.txt", "tokenizer.model",
    "chat_template.jinja", "chat_template.json",
]
"""Everything transformers reads besides the weights (top level only)."""
WEIGHT_FILES = ["model.safetensors", "model.safetensors.index.json", "model-*-of-*.safetensors"]
"""Safetensors weights: one file, or an index and its shards. Never ``*.bin``/``*.pt`` (pickle)."""
REMOTE_CODE_FILES = ["*.py"]

# owner/name or a legacy single name (gpt2); each part letters, digits, '-', '_', '.'; no '--' or '..'
_REPO_ID = re.compile(r"^(?:[A-Za-z0-9][\w.-]{0,95}/)?[A-Za-z0-9][\w.-]{0,95}$")

_TRUST_REMOTE_CODE = False


class HubError(RuntimeError):
    """The hub id could not be resolved to a complete local snapshot; the message says what to do."""


def set_trust_remote_code(on: bool) -> None:
    """Process-wide: the sidecar's ``--trust-remote-code`` flag (off unless the user says so)."""
    global _TRUST_REMOTE_CODE
    _TRUST_REMOTE_CODE = bool(on)


def trust_remote_code() -> bool:
    return _TRUST_REMOTE_CODE


def is_hub_id(name: str) -> bool:
    """``owner/name`` (or a bare legacy name) that is not an existing local path."""
    if not _REPO_ID.match(name) or "--" in name or ".." in name or name.endswith((".", "-")):
        return False
    return not Path(name).expanduser().exists()


def cache_dir() -> str:
    from huggingface_hub import constants

    return constants.HF_HUB_CACHE


def endpoint() -> str:
    from huggingface_hub import constants

    return constants.ENDPOINT


def offline() -> bool:
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


@dataclass
class Snapshot:
    """A hub model in the local HF cache."""

    id: str
    revision: str
    commit: str
    path: str
    files: list[str]
    bytes: int


def fetch(repo_id: str, revision: str | None = None, *, weights: bool = True,
          remote_code: bool | None = None) -> Snapshot:
    """The local snapshot of ``repo_id``: downloaded into the HF cache when missing (unless offline).

    ``weights=False`` fetches only config and tokenizer files. Raises HubError with one readable line.
    """
    if not is_hub_id(repo_id):
        raise HubError(f"{repo_id!r} is not a Hugging Face hub id (owner/name) and not an existing local directory")
    rev = revision or "main"
    code = trust_remote_code() if remote_code is None else remote_code
    patterns = META_FILES + (WEIGHT_FILES if weights else []) + (REMOTE_CODE_FILES if code else [])
    path = Path(_snapshot(repo_id, rev, patterns))
    if weights:
        missing = _missing_shards(path)
        if missing:  # shards named unusually: fetch exactly what the index lists
            path = Path(_snapshot(repo_id, rev, missing))
            still = _missing_shards(path)
            if still:
                raise HubError(f"{repo_id}@{rev}: the weight index names files the hub does not serve: {', '.join(still[:3])}")
        if not (path / "model.safetensors").is_file() and not (path / "model.safetensors.index.json").is_file():
            raise HubError(
                f"{repo_id}@{rev} has no safetensors weights (model.safetensors or an index); sempress never loads "
                "pickled *.bin weights"
            )
    if weights and not (path / "config.json").is_file():
        raise HubError(f"{repo_id}@{rev} has no config.json: not a transformers model repo")
    files = sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file())
    size = sum((path / f).stat().st_size for f in files)  # stat follows the cache's symlinks to the blobs
    return Snapshot(id=repo_id, revision=rev, commit=path.name, path=str(path), files=files, bytes=size)


def _snapshot(repo_id: str, rev: str, patterns: list[str]) -> str:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError, HfHubHTTPError, IncompleteSnapshotError, LocalEntryNotFoundError, RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    for name in ("httpx", "httpx2"):  # one INFO line per request is noise; errors still surface
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        return snapshot_download(repo_id, revision=rev, allow_patterns=patterns)
    except GatedRepoError as e:
        raise HubError(f"{repo_id} is gated on {endpoint()}: accept its licence on the hub and set HF_TOKEN") from e
    except RepositoryNotFoundError as e:
        raise HubError(
            f"{repo_id} was not found on {endpoint()} (a typo, or a private repo: set HF_TOKEN)"
        ) from e
    except RevisionNotFoundError as e:
        raise HubError(f"{repo_id} has no revision {rev!r} on {endpoint()}") from e
    except IncompleteSnapshotError as e:
        raise HubError(
            f"{repo_id}: the cached snapshot at {e.snapshot_path} is incomplete and the hub cannot be reached "
            f"({'offline mode is on' if offline() else endpoint()}): run `npx sempress model pull {repo_id}` online"
        ) from e
    except LocalEntryNotFoundError as e:
        where = os.path.join(cache_dir(), "models--" + repo_id.replace("/", "--"))
        if offline():
            raise HubError(
                f"{repo_id} is not in the HF cache at {where} and offline mode is on (HF_HUB_OFFLINE=1): "
                f"run `npx sempress model pull {repo_id}` with network access, or unset HF_HUB_OFFLINE"
            ) from e
        raise HubError(f"{repo_id} is not in the HF cache at {where} and {endpoint()} could not be reached") from e
    except HfHubHTTPError as e:
        status = getattr(getattr(e, "response", None), "status_code", None)
        if status in (401, 403):
            raise HubError(f"{repo_id}: {endpoint()} refused access (HTTP {status}): set HF_TOKEN to a token that may read it") from e
        raise HubError(f"{repo_id}: {endpoint()} answered HTTP {status}") from e
    except OSError as e:  # disk full, unwritable cache, incomplete snapshot offline
        raise HubError(f"{repo_id}: {type(e).__name__}: {_first_line(e)}") from e


def _missing_shards(path: Path) -> list[str]:
    index = path / "model.safetensors.index.json"
    if not index.is_file():
        return []
    weight_map = json.loads(index.read_text(encoding="utf-8")).get("weight_map", {})
    return sorted({f for f in weight_map.values() if not (path / f).is_file()})


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [""])[0]


# ---------------------------------------------------------------- CLI

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sempress_sidecar.hub", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    pull = sub.add_parser("pull", help="fetch a hub model into the HF cache; JSON on stdout")
    pull.add_argument("id", help="hub id, e.g. Qwen/Qwen2.5-7B-Instruct")
    pull.add_argument("--revision", default=None, help="branch, tag or commit (default main)")
    pull.add_argument("--trust-remote-code", action="store_true", help="also fetch the repo's *.py files")
    pull.add_argument("--log-level", default=os.environ.get("SEMPRESS_SIDECAR_LOG", "INFO"))
    ns = ap.parse_args(argv)

    # stdout carries the one JSON document; anything else printed (Python or C level) goes to stderr
    sys.stdout.flush()
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    from .logs import setup_logging

    setup_logging(ns.log_level.upper())
    if not is_hub_id(ns.id):
        log.error("%r is not a hub id (owner/name)%s; `model pull` only fetches from the hub", ns.id,
                  ": it is a local path" if Path(ns.id).expanduser().exists() else "")
        return 2
    try:
        snap = fetch(ns.id, ns.revision, remote_code=ns.trust_remote_code)
    except HubError as e:
        log.error("%s", e)
        return 3
    log.info("%s@%s: %d files, %d bytes in %s", snap.id, snap.commit[:12], len(snap.files), snap.bytes, snap.path)
    out.write(json.dumps(asdict(snap)) + "\n")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
