"""ZeroMQ ROUTER loop: one request at a time, every reply tagged with the request id.

A malformed or failing request gets an error reply; nothing a client sends can stop the loop except
``shutdown``.
"""
from __future__ import annotations

import logging
import os
import time
import traceback
from typing import Any

import msgpack
import zmq

from . import protocol as P
from .context import ModelContext
from .endpoint import check_endpoint
from .logs import RequestId
from .ops import WHITELIST

log = logging.getLogger("sempress.server")

def _error(code: str, exc: BaseException | None, message: str | None = None) -> dict:
    return {
        "code": code,
        "type": type(exc).__name__ if exc is not None else "SidecarError",
        "message": message if message is not None else str(exc),
        "traceback": "".join(traceback.format_exception(exc)) if exc is not None else None,
    }


def _is_oom(e: BaseException) -> bool:
    import torch

    oom = getattr(torch, "OutOfMemoryError", None) or getattr(torch.cuda, "OutOfMemoryError", None)
    return isinstance(e, MemoryError) or (oom is not None and isinstance(e, oom)) or "out of memory" in str(e).lower()


def handle(ctx: ModelContext, payload: bytes) -> tuple[dict, bool]:
    """Decode, validate, dispatch. Returns (reply, shutdown?). Never raises."""
    rid: Any = None
    try:
        msg = msgpack.unpackb(payload, raw=False)
    except Exception as e:  # noqa: BLE001 - any undecodable bytes
        return {"v": P.PROTOCOL_VERSION, "id": None, "ok": False, "error": _error(P.BAD_REQUEST, e, f"malformed msgpack: {e}")}, False
    if isinstance(msg, dict) and isinstance(msg.get("id"), str):
        rid = msg["id"]
    RequestId.current = rid if rid is not None else "-"
    try:
        rid, op, raw_args = P.parse_request(msg)
        fn = WHITELIST.get(op)
        parse = P.ARG_PARSERS.get(op)
        if fn is None or parse is None:
            raise P.UnknownOp(f"unknown op {op!r}; known: {', '.join(sorted(WHITELIST))}")
        args = parse(raw_args)
        log.info("op %s", op)
        t0 = time.perf_counter()
        result = fn(ctx, args)
        log.info("op %s done in %.0f ms", op, (time.perf_counter() - t0) * 1000)
        return {"v": P.PROTOCOL_VERSION, "id": rid, "ok": True, "result": result}, op == "shutdown"
    except P.SidecarError as e:
        log.warning("%s: %s", e.code, e)
        return {"v": P.PROTOCOL_VERSION, "id": rid, "ok": False, "error": _error(e.code, e)}, False
    except Exception as e:  # noqa: BLE001
        if _is_oom(e):
            code = P.OUT_OF_MEMORY
            _free_memory()
        elif isinstance(e, (RuntimeError, IndexError, ValueError)):
            code = P.MODEL_ERROR
        else:
            code = P.INTERNAL
        log.error("%s: %s: %s", code, type(e).__name__, e)
        return {"v": P.PROTOCOL_VERSION, "id": rid, "ok": False, "error": _error(code, e)}, False


def _free_memory() -> None:
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def _pack(reply: dict) -> bytes:
    try:
        return msgpack.packb(reply, use_bin_type=True)
    except Exception as e:  # noqa: BLE001 - an op returned something msgpack cannot carry
        bad = {"v": reply.get("v"), "id": reply.get("id"), "ok": False,
               "error": _error(P.INTERNAL, e, f"result not serialisable: {e}")}
        return msgpack.packb(bad, use_bin_type=True)


def serve(ctx: ModelContext, endpoint: str) -> int:
    check_endpoint(endpoint)
    zctx = zmq.Context.instance()
    sock = zctx.socket(zmq.ROUTER)
    sock.setsockopt(zmq.LINGER, 2000)
    if endpoint.startswith("tcp://["):
        sock.setsockopt(zmq.IPV6, 1)
    old = os.umask(0o077)  # an ipc socket file only its owner can use
    try:
        sock.bind(endpoint)
    finally:
        os.umask(old)
    log.info("ready (pid %d) on %s", os.getpid(), endpoint)
    try:
        while True:
            frames = sock.recv_multipart()
            if len(frames) < 2:
                log.warning("dropping message with %d frame(s): no routing identity", len(frames))
                continue
            envelope, payload = frames[:-1], frames[-1]
            reply, stop = handle(ctx, payload)
            sock.send_multipart([*envelope, _pack(reply)])
            RequestId.current = "-"
            if stop:
                log.info("shutdown requested")
                return 0
    finally:
        sock.close()
        zctx.term()
