"""``python -m sempress_sidecar --model M --endpoint E``: load the model, then serve until ``shutdown``.

stdout stays empty (it is redirected to stderr before anything loads); logs go to stderr.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys

# Before torch loads OpenMP: spinning worker threads make small CPU matmuls 10-30x slower whenever the
# cores are shared (measured: a 30-token forward of a 135M model, 15 s spinning vs 0.8 s passive).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def _die_with_parent() -> None:
    """Ask Linux to send SIGTERM when the parent (the TS client) dies, even by SIGKILL, so a crashed
    client never leaves a model-holding process behind. Elsewhere this is a no-op."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() == 1:  # the parent is already gone
            os.kill(os.getpid(), signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sempress_sidecar", description=__doc__)
    ap.add_argument("--model", required=True, help="default | HF id or dir | file.gguf | random:<config.json>")
    ap.add_argument("--endpoint", required=True, help="ipc://<path> | tcp://127.0.0.1:<port> | tcp://[::1]:<port>")
    ap.add_argument("--tokenizer", default=None, help="tokenizer dir (random: models; default the Qwen tokenizer)")
    ap.add_argument("--max-batch-tokens", type=int, default=None, help="tokens per forward batch")
    ap.add_argument("--device", default=None,
                    help="cpu | cuda:N | cuda:N+cuda:M… (pins the process via CUDA_VISIBLE_DEVICES; default: what is visible)")
    ap.add_argument("--trust-remote-code", action="store_true",
                    help="let a hub model run its own Python code (off unless asked; only for repos you trust)")
    ap.add_argument("--log-level", default=os.environ.get("SEMPRESS_SIDECAR_LOG", "INFO"))
    ns = ap.parse_args(argv)

    # stdout carries nothing: stray prints, Python or C level, land on stderr instead
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    from .logs import setup_logging

    setup_logging(ns.log_level.upper())
    log = logging.getLogger("sempress.main")

    from .devices import DeviceError, pin, wants_cuda
    from .endpoint import EndpointError, check_endpoint

    try:
        check_endpoint(ns.endpoint)
        pinned = pin(ns.device)  # before anything initialises CUDA
    except (EndpointError, DeviceError) as e:
        log.error("%s", e)
        return 2
    if pinned is not None:
        log.info("device %s: CUDA_VISIBLE_DEVICES=%r", ns.device, pinned)

    def _term(signum: int, _frame: object) -> None:
        log.info("signal %d: exiting", signum)
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _term)
    _die_with_parent()

    from .hub import set_trust_remote_code
    from .loading import LoadError, load
    from .server import serve

    set_trust_remote_code(ns.trust_remote_code)
    try:
        ctx = load(ns.model, ns.tokenizer, ns.max_batch_tokens, wants_cuda(ns.device))
    except LoadError as e:
        log.error("cannot load model: %s", e)
        return 3
    try:
        return serve(ctx, ns.endpoint)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
