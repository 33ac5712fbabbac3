"""stderr logging with ISO-8601 UTC timestamps and the current request id on every line."""
from __future__ import annotations

import logging
import sys
from datetime import datetime, timezone


class RequestId(logging.Filter):
    """Puts the current request id on every log record (``-`` between requests)."""

    current = "-"

    def filter(self, record: logging.LogRecord) -> bool:
        record.rid = RequestId.current
        return True


class IsoFormatter(logging.Formatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return datetime.fromtimestamp(record.created, tz=timezone.utc).isoformat(timespec="milliseconds")


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(IsoFormatter("%(asctime)s %(levelname)s [%(rid)s] %(name)s: %(message)s"))
    handler.addFilter(RequestId())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
