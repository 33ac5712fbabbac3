"""Which endpoints the sidecar may bind: a private ipc:// path or loopback TCP. Nothing else."""
from __future__ import annotations

import re

_TCP_RE = re.compile(r"^tcp://(127\.0\.0\.1|\[::1\]):(\d{1,5})$")


class EndpointError(ValueError):
    pass


def check_endpoint(endpoint: str) -> str:
    """Return the endpoint unchanged, or raise EndpointError saying what is allowed."""
    if endpoint.startswith("ipc://"):
        path = endpoint[len("ipc://"):]
        if not path or path.startswith("@") or "\x00" in path:
            raise EndpointError(f"ipc endpoint needs a filesystem path: {endpoint!r}")
        return endpoint
    m = _TCP_RE.match(endpoint)
    if not m:
        raise EndpointError(
            f"refusing endpoint {endpoint!r}: only ipc://<path>, tcp://127.0.0.1:<port> or tcp://[::1]:<port>"
        )
    port = int(m.group(2))
    if not 1 <= port <= 65535:
        raise EndpointError(f"port out of range in {endpoint!r}")
    return endpoint
