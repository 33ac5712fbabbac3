"""Shared fixtures: the tiny random Qwen2 model (built once per session) and a real sidecar subprocess."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch: see sempress_sidecar/__main__.py

import msgpack
import pytest
import zmq

PY_SIDECAR = Path(__file__).resolve().parents[1]
TINY_CONFIG = PY_SIDECAR / "configs" / "qwen2-tiny.json"
sys.path.insert(0, str(PY_SIDECAR))


@pytest.fixture(scope="session")
def tiny_ctx():
    from sempress_sidecar.loading import build_context

    return build_context(f"random:{TINY_CONFIG}")


@pytest.fixture(scope="session")
def embedded_ctx():
    """The embedded default model (slow to load: share this one fixture across test files)."""
    from sempress_sidecar import embedded
    from sempress_sidecar.loading import build_context

    try:
        embedded.resolve()
    except embedded.EmbeddedMissing as e:
        pytest.fail(f"embedded model not installed: {e}")
    return build_context("default")


@pytest.fixture(scope="session")
def ops():
    from sempress_sidecar.ops import WHITELIST
    from sempress_sidecar.protocol import ARG_PARSERS

    def call(ctx, op: str, **args):
        return WHITELIST[op](ctx, ARG_PARSERS[op](args))

    return call


class SidecarProc:
    """A real ``python -m sempress_sidecar`` child on a private ipc endpoint, with a DEALER to talk to it."""

    def __init__(self, model: str, extra: list[str] | None = None, start_timeout: float = 120.0) -> None:
        self.dir = tempfile.mkdtemp(prefix="sempress-test-")
        os.chmod(self.dir, 0o700)
        self.endpoint = f"ipc://{self.dir}/s.sock"
        env = {**os.environ, "PYTHONPATH": str(PY_SIDECAR), "PYTHONUNBUFFERED": "1"}
        # files, not pipes: an unread pipe could fill up and block the server
        self.out = open(os.path.join(self.dir, "stdout"), "w+b")
        self.err = open(os.path.join(self.dir, "stderr"), "w+b")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sempress_sidecar", "--model", model, "--endpoint", self.endpoint, *(extra or [])],
            stdout=self.out, stderr=self.err, env=env, cwd=str(PY_SIDECAR.parent),
        )
        self.zctx = zmq.Context()
        self.sock = self.zctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.connect(self.endpoint)
        self.n = 0
        self.start_timeout = start_timeout
        self.closed: tuple[bytes, bytes] | None = None

    def send_raw(self, payload: bytes, timeout: float | None = None) -> dict:
        self.sock.send(payload)
        if not self.sock.poll(int((timeout or self.start_timeout) * 1000)):
            raise TimeoutError(f"no reply; sidecar exit={self.proc.poll()}")
        return msgpack.unpackb(self.sock.recv(), raw=False)

    def call(self, op: str, args: dict | None = None, timeout: float | None = None) -> dict:
        self.n += 1
        msg = {"v": 1, "id": f"t{self.n}", "op": op, "args": args or {}}
        return self.send_raw(msgpack.packb(msg, use_bin_type=True), timeout)

    def close(self) -> tuple[bytes, bytes]:
        if self.closed is not None:
            return self.closed
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)
        out, err = (f.seek(0) or f.read() for f in (self.out, self.err))
        self.out.close()
        self.err.close()
        self.sock.close()
        self.zctx.term()
        shutil.rmtree(self.dir, ignore_errors=True)
        self.closed = (out, err)
        return out, err


@pytest.fixture(scope="module")
def tiny_server() -> Iterator[SidecarProc]:
    sp = SidecarProc(f"random:{TINY_CONFIG}")
    try:
        yield sp
    finally:
        sp.close()
