"""``python -m sempress_sidecar --model M --endpoint E``: load the model, then serve until ``shutdown``.

stdout stays empty (it is redirected to stderr before anything loads); logs go to stderr.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from datetime import datetime, timezone


class IsoFormatter(logging.Formatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return datetime.fromtimestamp(record.created, tz=timezone.utc).isoformat(timespec="milliseconds")


def setup_logging(level: str = "INFO") -> None:
    from .server import RequestId

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(IsoFormatter("%(asctime)s %(levelname)s [%(rid)s] %(name)s: %(message)s"))
    handler.addFilter(RequestId())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sempress_sidecar", description=__doc__)
    ap.add_argument("--model", required=True, help="default | HF id or dir | file.gguf | random:<config.json>")
    ap.add_argument("--endpoint", required=True, help="ipc://<path> | tcp://127.0.0.1:<port> | tcp://[::1]:<port>")
    ap.add_argument("--tokenizer", default=None, help="tokenizer dir (random: models; default the Qwen tokenizer)")
    ap.add_argument("--max-batch-tokens", type=int, default=None, help="tokens per forward batch")
    ap.add_argument("--log-level", default=os.environ.get("SEMPRESS_SIDECAR_LOG", "INFO"))
    ns = ap.parse_args(argv)

    real_stdout = sys.stdout
    sys.stdout = sys.stderr  # a stray print from any library must never reach stdout
    setup_logging(ns.log_level.upper())
    log = logging.getLogger("sempress.main")

    from .server import EndpointError, check_endpoint

    try:
        check_endpoint(ns.endpoint)
    except EndpointError as e:
        log.error("%s", e)
        return 2

    def _term(signum: int, _frame: object) -> None:
        log.info("signal %d: exiting", signum)
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _term)

    from .loading import LoadError, load
    from .server import serve

    try:
        ctx = load(ns.model, ns.tokenizer, ns.max_batch_tokens)
    except LoadError as e:
        log.error("cannot load model: %s", e)
        return 3
    try:
        return serve(ctx, ns.endpoint)
    except KeyboardInterrupt:
        return 130
    finally:
        sys.stdout = real_stdout


if __name__ == "__main__":
    sys.exit(main())
